"""The register migration workbook (建档迁移, DOMAIN.md "Moving in").

Two sheets: `困难职工`, one row per filed household (the household import's
fifteen columns plus what a register already knows: file number, filing
date, categories, status, exit, last visit, helpers), and `家庭成员`, one row
per member joined to the head by the head's ID number. The file itself is
judged as the household import judges it (`cases.import_sheet`: .xlsx, at
most 10 MB, no formulas, exact headers); the difference is that the date
columns here take real Excel dates.

Every problem is kept as a `SheetError` naming the sheet, the row Excel
shows and the column. The values are checked by
`cases.services.migration.register_import`.
"""

import datetime
import itertools
import re
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from xml.etree import ElementTree

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH, from_excel

from . import import_sheet
from .import_sheet import (
    _DIMENSION,
    _ROW_TAGS,
    HEADER_SEARCH_ROWS,
    MAX_ROWS,
    TEMPLATE_MIGRATE,
    _cell_value,
    _letter,
    _not_a_workbook,
    _plain,
    check_headers,
    header_row_below,
    no_header,
    open_archive,
)

SHEET_NAME = import_sheet.SHEET_NAME  # 困难职工
MEMBERS_SHEET = "家庭成员"

# What a register adds to the household import's columns, in this order.
REGISTER_COLUMNS = (
    "档案编号", "建档日期", "档案分类", "档案状态", "退出日期", "退出原因", "最近走访日期",
    "帮扶人",
)  # fmt: skip
# dict.fromkeys keeps the order and drops a column the household import
# may one day carry itself.
HEADERS = tuple(dict.fromkeys((*import_sheet.HEADERS, *REGISTER_COLUMNS)))
REQUIRED = import_sheet.REQUIRED | {"档案编号", "建档日期"}
MEMBER_HEADERS = (
    "户主身份证号", "姓名", "与户主关系", "身份证号", "健康状况", "年收入", "就读学校", "年级",
)  # fmt: skip
MEMBER_REQUIRED = frozenset({"户主身份证号", "姓名", "与户主关系"})
DATE_COLUMNS = frozenset({"建档日期", "退出日期", "最近走访日期"})

STATUS_FILED = "在档"
STATUS_EXITED = "已退出"
LIST_SEPARATOR = "、"  # several categories or helpers in one cell
HELPER_PARTS = "/"  # 姓名/职务/电话

_DATE_TEXT = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")


@dataclass(frozen=True)
class SheetError:
    """One bad cell, header or file. `row` is the row Excel shows (the
    header is row 1); None, with an empty column, for the file as a whole."""

    sheet: str
    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return _("「%(sheet)s」第 %(row)s 行 「%(column)s」：%(message)s") % {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }

    def as_list(self) -> list[Any]:
        return [self.sheet, self.row, self.column, self.message]


@dataclass
class Table:
    """The data rows of one sheet, before any of their values is trusted."""

    sheet: str
    headers: list[str]  # the template's headers found
    rows: list[tuple[Any, ...]]  # values, one per header found
    row_numbers: list[int]  # the Excel row of each entry in `rows`
    # Cells refused while reading (formulas, logical values), by index in
    # `rows` and then by header.
    flags: dict[int, dict[str, str]] = field(default_factory=dict)

    # False when a required column is missing: no row is checked then.
    usable: bool = True

    def column(self, name: str) -> int | None:
        return self.headers.index(name) if name in self.headers else None


@dataclass
class Register:
    households: Table
    members: Table
    errors: list[SheetError] = field(default_factory=list)  # headers, file
    filename: str = ""

    @property
    def total(self) -> int:
        return len(self.households.rows) + len(self.members.rows)

    @property
    def usable(self) -> bool:
        return self.households.usable and self.members.usable


def _date_cell(cell: Any) -> tuple[Any, str]:
    """A date column's cell: a real Excel date, or text that reads as one."""
    value = getattr(cell, "value", None)
    if isinstance(value, datetime.datetime):
        return value.date(), ""
    if isinstance(value, datetime.date):
        return value, ""
    return _cell_value(cell)


def _plain_cell(cell: Any) -> Any:
    """What a cell holds, None when nothing."""
    return _plain(cell.value) if isinstance(cell, _Cell) else cell


def date_value(value: Any) -> datetime.date:
    """A cell of a date column as a date: a date cell, or text such as
    2024-01-20, 2024/1/20, 2024年1月20日 or 20240120. Every sheet the product
    reads dates from goes through here; ValueError says what to type."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if isinstance(value, float) and value.is_integer():
        text = str(int(value))
    found = _DATE_TEXT.fullmatch(text) or _DATE_COMPACT.fullmatch(text)
    if found:
        try:
            return datetime.date(*(int(part) for part in found.groups()))
        except ValueError:
            pass
    raise ValueError(_("“%(v)s”不是有效日期，请填写如 2021-03-15 的日期。") % {"v": text[:20]})


def _read_table(
    rows_iter: Iterator[tuple[int, list[Any], bool]],
    sheet: str,
    headers: tuple[str, ...],
    errors: list[SheetError],
    progress: Callable[[int], None] | None,
    counted: int,
) -> Table:
    first = next(rows_iter, None)
    pending = None
    header_cells: list[Any] = []
    if first is not None and first[0] == 1:
        header_cells = first[1]
    elif first is not None:
        pending = first  # no header row at all: row 1 is empty
    required = REQUIRED if sheet == SHEET_NAME else MEMBER_REQUIRED
    found, problems = check_headers(
        header_cells, headers, required=required, template=TEMPLATE_MIGRATE
    )
    if not found.headers:
        rest = itertools.chain([pending] if pending is not None else [], rows_iter)
        looked = list(itertools.islice(rest, HEADER_SEARCH_ROWS))
        below = header_row_below(((number, cells) for number, cells, _p in looked), headers)
        filled = found.problems or any(
            _plain_cell(cell) is not None
            for _number, cells, _p in itertools.chain(looked, rest)
            for cell in cells
        )
        if not filled:
            # An empty sheet lists nothing (a register without members).
            return Table(sheet=sheet, headers=[], rows=[], row_numbers=[])
        raise no_header(found, headers, below, sheet=sheet)
    table = Table(sheet=sheet, headers=found.headers, rows=[], row_numbers=[])
    table.usable = found.usable
    positions, blank_headers = found.positions, found.blank
    errors += [SheetError(sheet, 1, name, message) for name, message in problems]
    readers = [_date_cell if h in DATE_COLUMNS else _cell_value for h in table.headers]
    plan = list(zip(table.headers, positions, readers, strict=True))
    span = max(positions, default=-1) + 1
    headless: set[int] = set()
    if pending is not None:
        rows_iter = itertools.chain([pending], rows_iter)
    for excel_row, cells, plain in rows_iter:
        width = len(cells)
        flagged: dict[str, str] = {}
        if plain:
            # Only text (already stripped, never empty) and numbers, as
            # almost every row is: nothing to judge, so no call per cell.
            if width < span:
                cells.extend([None] * (span - width))
            values = [cells[index] for index in positions]
            blank = values.count(None) == len(values)
        else:
            values = []
            blank = True
            for header, index, reader in plan:
                cell = cells[index] if index < width else None
                if cell is None or not isinstance(cell, _Cell):
                    value, problem = cell, ""
                else:
                    value, problem = reader(cell)
                if problem:
                    flagged[header] = problem
                    value = None
                    blank = False
                elif value is not None:
                    blank = False
                values.append(value)
        # Columns without a header: empty header cells, and any past the
        # header row's last cell.
        for index in (*blank_headers, *range(len(header_cells), width)):
            if index < width and _plain_cell(cells[index]) is not None:
                headless.add(index)
                blank = False
        if blank:
            continue
        table.rows.append(tuple(values))
        table.row_numbers.append(excel_row)
        if flagged:
            table.flags[len(table.rows) - 1] = flagged
        if len(table.rows) > MAX_ROWS:
            raise ValidationError(
                _("「%(s)s」数据行超过 %(n)s 行，请分成几个文件导入。")
                % {"s": sheet, "n": f"{MAX_ROWS:,}"}
            )
        if progress is not None and len(table.rows) % 1000 == 0:
            progress(counted + len(table.rows))
    for index in sorted(headless):
        errors.append(
            SheetError(
                sheet,
                1,
                _("%(col)s 列") % {"col": _letter(index)},
                _("这一列有数据但没有表头，请删除该列的内容，或使用下载的迁移模板。"),
            )
        )
    return table


def read_register(
    source: IO[bytes], *, filename: str = "", progress: Callable[[int], None] | None = None
) -> Register:
    """Both sheets' non-blank rows, with header problems and refused cells
    noted. Raises ValidationError only for a file with nothing to check: not
    a workbook, no `困难职工` sheet, or no household rows. A workbook without
    a `家庭成员` sheet is a register whose households have no members listed."""
    archive = open_archive(source)
    try:
        paths = _sheet_paths(archive)
    except Exception as exc:  # KeyError, XML errors
        archive.close()
        raise _not_a_workbook() from exc
    try:
        if SHEET_NAME not in paths:
            raise ValidationError(
                _("工作簿中没有名为“%(s)s”的工作表。请使用下载的迁移模板。") % {"s": SHEET_NAME}
            )
        book = _Book.load(archive)
        errors: list[SheetError] = []
        with archive.open(paths[SHEET_NAME]) as xml:
            households = _read_table(book.rows(xml), SHEET_NAME, HEADERS, errors, progress, 0)
        if MEMBERS_SHEET in paths:
            with archive.open(paths[MEMBERS_SHEET]) as xml:
                members = _read_table(
                    book.rows(xml),
                    MEMBERS_SHEET,
                    MEMBER_HEADERS,
                    errors,
                    progress,
                    len(households.rows),
                )
        else:
            members = Table(sheet=MEMBERS_SHEET, headers=list(MEMBER_HEADERS), rows=[],
                            row_numbers=[])  # fmt: skip
    except ValidationError:
        raise
    except Exception as exc:  # a damaged archive fails while streaming rows
        raise _not_a_workbook() from exc
    finally:
        archive.close()
    if not households.rows:
        raise ValidationError(
            _("“%(s)s”表没有数据行：表头以下是空的。请在第 2 行起每行填写一户。")
            % {"s": SHEET_NAME}
        )
    return Register(households=households, members=members, errors=errors, filename=filename)


def probe_register(source: IO[bytes]) -> int:
    """About how many data rows both sheets hold, without parsing a cell:
    the dimension Excel records, else a count of the row elements. Fast
    enough for the request that decides whether the worker takes the file."""
    total = 0
    try:
        with open_archive(source) as archive:
            paths = _sheet_paths(archive)
            for name in (SHEET_NAME, MEMBERS_SHEET):
                if name not in paths:
                    continue
                with archive.open(paths[name]) as xml:
                    head = xml.read(4096)
                    found = _DIMENSION.search(head)
                    if found:
                        total += max(int(found.group(1)) - 1, 0)
                        continue
                    rows, data = 0, head
                    while True:
                        rows += sum(data.count(tag) for tag in _ROW_TAGS)
                        chunk = xml.read(1 << 20)
                        if not chunk or rows > 2 * MAX_ROWS:
                            break
                        # 4 bytes kept: too short for a whole tag, enough to
                        # complete one the chunk split.
                        data = data[-4:] + chunk
                    total += max(rows - 1, 0)
    except ValidationError:
        raise
    except Exception as exc:  # a damaged, encrypted or unknown kind of archive
        raise _not_a_workbook() from exc
    finally:
        source.seek(0)
    return total


# -- reading the sheet XML ---------------------------------------------------------------
#
# openpyxl's read-only mode builds a cell object, a style lookup and (for the
# inline strings some programs write) a rich-text object for every cell: at
# 300,000 rows that is most of a migration's time. The register is read
# straight from the package's XML with expat instead, into the same small
# cell shape `import_sheet._cell_value` judges, so a formula, a logical value
# or a date where no date belongs is refused in the same words.

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DOC_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_C, _V, _F, _T, _R, _IS = (f"{_MAIN}{t}" for t in ("c", "v", "f", "t", "r", "is"))
_ROW, _SHEET_DATA, _SI = f"{_MAIN}row", f"{_MAIN}sheetData", f"{_MAIN}si"
_REF = re.compile(r"([A-Z]+)")


class _Cell:
    """A cell `_cell_value` must judge (a formula, a logical value, a date):
    what it reads of one, the value and the data type."""

    __slots__ = ("data_type", "value")

    def __init__(self, value: Any, data_type: str = "") -> None:
        self.value = value
        self.data_type = data_type


def _sheet_paths(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → its XML inside the package."""
    # Two small parts of the package. ElementTree resolves no external
    # entities and the bundled expat (>= 2.4) caps entity expansion.
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
    targets = {el.get("Id"): el.get("Target", "") for el in rels.iter(f"{_RELS}Relationship")}
    paths = {}
    for el in book.iter(f"{_MAIN}sheet"):
        target = targets.get(el.get(_DOC_REL), "")
        if target:
            paths[el.get("name", "")] = (
                target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            )
    return paths


_DIGITS = "0123456789"
# Column letters → index, for the references seen so far ("AB" → 27).
_COLUMNS: dict[str, int] = {}


def _column_index(ref: str) -> int:
    """The column of a cell reference such as "AB12" (27)."""
    key = ref.rstrip(_DIGITS)
    index = _COLUMNS.get(key)
    if index is None:
        letters = _REF.match(ref).group(1)  # type: ignore[union-attr]
        index = 0
        for char in letters:
            index = index * 26 + ord(char) - 64
        index -= 1
        if letters == key:  # a well-formed reference: worth keeping
            _COLUMNS[key] = index
    return index


@dataclass
class _Book:
    shared: list[str]
    date_styles: frozenset[int]
    epoch: datetime.datetime

    @classmethod
    def load(cls, archive: zipfile.ZipFile) -> "_Book":
        names = set(archive.namelist())
        shared: list[str] = []
        if "xl/sharedStrings.xml" in names:
            with archive.open("xl/sharedStrings.xml") as xml:
                for _event, el in ElementTree.iterparse(xml):  # noqa: S314
                    if el.tag == _SI:
                        shared.append(_text_of(el))
                        el.clear()
        date_styles: set[int] = set()
        if "xl/styles.xml" in names:
            styles = ElementTree.fromstring(archive.read("xl/styles.xml"))  # noqa: S314
            custom = {
                int(el.get("numFmtId", "0")): el.get("formatCode", "")
                for el in styles.iter(f"{_MAIN}numFmt")
            }
            xfs = styles.find(f"{_MAIN}cellXfs")
            for position, xf in enumerate(xfs if xfs is not None else ()):
                number = int(xf.get("numFmtId", "0"))
                code = custom.get(number) or BUILTIN_FORMATS.get(number, "")
                if code and is_date_format(code):
                    date_styles.add(position)
        workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314
        properties = workbook.find(f"{_MAIN}workbookPr")
        mac = properties is not None and properties.get("date1904") in ("1", "true")
        return cls(shared, frozenset(date_styles), CALENDAR_MAC_1904 if mac else WINDOWS_EPOCH)

    def rows(self, xml: IO[bytes]) -> Iterator[tuple[int, list[Any], bool]]:
        """(Excel row number, cells by column index, whether every cell is
        plain) for every row element. A plain cell is None (empty), text
        (stripped, never empty) or a number, taken as it stands; a cell to
        be judged (a formula, a logical value, a date) is a `_Cell`."""
        shared, date_styles, epoch, columns = self.shared, self.date_styles, self.epoch, _COLUMNS
        number = 0
        # End events only: a start event per element would double the
        # iterator's work for nothing the reader uses.
        for _event, el in ElementTree.iterparse(xml):  # noqa: S314
            if el.tag != _ROW:
                continue
            number = int(el.get("r") or number + 1)
            cells: list[Any] = []
            plain = True
            position = -1
            for c in el:
                if c.tag != _C:
                    continue
                ref = c.get("r")
                if ref:
                    position = columns.get(ref.rstrip(_DIGITS), -1)
                    if position < 0:
                        position = _column_index(ref)
                else:
                    position += 1
                kind = c.get("t", "n")
                value: Any = None
                formula = text = inline = None
                for part in c:
                    tag = part.tag
                    if tag == _V:
                        text = part.text
                    elif tag == _F:
                        formula = part
                    elif tag == _IS and inline is None:
                        inline = part
                if formula is not None:
                    value = _Cell(f"={formula.text or ''}", "f")
                elif kind == "inlineStr":
                    value = _text_of(inline) if inline is not None else None
                elif kind == "s":
                    value = shared[int(text)] if text is not None else None
                elif kind in ("str", "e"):
                    value = text
                elif kind == "b":
                    value = _Cell(text == "1") if text is not None else None
                elif kind == "d":
                    value = _Cell(_iso_date(text)) if text else None
                elif text is not None:
                    value = float(text) if "." in text or "e" in text or "E" in text else int(text)
                    if int(c.get("s", "0")) in date_styles:
                        value = _serial_date(value, epoch)
                if value.__class__ is str:
                    value = value.strip() or None
                elif value.__class__ is _Cell:
                    plain = False
                if position == len(cells):
                    cells.append(value)
                else:
                    if position > len(cells):
                        cells.extend([None] * (position - len(cells) + 1))
                    cells[position] = value
            yield number, cells, plain
            # What stays of a read row is an empty element in sheetData.
            el.clear()


def _iso_date(text: str) -> Any:
    """A cell stored as an ISO date: the date, or the text when it is none."""
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        return text


def _serial_date(value: float, epoch: datetime.datetime) -> Any:
    """A number in a date format: its date, or the number itself when no
    date has that serial (a date column then says it is no date)."""
    try:
        return _Cell(from_excel(value, epoch))
    except (ValueError, OverflowError, ArithmeticError):
        return value


def _text_of(el: Any) -> str:
    """A string item's text without its phonetic (rPh) runs."""
    if len(el) == 1 and el[0].tag == _T:  # one plain run, as most are
        return el[0].text or ""
    parts = []
    for child in el:
        if child.tag == _T:
            parts.append(child.text or "")
        elif child.tag == _R:
            t = child.find(_T)
            if t is not None:
                parts.append(t.text or "")
    return "".join(parts)
