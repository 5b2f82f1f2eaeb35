"""The statistics as a PDF and as a workbook, drawn from one `Statistics`.

The PDF goes through `reports.pdf.render_pdf` with
`templates/reports/pdf/statistics.html` (the charts inline as SVG, the
sections with their tables through the documents' `_table.html`, landscape
when the period spans several years); the workbook has one sheet per table,
written with the documents' workbook helpers (frozen header, widths, number
formats, a bold totals row). Neither computes a figure. Figures read from
a snapshot (a big union) carry its time, printed as 数据截至 on both.
"""

import io
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from accounts.xlsx import text_row

from .generators.base import period_text
from .pdf import document_number, render_pdf
from .render.pdf import pdf_table
from .render.xlsx import BOLD, HEADER_ROW, TITLE, _line, _styled, _text_cell
from .stats import Statistics, years

TEMPLATE = "reports/pdf/statistics.html"


def title() -> str:
    return _("困难职工帮扶统计表")


def number(stats: Statistics) -> str:
    return document_number("TJ", f"U{stats.scope.unit.pk}")


def scope_text(stats: Statistics) -> str:
    return _("%(u)s（含下属工会）") % {"u": stats.scope.unit.name}


def period(stats: Statistics) -> str:
    return period_text(stats.scope.date_from, stats.scope.date_to)


def as_of(stats: Statistics) -> str:
    """数据截至: when a stored snapshot's figures were read; empty for
    figures counted for this document."""
    if stats.as_of is None:
        return ""
    return timezone.localtime(stats.as_of).strftime("%Y-%m-%d %H:%M")


def statistics_pdf(stats: Statistics, doc_number: str) -> bytes:
    context: dict[str, Any] = {
        "title": title(),
        "doc_number": doc_number,
        "scope": scope_text(stats),
        "period": period(stats),
        "as_of": as_of(stats),
        "charts": stats.charts,
        "sections": [
            {
                "title": section.title,
                "tables": [{"stat": t, "pdf": pdf_table(t.table)} for t in section.tables],
            }
            for section in stats.sections
        ],
        # A column group per year: several years need the width of the page.
        "landscape": len(years(stats.scope)) > 1,
    }
    return render_pdf(TEMPLATE, context)


def statistics_xlsx(stats: Statistics, doc_number: str) -> bytes:
    wb = Workbook(write_only=True)
    generated = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    facts = [
        (_("编号"), doc_number),
        (_("生成时间"), generated),
        (_("范围"), scope_text(stats)),
        (_("统计期间"), period(stats)),
    ]
    if stats.as_of is not None:
        facts.append((_("数据截至"), as_of(stats)))
    used: set[str] = set()
    for index, stat in enumerate(stats.tables, 1):
        name = stat.title[:31]
        if name in used:  # pragma: no cover - the titles differ
            name = f"{index}-{name}"[:31]
        used.add(name)
        ws = wb.create_sheet(title=name)
        columns = stat.columns
        for col, column in enumerate(columns, 1):
            ws.column_dimensions[get_column_letter(col)].width = column.width + 4
        # Set before the first row: a write-only sheet writes its view first.
        ws.freeze_panes = f"B{HEADER_ROW + 1}"
        ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
        ws.append(text_row(ws, [_text_cell(ws, f"{title()}：{stat.title}", TITLE)]))
        ws.append(text_row(ws, [_text_cell(ws, "　".join(f"{k}：{v}" for k, v in facts))]))
        header = []
        for column in columns:
            cell = _text_cell(ws, column.label, BOLD)
            cell.alignment = Alignment(horizontal="right" if column.numeric else "left")
            header.append(cell)
        ws.append(text_row(ws, header))
        for row in stat.data:
            out: list[Any] = []
            for column, value in zip(columns, row, strict=True):
                cell = _styled(ws, column)
                if cell is None or value is None:
                    out.append(value)
                else:
                    cell.value = value
                    out.append(cell)
            ws.append(text_row(ws, out))
        for line in stat.table.lines_after:
            ws.append(text_row(ws, _line(ws, columns, line)))
        if stat.note:
            ws.append(text_row(ws, [_text_cell(ws, stat.note)]))
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
