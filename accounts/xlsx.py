"""Text that stays text in every workbook the product writes.

openpyxl stores a string that starts with "=" as a live formula, and a
spreadsheet may take text starting with "+", "-", "@", a tab or a carriage
return for one too. A household named `=HYPERLINK(...)` must never become a
link, a call or a calculation in a ledger an auditor opens. Every writer
passes its rows through `text_row` (write-only sheets) or the whole book
through `keep_book_text` (ordinary workbooks) before saving.
"""

from collections.abc import Iterable
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.workbook.workbook import Workbook

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_like(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def keep_text(cell: Cell) -> Cell:
    """The cell, stored as a plain string when its text could be a formula."""
    if formula_like(cell.value):
        cell.data_type = "s"
    return cell


def text_row(ws: Any, values: Iterable[Any]) -> list[Any]:
    """A row for `ws.append` in which no value can become a formula."""
    row: list[Any] = []
    for value in values:
        if isinstance(value, Cell):
            row.append(keep_text(value))
        elif formula_like(value):
            row.append(keep_text(WriteOnlyCell(ws, value=value)))
        else:
            row.append(value)
    return row


def keep_book_text(book: Workbook) -> Workbook:
    """Every cell of an ordinary (not write-only) workbook, before saving."""
    for sheet in book.worksheets:
        for line in sheet.iter_rows():
            for cell in line:
                keep_text(cell)
    return book
