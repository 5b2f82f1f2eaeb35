"""Renderers: they draw a generator's Document as a PDF or a workbook and
never compute a figure of their own."""

from collections.abc import Callable

from ..generators.base import PDF, XLSX, Document
from .pdf import render_document_pdf
from .xlsx import render_xlsx

CONTENT_TYPES = {
    PDF: "application/pdf",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

ProgressFn = Callable[[int, int | None], None]


def render(
    document: Document, fmt: str, *, archive: bool = False, progress: ProgressFn | None = None
) -> bytes:
    if fmt == XLSX:
        return render_xlsx(document, progress=progress)
    return render_document_pdf(document, archive=archive, progress=progress)


__all__ = ["CONTENT_TYPES", "render", "render_document_pdf", "render_xlsx"]
