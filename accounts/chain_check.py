#!/usr/bin/env python3
"""Check an audit-trail export (审计核验) with nothing but Python's standard
library.

    python3 verify.py audit-export.zip

The export holds, for each hash-chained table, its rows of a period as JSON
lines, each with the row's content (in canonical form), its content digest,
its sequence number in the chain and its chain hash; the daily digests that
bound the period; and the redactions the retention job recorded for those
rows. This script recomputes every digest and every link, checks that each
daily digest names the hash the chain really has at that point, and prints
the first row that does not match. Exit status 0: everything matches; 1: a
mismatch (named on the last line); 2: the file cannot be read.

The server computes digests and links with the functions below (the product
imports this very file, accounts/chain_check.py), so the two cannot differ.
"""

import hashlib
import json
import sys
import zipfile
from collections.abc import Iterator
from typing import Any

GENESIS = "0" * 64
DIGEST_CHAIN = "accounts.chaindigest"


def canonical_json(content: Any) -> bytes:
    """One spelling for a row's content: keys sorted, no spaces, UTF-8."""
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def content_digest(content: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(content)).hexdigest()


def link_hash(chain: str, seq: int, prev: str, digest: str) -> str:
    """A row's chain hash: its place (chain, seq), the hash of the row before
    it and its own content digest."""
    return hashlib.sha256(f"{chain}|{seq}|{prev}|{digest}".encode()).hexdigest()


def redacted_to(stored: str, steps: list[tuple[str, str]]) -> str:
    """The content digest a row should have now: its digest when written,
    carried through each recorded redaction (before → after) in order."""
    current = stored
    for before, after in steps:
        if before == current:
            current = after
    return current


class Mismatch(Exception):
    def __init__(self, chain: str, seq: int, row_id: Any, reason: str) -> None:
        super().__init__(f"{chain} seq={seq} id={row_id}: {reason}")


def _lines(archive: zipfile.ZipFile, name: str) -> Iterator[dict[str, Any]]:
    with archive.open(name) as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def verify(path: str) -> tuple[int, list[str]]:
    """Check the export at `path`; return (rows checked, notes). Raises
    Mismatch at the first row that does not match."""
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        redactions: dict[tuple[str, int], list[tuple[str, str]]] = {}
        for row in _lines(archive, "redactions.jsonl"):
            content = row["content"]
            if content_digest(content) != row["digest"]:
                raise Mismatch("accounts.redaction", row["seq"], row["id"], "content changed")
            key = (content["chain"], content["row_seq"])
            redactions.setdefault(key, []).append((content["before"], content["after"]))
        # The digest chain comes first: the (chain, seq) → head hash its
        # daily rows name, checked as the other chains go past.
        named: dict[tuple[str, int], dict[str, Any]] = {}
        checked, notes = 0, []
        for chain in manifest["chains"]:
            name, prev = chain["chain"], chain["prev_hash"]
            seq = chain["first_seq"] - 1
            if name != DIGEST_CHAIN:
                _bound(named, name, seq, prev, start=True)
            for row in _lines(archive, chain["file"]):
                seq += 1
                if row["seq"] != seq:
                    raise Mismatch(name, row["seq"], row["id"], f"expected seq {seq}")
                if link_hash(name, seq, prev, row["digest"]) != row["hash"]:
                    raise Mismatch(name, seq, row["id"], "chain hash does not match")
                actual = content_digest(row["content"])
                if actual != row["digest"]:
                    steps = redactions.get((name, seq), [])
                    if not steps or redacted_to(row["digest"], steps) != actual:
                        raise Mismatch(name, seq, row["id"], "content changed")
                    notes.append(f"{name} seq={seq} id={row['id']}: redacted (retention)")
                prev = row["hash"]
                if name == DIGEST_CHAIN:
                    content = row["content"]
                    named[(content["chain"], content["last_seq"])] = content
                elif (name, seq) in named:
                    _bound(named, name, seq, prev, start=False)
                checked += 1
            if seq != chain["last_seq"]:
                raise Mismatch(name, seq, "-", f"rows end before seq {chain['last_seq']}")
            if name != DIGEST_CHAIN and (name, seq) not in named:
                raise Mismatch(name, seq, "-", "no daily digest names the last row")
        return checked, notes


def _bound(
    named: dict[tuple[str, int], dict[str, Any]], chain: str, seq: int, hash_: str, *, start: bool
) -> None:
    """The hash at (chain, seq) must be the one the daily digest names (or
    the start of the chain, before its first row)."""
    digest = named.get((chain, seq))
    if digest is None:
        if start and seq == 0 and hash_ == GENESIS:
            return
        raise Mismatch(chain, seq, "-", "no daily digest names the row before the first")
    if digest["head_hash"] != hash_:
        raise Mismatch(chain, seq, "-", f"the daily digest of {digest['day']} names another hash")


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python3 verify.py <export.zip>", file=sys.stderr)
        return 2
    try:
        checked, notes = verify(argv[1])
    except Mismatch as exc:
        print(f"MISMATCH {exc}")
        return 1
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        print(f"cannot read the export: {exc}", file=sys.stderr)
        return 2
    for note in notes:
        print(note)
    print(f"OK {checked} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
