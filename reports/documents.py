"""Making a document file: the generator's data, drawn by a renderer, the
export written to the audit trail. Small documents are made inside the
request; big ones by the background job kind "document", which re-checks
the person's access before it reads a row."""

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connections, transaction
from django.http import QueryDict
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.db import reading_from_replica
from accounts.models import User

from .generators import REGISTRY
from .generators.base import PDF, XLSX, Document, Generator
from .jobs import JobOutput, Progress, job_kind
from .models import Job
from .render import CONTENT_TYPES, render

# More rows than this and the file is made by the background worker.
BACKGROUND_ROWS = 3000
# A PDF page holds ~25 rows and WeasyPrint lays out roughly 100 rows a
# second on a busy server: beyond this a PDF would keep the request (and
# the person) waiting longer than a web worker should.
BACKGROUND_PDF_ROWS = 500


@dataclass
class Output:
    filename: str
    content: bytes
    content_type: str
    rows: int


@contextmanager
def one_snapshot() -> Iterator[None]:
    """A document reads its totals (one query) and its rows (another,
    streamed); both must see the same ledger even while someone is paying.
    On PostgreSQL the document is read in one REPEATABLE READ transaction,
    on the read replica when there is one (the export is still recorded on
    the primary). SQLite (development only) is left alone: there a long
    read transaction would hold off every payment until the file is written.

    Nothing is written inside it: the audit trail is a hash chain whose head
    other writers move, and PostgreSQL refuses a REPEATABLE READ transaction
    that writes a row changed since it began (a serialization failure). A
    document is drawn in the snapshot (`draw`) and its export recorded after
    it (`export_record`)."""
    with reading_from_replica() as alias:
        connection = connections[alias]
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            yield
            return
        with transaction.atomic(using=alias):
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            yield


def in_background(document: Document, fmt: str) -> bool:
    limit = BACKGROUND_PDF_ROWS if fmt == PDF else BACKGROUND_ROWS
    return document.rows > limit


def draw(
    document: Document, fmt: str, *, archive: bool = False, progress: Progress | None = None
) -> Output:
    content = render(document, fmt, archive=archive and fmt == PDF, progress=progress)
    return Output(
        filename=f"{document.filename}.{fmt}",
        content=content,
        content_type=CONTENT_TYPES[fmt],
        rows=document.rows,
    )


def export_record(*, user: User, document: Document, fmt: str, archive: bool = False) -> None:
    changes: dict[str, Any] = {
        "format": [None, fmt + ("/a-3b" if archive and fmt == PDF else "")],
        "document": [None, document.number],
    }
    if document.table is not None:
        changes["rows"] = [None, document.rows]
    audit_record(
        actor=user,
        action=f"export.{document.report}",
        obj=document.obj,
        unit=document.unit,
        changes=changes,
    )


def job_params(
    generator: Generator, pk: Any, query: Mapping[str, list[str]], fmt: str, archive: bool
) -> dict[str, Any]:
    return {
        "report": generator.name,
        "pk": pk,
        "query": {key: list(values) for key, values in query.items()},
        "format": fmt,
        "archive": archive,
    }


@job_kind("document")
def document_job(job: Job, progress: Progress) -> JobOutput:
    params = job.params
    user = job.created_by
    generator = REGISTRY[params["report"]]
    fmt = params["format"] if params["format"] in (PDF, XLSX) else PDF
    # The person's access is asked again: a role may have ended meanwhile.
    target = generator.target(user, params["pk"])
    query = QueryDict(mutable=True)
    for key, values in params["query"].items():
        query.setlist(key, values)
    options = generator.options(user, target, query)
    if not options.is_valid():
        raise ValueError(" ".join(str(m) for e in options.errors.values() for m in e))
    archive = bool(params["archive"])
    with one_snapshot():
        document = generator.build(user, target, options.cleaned_data)
        progress(0, document.rows)
        output = draw(document, fmt, archive=archive, progress=progress)
    export_record(user=user, document=document, fmt=fmt, archive=archive)
    return JobOutput(
        filename=output.filename,
        content=output.content,
        content_type=output.content_type,
        message=_("已生成“%(t)s”，共 %(n)s 行。") % {"t": document.title, "n": output.rows},
        result={"rows": output.rows, "document": document.number},
    )
