"""The household import file (DOMAIN.md "The household import template").

What the file itself must be before any of its values is looked at: an
.xlsx of at most 10 MB whose sheet `困难职工` carries the template's headers.
It is read with openpyxl in read-only mode and without evaluating formulas,
so a formula is seen and refused rather than trusted, and every bad header
or cell is kept as a `CellError` numbered the way Excel numbers its rows.
The values are checked by `cases.resources.HouseholdResource`.

The register migration (`cases.migrate_sheet`) and the aid history
(`programs.history_sheet`) read their files with the same pieces: the
header row (`scan_headers`), the cells (`row_values`) and the row limit.
"""

import datetime
import re
import unicodedata
import zipfile
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO, Any
from xml.etree import ElementTree

from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.formula import ArrayFormula, DataTableFormula

from . import idnumber

SHEET_NAME = "困难职工"
# The template's columns, in order; the importer accepts exactly these.
HEADERS = (
    "户主姓名", "身份证号", "联系电话", "所属工会", "工作单位", "家庭住址", "困难类别",
    "主要致困原因", "次要致困原因", "家庭人口", "家庭年收入", "年刚性支出", "开户银行",
    "银行账号", "备注",
)  # fmt: skip
REQUIRED = frozenset({"户主姓名", "身份证号", "所属工会", "家庭住址", "家庭人口", "家庭年收入"})
# Several secondary causes share one cell, separated by this.
SECONDARY_SEPARATOR = "、"

MAX_BYTES = 10 * 1024 * 1024
# A union's whole register (建档迁移) or its years of aid history come in one
# file, checked by the background worker: 100,000 households with their
# members make about 17 MB.
MIGRATE_MAX_BYTES = 64 * 1024 * 1024
# A 10 MB xlsx can unpack to millions of rows; the importer is built and
# measured for 100,000 and refuses anything past twice that.
MAX_ROWS = 200_000
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls

# The template's example row carries this (valid) number; a file that still
# holds it was uploaded without deleting the example.
EXAMPLE_ID = idnumber.make("410105", datetime.date(1975, 3, 8), 124)


@dataclass(frozen=True)
class CellError:
    """One bad cell. `row` is the row number Excel shows (the header is row 1);
    None and "" for a problem with the file as a whole."""

    row: int | None
    column: str
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return _("第 %(row)s 行 「%(column)s」：%(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }

    def as_list(self) -> list[Any]:
        return [self.row, self.column, self.message]


@dataclass
class Sheet:
    """The data rows of an upload, before any of their values is trusted."""

    headers: list[str]  # the template's headers found, in the file's order
    rows: list[tuple[Any, ...]]  # values, one per header
    row_numbers: list[int]  # the Excel row of each entry in `rows`
    errors: list[CellError] = field(default_factory=list)  # headers, file
    # Cells refused while reading (formulas, dates, TRUE/FALSE), keyed by
    # the 1-based position in `rows` and then by header.
    flags: dict[int, dict[str, str]] = field(default_factory=dict)
    filename: str = ""

    def add_row(self, values: list[Any], excel_row: int, flagged: dict[str, str]) -> None:
        """Keep a data row; refuse a file with more than `MAX_ROWS` of them."""
        self.rows.append(tuple(values))
        self.row_numbers.append(excel_row)
        if flagged:
            self.flags[len(self.rows)] = flagged
        if len(self.rows) > MAX_ROWS:
            raise ValidationError(
                _("数据行超过 %(n)s 行，请分成几个文件导入。") % {"n": f"{MAX_ROWS:,}"}
            )


# -- the file itself ---------------------------------------------------------------------


def check_upload(name: str, size: int, head: bytes, *, limit: int = MAX_BYTES) -> None:
    """Refuse what cannot be the template before anything reads it: too big,
    empty, not named .xlsx, or not a zip archive whatever its name says."""
    if size > limit:
        raise ValidationError(
            _("文件过大：%(size)s，上限为 %(limit)s。请分成几个文件导入。")
            % {"size": filesizeformat(size), "limit": filesizeformat(limit)}
        )
    if size == 0 or not head:
        raise ValidationError(_("文件是空的（0 字节），请选择填好的导入模板。"))
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if head.startswith(OLE_MAGIC):
        raise ValidationError(
            _("这是旧版 Excel 97-2003（.xls）文件。请在 Excel 中“另存为” .xlsx 格式后再导入。")
        )
    if ext != "xlsx":
        raise ValidationError(_("只接受 Excel 工作簿（.xlsx）文件，请使用下载的导入模板。"))
    if not head.startswith(ZIP_MAGIC):
        raise ValidationError(
            _(
                "文件扩展名是 .xlsx，但内容不是 Excel 工作簿（可能是改了扩展名的其他文件）。"
                "请用 Excel 打开导入模板填写后保存为 .xlsx。"
            )
        )


def _not_a_workbook() -> ValidationError:
    return ValidationError(
        _("无法作为 Excel 工作簿读取：文件已损坏，或不是 .xlsx 格式。请用 Excel 重新保存为 .xlsx。")
    )


def open_sheet(source: IO[bytes], sheet_name: str = SHEET_NAME) -> Any:
    """The workbook's data sheet (`sheet_name`, else the first visible one)
    in read-only mode, formulas left unevaluated."""
    try:
        book = load_workbook(source, read_only=True, data_only=False)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException, XML errors
        raise _not_a_workbook() from exc
    if sheet_name in book.sheetnames:
        return book[sheet_name]
    visible = [ws for ws in book.worksheets if getattr(ws, "sheet_state", "visible") == "visible"]
    if not visible:
        raise _not_a_workbook()
    return visible[0]


_ROW_TAGS = (b"<row ", b"<row>", b":row ")  # with or without a namespace prefix
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension ref=\"[A-Z]+[0-9]+:[A-Z]+([0-9]+)\"")
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_RELS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_DOC_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"


def _sheet_path(archive: zipfile.ZipFile) -> str:
    """The data sheet's XML inside the archive: `困难职工`, else the first
    visible sheet (as `open_sheet` picks it)."""
    # Two small parts of the package. ElementTree resolves no external
    # entities and the bundled expat (>= 2.4) caps entity expansion.
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))  # noqa: S314
    sheets = [
        (el.get("name"), el.get(_DOC_REL), el.get("state", "visible"))
        for el in book.iter(f"{_MAIN}sheet")
    ]
    chosen = next((s for s in sheets if s[0] == SHEET_NAME), None) or next(
        s for s in sheets if s[2] == "visible"
    )
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
    target = next(el.get("Target", "") for el in rels.iter(f"{_RELS}Relationship")
                  if el.get("Id") == chosen[1])  # fmt: skip
    return target.lstrip("/") if target.startswith("/") else f"xl/{target}"


def probe(source: IO[bytes]) -> int:
    """Whether the upload is a workbook with a sheet to read, and about how
    many data rows it holds, without parsing a cell: the dimension Excel
    records, else a byte count of the row elements. Fast enough for the
    request that decides whether the background worker takes the file."""
    try:
        with zipfile.ZipFile(source) as archive, archive.open(_sheet_path(archive)) as xml:
            head = xml.read(4096)
            found = _DIMENSION.search(head)
            if found:
                return max(int(found.group(1)) - 1, 0)
            rows, data = 0, head
            while True:
                rows += sum(data.count(tag) for tag in _ROW_TAGS)
                if rows > MAX_ROWS + 1:
                    break  # the reader refuses it anyway; stop unpacking
                chunk = xml.read(1 << 20)
                if not chunk:
                    break
                # Keep 4 bytes: too short to hold a whole tag, so no
                # tag is counted twice, and one split by the chunk is whole.
                data = data[-4:] + chunk
    except (zipfile.BadZipFile, KeyError, StopIteration, ElementTree.ParseError, OSError) as exc:
        raise _not_a_workbook() from exc
    finally:
        source.seek(0)
    return max(rows - 1, 0)


def header_name(raw: Any) -> str:
    """A header cell as the template spells it: width-folded, no spaces."""
    if raw is None:
        return ""
    return unicodedata.normalize("NFKC", str(raw)).strip().replace(" ", "")


@dataclass
class HeaderRow:
    """What row 1 of a sheet holds, judged against the template's headers."""

    headers: list[str] = field(default_factory=list)  # the template's, in the file's order
    positions: list[int] = field(default_factory=list)  # the column index of each
    blank: list[int] = field(default_factory=list)  # columns without a header
    seen: set[str] = field(default_factory=set)  # every header named
    # (header, column letter, whether it repeats one before it) for each
    # header that is not the template's or repeats one, in column order.
    problems: list[tuple[str, str, bool]] = field(default_factory=list)


def scan_headers(cells: Iterable[Any], known: Collection[str]) -> HeaderRow:
    found = HeaderRow()
    for index, cell in enumerate(cells):
        name = header_name(cell.value if cell is not None else None)
        if not name:
            found.blank.append(index)
        elif name in found.seen:
            found.problems.append((name, _letter(index), True))
        elif name not in known:
            found.problems.append((name, _letter(index), False))
            found.seen.add(name)
        else:
            found.seen.add(name)
            found.headers.append(name)
            found.positions.append(index)
    return found


def header_problem(letter: str, duplicate: bool) -> str:
    """Why a header of the household import's or aid history's file is refused."""
    if duplicate:
        return duplicate_header(letter)
    return _("模板中没有这一列（%(col)s 列），请删除该列，或使用下载的导入模板。") % {"col": letter}


def duplicate_header(letter: str) -> str:
    return _("表头重复（%(col)s 列），请删除多余的一列。") % {"col": letter}


def missing_header() -> str:
    return _("缺少这一列。请使用下载的导入模板，不要删除或改名表头。")


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def read_sheet(
    source: IO[bytes], *, filename: str = "", progress: Callable[[int], None] | None = None
) -> Sheet:
    """Every non-blank row of the data sheet, with header problems and the
    cells that cannot be taken at face value noted. Raises ValidationError
    only for a file that has no rows to check at all."""
    ws = open_sheet(source)
    rows_iter = ws.iter_rows()
    try:
        header_cells = next(rows_iter, None)
        if header_cells is None:
            raise ValidationError(_("工作表是空的：没有表头，也没有数据行。"))
        found = scan_headers(header_cells, HEADERS)
        sheet = Sheet(headers=found.headers, rows=[], row_numbers=[], filename=filename)
        positions = found.positions  # column index of each known header
        empty_header_columns = found.blank
        for name, letter, duplicate in found.problems:
            sheet.errors.append(CellError(1, name, header_problem(letter, duplicate)))
        for name in HEADERS:
            if name not in found.seen:
                sheet.errors.append(CellError(1, name, missing_header()))
        if not sheet.headers:
            raise ValidationError(
                _("第 1 行没有找到导入模板的表头（%(h)s 等）。请使用下载的导入模板。")
                % {"h": "、".join(HEADERS[:3])}
            )
        headless_with_data: set[int] = set()
        for excel_row, cells in enumerate(rows_iter, start=2):
            values, flagged, blank = row_values(cells, sheet.headers, positions)
            for index in empty_header_columns:
                if index < len(cells) and _plain(cells[index].value) is not None:
                    headless_with_data.add(index)
                    blank = False
            if blank:
                continue
            sheet.add_row(values, excel_row, flagged)
            if progress is not None and len(sheet.rows) % 1000 == 0:
                progress(len(sheet.rows))
    except ValidationError:
        raise
    except Exception as exc:  # a damaged archive fails while streaming rows
        raise _not_a_workbook() from exc
    finally:
        ws.parent.close()
    for index in sorted(headless_with_data):
        sheet.errors.append(
            CellError(
                1,
                _("%(col)s 列") % {"col": _letter(index)},
                _("这一列有数据但没有表头，请删除该列的内容，或使用下载的导入模板。"),
            )
        )
    if not sheet.rows:
        raise ValidationError(_("没有数据行：表头以下是空的。请在第 2 行起每行填写一户。"))
    return sheet


def row_values(
    cells: Sequence[Any],
    headers: list[str],
    positions: list[int],
    date_columns: Collection[str] = (),
) -> tuple[list[Any], dict[str, str], bool]:
    """A data row's values, one per header found (None where refused); why
    each refused cell was, by header; and whether those cells are all blank.
    Only `date_columns` take a date cell as it is."""
    values: list[Any] = []
    flagged: dict[str, str] = {}
    blank = True
    for header, index in zip(headers, positions, strict=True):
        cell = cells[index] if index < len(cells) else None
        raw = getattr(cell, "value", None) if header in date_columns else None
        value: Any
        if isinstance(raw, datetime.date):
            value, problem = raw, ""
        else:
            value, problem = _cell_value(cell)
        if value is not None or problem:
            blank = False
        if problem:
            flagged[header] = problem
            value = None
        values.append(value)
    return values, flagged, blank


def _letter(index: int) -> str:
    return get_column_letter(index + 1)


def _cell_value(cell: Any) -> tuple[Any, str]:
    """A cell's value and, if it cannot be taken as typed, why."""
    if cell is None:
        return None, ""
    value = cell.value
    if value is None:
        return None, ""
    if getattr(cell, "data_type", None) == "f" or isinstance(
        value, ArrayFormula | DataTableFormula
    ):
        text = value if isinstance(value, str) else getattr(value, "text", "") or "="
        return None, _(
            "单元格是公式（%(f)s），系统不计算公式。请复制后“选择性粘贴 → 数值”，再导入。"
        ) % {"f": str(text)[:40]}
    if isinstance(value, bool):
        return None, _("单元格是逻辑值（TRUE/FALSE），请改填文字或数字。")
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        shown = value.isoformat()[:10] if not isinstance(value, datetime.time) else str(value)
        return None, _(
            "单元格被 Excel 识别成了日期（%(d)s），这一列不填日期。"
            "请把单元格格式设为“文本”后重新填写。"
        ) % {"d": shown}
    return _plain(value), ""
