"""民政数据比对: the round trip with civil affairs.

A chair sends the households of a union that signed a consent (授权书, with
the date it was signed) as a workbook in the layout civil affairs asks for
(`layouts`), recorded as a `CivilBatch` with the file's checksum and the
households left out for lack of consent (`export`). Civil affairs answers
per ID number; the answer goes through the imports' upload → check →
confirm (`sheet`, `compare`). Each difference becomes a suggestion a
caseworker accepts or rejects with a reason; accepted ones change the file
through the cases services (`review`). `selectors` reads batches within
the person's scope, with the figures per batch and union.
"""
