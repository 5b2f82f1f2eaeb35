"""A Document's table as an Excel workbook, in openpyxl's write-only mode.

Rows are written as they come from the generator's iterator, so a
100,000-row ledger never sits in memory. The sheet has the title and the
document number on top, a frozen header row (repeated on every printed
page), column widths, `#,##0.00` for money, text format for ID-like columns
(an ID number or an account must never turn into 4.1E+17), a bold totals row
and the totals in Chinese capitals.
"""

import io
from collections.abc import Callable
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from accounts.xlsx import text_row

from ..amounts import rmb_upper
from ..generators.base import DATE, ID, INT, MONEY, Column, Document, Line

MONEY_FORMAT = "#,##0.00"
TEXT_FORMAT = "@"
DATE_FORMAT = "yyyy-mm-dd"
INT_FORMAT = "0"
HEADER_ROW = 3  # title, document facts, then the header
PROGRESS_EVERY = 1000

FORMATS = {MONEY: MONEY_FORMAT, ID: TEXT_FORMAT, DATE: DATE_FORMAT, INT: INT_FORMAT}
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)


def _styled(ws: WriteOnlyWorksheet, column: Column, *, bold: bool = False) -> Cell | None:
    number_format = FORMATS.get(column.kind)
    if number_format is None and not bold:
        return None
    cell = WriteOnlyCell(ws)
    if number_format is not None:
        cell.number_format = number_format
    if bold:
        cell.font = BOLD
    return cell


def _text_cell(ws: WriteOnlyWorksheet, value: str, font: Font | None = None) -> Cell:
    cell = WriteOnlyCell(ws, value=value)
    if font is not None:
        cell.font = font
    return cell


def _line(ws: WriteOnlyWorksheet, columns: list[Column], line: Line) -> list[Any]:
    row: list[Any] = [_text_cell(ws, line.label, BOLD)]
    for column in columns[1:]:
        value = line.values.get(column.key)
        if value is None:
            row.append(None)
            continue
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = INT_FORMAT if column.kind == INT else MONEY_FORMAT
        cell.font = BOLD
        row.append(cell)
    return row


def render_xlsx(
    document: Document, *, progress: Callable[[int, int | None], None] | None = None
) -> bytes:
    table = document.table
    if table is None:
        raise ValueError("a workbook needs a table")
    columns = table.columns
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=table.sheet[:31])
    for index, column in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(index)].width = column.width + 2
    # Set before the first row: a write-only sheet writes its view first.
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"

    generated = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    ws.append(text_row(ws, [_text_cell(ws, document.title, TITLE)]))
    facts = [(_("编号"), document.number), (_("生成时间"), generated), *document.facts]
    ws.append(
        text_row(ws, [_text_cell(ws, "　".join(f"{label}：{value}" for label, value in facts))])
    )
    header = []
    for column in columns:
        cell = _text_cell(ws, column.label, BOLD)
        cell.alignment = Alignment(horizontal="right" if column.numeric else "left")
        header.append(cell)
    ws.append(text_row(ws, header))

    for line in table.before:
        ws.append(text_row(ws, _line(ws, columns, line)))
    # One styled cell per column, reused row after row: openpyxl writes a
    # row out before the next is appended, so nothing is kept per row.
    styled = [_styled(ws, column) for column in columns]
    total = table.count
    done = 0
    for done, row in enumerate(table.rows(), 1):
        out: list[Any] = []
        for cell, value in zip(styled, row, strict=True):
            if value is None or value == "" or cell is None:
                out.append(value if value != "" else None)
            else:
                cell.value = value
                out.append(cell)
        ws.append(text_row(ws, out))
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, total)
    for line in table.lines_after:
        ws.append(text_row(ws, _line(ws, columns, line)))
    for label, amount in table.capitals:
        text = _("%(l)s（大写）：%(c)s") % {"l": label, "c": rmb_upper(amount)}
        ws.append(text_row(ws, [_text_cell(ws, text)]))
    if progress is not None:
        progress(done, total)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
