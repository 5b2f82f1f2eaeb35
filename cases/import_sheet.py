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
import itertools
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
    # False when a required column is missing: the rows are then not
    # checked, the header problems are the answer.
    usable: bool = True

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


# An .xlsx is deflated XML, about 5 to 20 times smaller than what it holds.
# A file far beyond that is built to explode when opened (a "zip bomb"): its
# archive's own directory says what every part unpacks to, and that is
# judged before a byte is unpacked. Small parts may be as repetitive as
# they like.
UNPACKED_MAX = 1024 * 1024 * 1024
UNPACKED_RATIO = 100
UNPACKED_FREE = 16 * 1024 * 1024
MAX_PARTS = 10_000


def _packed_size(source: IO[bytes]) -> int:
    position = source.tell()
    source.seek(0, 2)
    size = source.tell()
    source.seek(position)
    return size


def check_archive(archive: zipfile.ZipFile, packed: int) -> None:
    """Refuse a workbook that would unpack to far more than a workbook of
    its size holds, before any part of it is unpacked. The sizes are the
    archive's own: zipfile never yields more than a part declares."""
    parts = archive.infolist()
    if len(parts) > MAX_PARTS:
        raise _not_a_workbook()
    unpacked = sum(part.file_size for part in parts)
    if unpacked > UNPACKED_MAX or (
        unpacked > UNPACKED_FREE and unpacked > max(packed, 1) * UNPACKED_RATIO
    ):
        raise ValidationError(
            _(
                "文件解压后有 %(size)s，远超正常工作簿（可能是损坏或恶意构造的文件），"
                "已拒绝读取。请用 Excel 打开导入模板填写后另存为 .xlsx 再上传。"
            )
            % {"size": filesizeformat(unpacked)}
        )


def open_archive(source: IO[bytes]) -> zipfile.ZipFile:
    """The upload as a zip archive whose unpacked size is in proportion."""
    try:
        archive = zipfile.ZipFile(source)
    except Exception as exc:  # BadZipFile, a truncated or unseekable file
        raise _not_a_workbook() from exc
    try:
        check_archive(archive, _packed_size(source))
    except BaseException:
        archive.close()
        raise
    return archive


def open_sheet(source: IO[bytes], sheet_name: str = SHEET_NAME) -> Any:
    """The workbook's data sheet (`sheet_name`, else the first visible one)
    in read-only mode, formulas left unevaluated."""
    open_archive(source).close()
    source.seek(0)
    try:
        book = load_workbook(source, read_only=True, data_only=False)
    except Exception as exc:  # zipfile.BadZipFile, KeyError, InvalidFileException, XML errors
        raise _not_a_workbook() from exc
    named = [ws for ws in book.worksheets if ws.title == sheet_name]
    visible = [ws for ws in book.worksheets if getattr(ws, "sheet_state", "visible") == "visible"]
    if not named and not visible:
        book.close()
        raise _not_a_workbook()
    ws = (named or visible)[0]
    # The size a file records may be wrong (some programs write "A1"); read
    # every row there is rather than lose the ones past it.
    ws.reset_dimensions()
    return ws


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
        with open_archive(source) as archive, archive.open(_sheet_path(archive)) as xml:
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
    except ValidationError:
        raise
    except Exception as exc:  # a damaged, encrypted or unknown kind of archive
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
    """What a sheet's header row holds, judged against the template's headers."""

    headers: list[str] = field(default_factory=list)  # the template's, in the file's order
    positions: list[int] = field(default_factory=list)  # the column index of each
    blank: list[int] = field(default_factory=list)  # columns without a header
    seen: set[str] = field(default_factory=set)  # every header named
    # (header, column letter, whether it repeats one before it) for each
    # header that is not the template's or repeats one, in column order.
    problems: list[tuple[str, str, bool]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # needed but absent, template order
    # Absent columns without which no row can be judged: the rows are then
    # not checked at all, the header's problems are the whole answer.
    blocking: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return bool(self.headers) and not self.blocking

    @property
    def unknown(self) -> list[str]:
        return [name for name, _letter, duplicate in self.problems if not duplicate]


def scan_headers(cells: Iterable[Any], known: Collection[str]) -> HeaderRow:
    found = HeaderRow()
    for index, cell in enumerate(cells):
        name = header_name(getattr(cell, "value", cell))
        if not name:
            found.blank.append(index)
            continue
        if len(name) > 40:  # a header is a few words; keep an error list readable
            name = name[:40] + "…"
        if name in found.seen:
            found.problems.append((name, _letter(index), True))
        elif name not in known:
            found.problems.append((name, _letter(index), False))
            found.seen.add(name)
        else:
            found.seen.add(name)
            found.headers.append(name)
            found.positions.append(index)
    return found


# The template a file should have come from, as each import names it.
TEMPLATE_IMPORT, TEMPLATE_MIGRATE, TEMPLATE_ROSTER = "import", "migrate", "roster"


def check_headers(
    cells: Iterable[Any],
    known: Sequence[str],
    *,
    needed: Collection[str] | None = None,
    required: Collection[str] = (),
    template: str = TEMPLATE_IMPORT,
) -> tuple[HeaderRow, list[tuple[str, str]]]:
    """A sheet's header row against its template: the columns found, and
    (column, why) for each header that is not the template's, repeats one,
    or is `needed` (default: every `known` one) and absent. The same check
    for every import, so any header layout gets the same kind of answer:
    missing columns and unknown columns named one by one."""
    found = scan_headers(cells, known)
    needed = known if needed is None else needed
    found.missing = [name for name in known if name in needed and name not in found.seen]
    found.blocking = [name for name in found.missing if name in required]
    problems: list[tuple[str, str]] = [
        (name, header_problem(letter, duplicate, template))
        for name, letter, duplicate in found.problems
    ]
    problems += [(name, missing_header(template)) for name in found.missing]
    return found, problems


def header_problem(letter: str, duplicate: bool, template: str = TEMPLATE_IMPORT) -> str:
    """Why a header is refused: it repeats one before it, or it is not the template's."""
    if duplicate:
        return duplicate_header(letter)
    if template == TEMPLATE_MIGRATE:
        message = _("模板中没有这一列（%(col)s 列），请删除该列，或使用下载的迁移模板。")
    elif template == TEMPLATE_ROSTER:
        message = _("模板中没有这一列（%(col)s 列），请删除该列，或使用下载的名册模板。")
    else:
        message = _("模板中没有这一列（%(col)s 列），请删除该列，或使用下载的导入模板。")
    return message % {"col": letter}


def duplicate_header(letter: str) -> str:
    return _("表头重复（%(col)s 列），请删除多余的一列。") % {"col": letter}


def missing_header(template: str = TEMPLATE_IMPORT) -> str:
    if template == TEMPLATE_MIGRATE:
        return _("缺少这一列。请使用下载的迁移模板，不要删除或改名表头。")
    if template == TEMPLATE_ROSTER:
        return _("缺少这一列。请使用下载的名册模板，不要删除或改名表头。")
    return _("缺少这一列。请使用下载的导入模板，不要删除或改名表头。")


# How far down a header row pushed below row 1 (under a title) is looked for.
HEADER_SEARCH_ROWS = 10


def header_row_below(rows: Iterable[tuple[int, Sequence[Any]]], known: Collection[str]) -> int:
    """The Excel row, within the first few, that holds the template's
    headers when row 1 does not (0: none does). A title above the table is
    the usual reason."""
    enough = min(3, len(known))
    for number, cells in itertools.islice(rows, HEADER_SEARCH_ROWS):
        names = {header_name(getattr(cell, "value", cell)) for cell in cells}
        if len(names & set(known)) >= enough:
            return number
    return 0


def no_header(
    found: HeaderRow, known: Sequence[str], below: int, *, sheet: str = ""
) -> ValidationError:
    """A sheet whose row 1 holds none of the template's headers: where the
    headers are if they are lower down, else what row 1 holds instead."""
    where = _("“%(s)s”表") % {"s": sheet} if sheet else ""
    if below:
        return ValidationError(
            _(
                "%(where)s表头须在第 1 行，文件的表头在第 %(row)s 行。"
                "请删除第 1 行到第 %(last)s 行（标题等），或使用下载的模板。"
            )
            % {"where": where, "row": below, "last": below - 1}
        )
    shown = "、".join(found.unknown[:8]) or _("（空）")
    return ValidationError(
        _(
            "%(where)s第 1 行没有找到模板的表头：缺少 %(missing)s 等 %(n)s 列；"
            "第 1 行现有：%(found)s。请使用下载的模板，不要修改表头。"
        )
        % {
            "where": where,
            "missing": "、".join(found.missing[:4] or known[:4]),
            "n": len(found.missing) or len(known),
            "found": shown,
        }
    )


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
        found, problems = check_headers(header_cells, HEADERS, required=REQUIRED)
        if not found.headers:
            numbered = ((n, [c.value for c in cells]) for n, cells in enumerate(rows_iter, 2))
            raise no_header(found, HEADERS, header_row_below(numbered, HEADERS))
        sheet = Sheet(headers=found.headers, rows=[], row_numbers=[], filename=filename)
        sheet.usable = found.usable
        positions = found.positions  # column index of each known header
        empty_header_columns = found.blank
        sheet.errors += [CellError(1, name, message) for name, message in problems]
        headless_with_data: set[int] = set()
        for excel_row, cells in enumerate(rows_iter, start=2):
            values, flagged, blank = row_values(cells, sheet.headers, positions)
            # Columns without a header: empty header cells, and any past the
            # header row's last cell.
            for index in (*empty_header_columns, *range(len(header_cells), len(cells))):
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
