"""A Document as a PDF, through the document's template under
`templates/reports/pdf/` (which extends base.html: A4, fonts embedded,
"第 X 页 / 共 Y 页", document number, generated-at) and `reports.pdf`."""

import datetime
import html
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.safestring import SafeString, mark_safe

from ..amounts import rmb_upper
from ..generators.base import DATE, INT, MONEY, Column, Document, Line, Table
from ..pdf import render_pdf


def _text(value: Any) -> str:
    if value is None:
        return ""
    return str(value)


def _money(value: Any) -> str:
    return "" if value is None else f"{value:,.2f}"


def _date(value: Any) -> str:
    if isinstance(value, datetime.date):
        return value.isoformat()
    return _text(value)


def formatter(column: Column) -> Callable[[Any], str]:
    if column.kind == MONEY:
        return _money
    if column.kind == DATE:
        return _date
    return _text


@dataclass
class PdfColumn:
    label: str
    percent: str
    numeric: bool


@dataclass
class PdfTable:
    columns: list[PdfColumn]
    body: SafeString  # the rows, already HTML
    before: SafeString
    after: SafeString
    capitals: list[tuple[str, str, str]]  # label, ¥ figures, capitals
    count: int


def _cell(text: str, numeric: bool, span: int = 1) -> str:
    attrs = ' class="num"' if numeric else ""
    if span > 1:
        attrs += f' colspan="{span}"'
    return f"<td{attrs}>{html.escape(text)}</td>"


def _lines(table: Table, lines: list[Line]) -> SafeString:
    """Rows outside the data (期初余额, 合计, 期末余额): the label spans the
    columns up to the first figure."""
    out = []
    keys = [c.key for c in table.columns]
    for line in lines:
        first = min((keys.index(k) for k in line.values if k in keys), default=len(keys))
        cells = [_cell(line.label, False, max(first, 1))]
        for column in table.columns[max(first, 1) :]:
            value = line.values.get(column.key)
            text = str(value) if column.kind == INT and value is not None else _money(value)
            cells.append(_cell(text, column.numeric))
        out.append('<tr class="total">' + "".join(cells) + "</tr>")
    return mark_safe("".join(out))  # noqa: S308 - every text went through html.escape


def pdf_table(table: Table) -> PdfTable:
    # The rows are written as HTML here rather than by template tags: for a
    # ledger of a thousand rows this is a few milliseconds instead of a
    # noticeable part of the time WeasyPrint itself needs.
    total = sum(c.width for c in table.columns) or 1
    formats = [(formatter(c), c.numeric) for c in table.columns]
    body = []
    for row in table.rows():
        cells = "".join(
            _cell(fmt(value), numeric) for (fmt, numeric), value in zip(formats, row, strict=True)
        )
        body.append(f"<tr>{cells}</tr>")
    return PdfTable(
        columns=[
            PdfColumn(c.label, f"{c.width * 100 / total:.2f}", c.numeric) for c in table.columns
        ],
        body=mark_safe("\n".join(body)),  # noqa: S308 - every text went through html.escape
        before=_lines(table, table.before),
        after=_lines(table, table.lines_after),
        capitals=[(label, _money(amount), rmb_upper(amount)) for label, amount in table.capitals],
        count=table.count,
    )


def render_document_pdf(
    document: Document,
    *,
    archive: bool = False,
    progress: Callable[[int, int | None], None] | None = None,
) -> bytes:
    context: dict[str, Any] = {
        **document.context,
        "doc": document,
        "title": document.title,
        "doc_number": document.number,
    }
    if document.table is not None:
        context["table"] = pdf_table(document.table)
        if progress is not None:
            progress(document.table.count, document.table.count)
    return render_pdf(document.template, context, archive=archive)
