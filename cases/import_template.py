"""How every import template is built: the household import's, the register
migration's (建档迁移) and the aid history's (发放记录迁移).

Each is a workbook with its data sheet(s) first, a hidden `选项` sheet
holding the drop-down lists and a `填写说明` sheet; headers in bold, the
required ones in red, each with its hint as a comment; one grey example
row. What goes in each template is its own module's; the look is here.
"""

import io
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from accounts.xlsx import keep_book_text

LISTS_SHEET = "选项"
GUIDE_SHEET = "填写说明"
# A column without a width of its own.
DEFAULT_WIDTH = 14


def template_book(*names: str) -> tuple[Workbook, list[Any], Any, Any]:
    """A workbook with the data sheets `names` in order, then the lists and
    the guide: (book, data sheets, lists, guide)."""
    book = Workbook()
    first = book.active
    assert first is not None
    first.title = names[0]
    sheets = [first, *(book.create_sheet(name) for name in names[1:])]
    return book, sheets, book.create_sheet(LISTS_SHEET), book.create_sheet(GUIDE_SHEET)


def write_headers(
    ws: Any,
    names: Iterable[str],
    *,
    required: Iterable[str],
    hints: Mapping[str, Any],
    widths: Mapping[str, int],
    hint_height: int = 110,
) -> None:
    """Row 1: the headers, the required ones in red, each with its hint;
    the columns' widths; the header row frozen."""
    required = frozenset(required)
    fill = PatternFill("solid", fgColor="F0EFE9")
    for i, name in enumerate(names, start=1):
        cell = ws.cell(row=1, column=i, value=name)
        cell.font = Font(bold=True, color="B3261E" if name in required else "000000")
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
        cell.comment = Comment(str(hints[name]), _("工会帮扶管理"), width=260, height=hint_height)
        ws.column_dimensions[get_column_letter(i)].width = widths.get(name, DEFAULT_WIDTH)
    ws.freeze_panes = "A2"


def write_example(
    ws: Any, names: Iterable[str], values: Mapping[str, Any], formats: Mapping[str, str]
) -> None:
    """Row 2: the example, in grey italics, with each cell's number format."""
    for i, name in enumerate(names, start=1):
        cell = ws.cell(row=2, column=i, value=values.get(name))
        cell.font = Font(italic=True, color="6B6B6B")
        if name in formats:
            cell.number_format = formats[name]


def write_lists(lists: Any, columns: Iterable[tuple[str, Iterable[Any]]]) -> None:
    """The drop-downs' values, a column per list under its title, hidden."""
    for i, (title, values) in enumerate(columns, start=1):
        lists.cell(row=1, column=i, value=title)
        for r, value in enumerate(values, start=2):
            lists.cell(row=r, column=i, value=value)
    lists.sheet_state = "hidden"


def list_source(index: int, count: int) -> str:
    """The formula naming the `index`th list (1-based) of `count` values."""
    letter = get_column_letter(index)
    return f"'{LISTS_SHEET}'!${letter}$2:${letter}${max(count, 1) + 1}"


def add_choice(
    ws: Any,
    cells: str,
    formula: str,
    *,
    strict: bool = True,
    prompt: str = "",
    prompt_title: str = "",
) -> None:
    """A drop-down over `cells`; when not strict, the list only suggests."""
    rule = DataValidation(type="list", formula1=formula, allow_blank=True)
    rule.showErrorMessage = strict
    rule.errorTitle = _("不在列表中")
    rule.error = _("请从下拉列表中选择。")
    if prompt:
        rule.showInputMessage = True
        if prompt_title:
            rule.promptTitle = prompt_title
        rule.prompt = prompt
    rule.add(cells)
    ws.add_data_validation(rule)


def start_guide(guide: Any, title: str) -> None:
    """The guide sheet's two columns and its title."""
    guide.column_dimensions["A"].width = 16
    guide.column_dimensions["B"].width = 90
    guide.append([title])
    guide["A1"].font = Font(bold=True, size=14)


def workbook_bytes(book: Workbook) -> bytes:
    buffer = io.BytesIO()
    keep_book_text(book).save(buffer)
    return buffer.getvalue()
