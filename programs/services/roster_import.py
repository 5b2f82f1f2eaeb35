"""A cooperative's member roster from an xlsx file (互助会员名册导入).

The same rules as the household import: the file is checked before any cell
is read (cases.import_sheet.check_upload), every bad header or cell is named
by row, column and reason (CellError), and nothing is saved unless every row
is good. Rosters are small (a few hundred to a few thousand members), so the
check and the import run inside the request, with no background job; files
above MAX_ROWS are refused with a message to split them.

The headers are 姓名, 身份证号, 所属工会, 联系电话, 入会日期. 所属工会 is a
union's name or code inside the cooperative's union and the importer's own
units; 入会日期 is an Excel date or text like 2024-03-01 (blank: today).
"""

import datetime
import io
import unicodedata
from dataclasses import dataclass
from typing import IO, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from openpyxl import Workbook

from accounts.audit import audit_record
from accounts.models import Unit, User
from accounts.scoping import unit_q, units_for
from accounts.xlsx import keep_book_text
from cases import clock
from cases.import_sheet import (
    TEMPLATE_ROSTER,
    CellError,
    check_headers,
    check_upload,
    header_row_below,
    no_header,
    open_sheet,
    row_values,
)

from ..models import Cooperative, CoopMember
from . import mutual

HEADERS = ("姓名", "身份证号", "所属工会", "联系电话", "入会日期")
REQUIRED = frozenset({"姓名", "身份证号", "所属工会"})
FIELDS = {
    "name": "姓名",
    "id_number": "身份证号",
    "unit": "所属工会",
    "phone": "联系电话",
    "joined_on": "入会日期",
}
MAX_ROWS = 5_000
ROSTER_ACTIONS = ("household.edit", "fund.manage")


@dataclass
class Roster:
    """The rows of an upload as plain text (JSON-safe, kept between the
    preview and the confirmation), and what is wrong with the file."""

    rows: list[list[str]]  # one value per HEADERS entry
    row_numbers: list[int]
    errors: list[CellError]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def read_roster(upload: Any) -> Roster:
    """Every non-blank row of the uploaded roster. Raises ValidationError for
    a file that cannot be read at all."""
    head = upload.read(8)
    upload.seek(0)
    check_upload(getattr(upload, "name", "") or "", upload.size or 0, head)
    return read_roster_file(upload)


def read_roster_file(source: IO[bytes]) -> Roster:
    ws = open_sheet(source)
    try:
        rows_iter = ws.iter_rows(values_only=False)
        header_cells = next(rows_iter, None)
        if header_cells is None:
            raise ValidationError(_("工作表是空的：没有表头，也没有数据行。"))
        found, problems = check_headers(
            header_cells, HEADERS, required=REQUIRED, template=TEMPLATE_ROSTER
        )
        if not found.headers:
            raise no_header(found, HEADERS, header_row_below(enumerate(rows_iter, 2), HEADERS))
        errors = [CellError(1, name, message) for name, message in problems]
        if not found.usable:
            # A required column is missing: the header problems are the answer.
            return Roster([], [], errors)
        rows: list[list[str]] = []
        numbers: list[int] = []
        for excel_row, cells in enumerate(rows_iter, start=2):
            # Formulas, TRUE/FALSE and dates outside 入会日期 are refused
            # in the household import's words.
            found_values, flagged, _blank = row_values(
                cells, found.headers, found.positions, ("入会日期",)
            )
            by_name = dict(zip(found.headers, found_values, strict=True))
            values = [_text(by_name.get(name)) for name in HEADERS]
            errors += [CellError(excel_row, name, why) for name, why in flagged.items()]
            if not any(values):
                continue
            rows.append(values)
            numbers.append(excel_row)
            if len(rows) > MAX_ROWS:
                raise ValidationError(
                    _("数据行超过 %(n)s 行，请分成几个文件导入。") % {"n": f"{MAX_ROWS:,}"}
                )
    except ValidationError:
        raise
    except Exception as exc:  # a damaged archive fails while streaming rows
        raise ValidationError(
            _("无法作为 Excel 工作簿读取：文件已损坏，或不是 .xlsx 格式。")
        ) from exc
    finally:
        ws.parent.close()
    if not rows and not errors:
        raise ValidationError(_("没有数据行：表头以下是空的。请在第 2 行起每行填写一名会员。"))
    return Roster(rows, numbers, errors)


def _date(text: str) -> datetime.date | None:
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日"):
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _units(actor: User, cooperative: Cooperative) -> dict[str, Unit]:
    """The unions a roster row may name, by name and by code: inside the
    cooperative's union and the importer's own units."""
    mine = Q()
    for action in ROSTER_ACTIONS:
        mine |= Q(pk__in=units_for(actor, action).values("pk"))
    units = Unit.objects.filter(unit_q([cooperative.unit.path])).filter(mine)
    found: dict[str, Unit] = {}
    for unit in units:
        found.setdefault(unit.name, unit)
        found[unit.code] = unit
    return found


@dataclass
class Checked:
    members: list[mutual.MemberData]
    errors: list[CellError]


def roster_check(*, actor: User, cooperative: Cooperative, roster: Roster) -> Checked:
    """Every row checked like the member form, and against the roster and
    the other rows of the file: the first duplicate of an ID number is named
    with the row it repeats."""
    errors = list(roster.errors)
    refused = {(e.row, e.column) for e in roster.errors}
    units = _units(actor, cooperative)
    on_roster = set(
        CoopMember.objects.filter(cooperative=cooperative).values_list("id_number", flat=True)
    )
    seen: dict[str, int] = {}
    members: list[mutual.MemberData] = []
    for values, row in zip(roster.rows, roster.row_numbers, strict=True):
        cells = dict(zip(HEADERS, values, strict=True))
        row_errors: list[CellError] = []
        for header in sorted(REQUIRED, key=HEADERS.index):
            if not cells[header]:
                row_errors.append(CellError(row, header, _("必填，不能为空。")))
        unit = units.get(cells["所属工会"]) if cells["所属工会"] else None
        if cells["所属工会"] and unit is None:
            row_errors.append(
                CellError(
                    row,
                    "所属工会",
                    _("“%(u)s”不是本合作社范围内、您可以管理的工会（请填工会全称或单位代码）。")
                    % {"u": cells["所属工会"]},
                )
            )
        joined_on = None
        if cells["入会日期"]:
            try:
                joined_on = _date(cells["入会日期"])
            except ValueError:
                row_errors.append(
                    CellError(row, "入会日期", _("日期格式不正确，应如 2024-03-01。"))
                )
        if not row_errors:
            try:
                data = mutual.member_checked(
                    cooperative=cooperative,
                    name=cells["姓名"],
                    id_number=cells["身份证号"],
                    unit=unit,
                    phone=cells["联系电话"],
                    joined_on=joined_on or clock.today(),
                )
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    row_errors.append(CellError(row, FIELDS.get(field, field), " ".join(messages)))
            else:
                if data.id_number in on_roster:
                    row_errors.append(CellError(row, "身份证号", _("该身份证号已在会员名册中。")))
                elif data.id_number in seen:
                    row_errors.append(
                        CellError(
                            row,
                            "身份证号",
                            _("与第 %(r)s 行身份证号重复。") % {"r": seen[data.id_number]},
                        )
                    )
                else:
                    seen[data.id_number] = row
                    members.append(data)
        # A cell refused as it was read (a formula, say) is named once.
        errors.extend(e for e in row_errors if (e.row, e.column) not in refused)
    return Checked(members, errors)


class RosterRefused(ValidationError):
    """The import found bad cells (the rows are checked again on confirm)."""

    def __init__(self, errors: list[CellError]) -> None:
        super().__init__([str(e) for e in errors])
        self.cells = errors


@transaction.atomic
def roster_import(*, actor: User, cooperative: Cooperative, roster: Roster) -> list[CoopMember]:
    """Add every row of a checked roster, or none: the rows are checked again
    (the roster may have changed since the preview) inside one transaction."""
    if not cooperative.is_active:
        raise ValidationError(_("该互助合作社已停用，不能办理入会。"))
    if not _units(actor, cooperative):
        raise PermissionDenied(_("您无权管理该工会的互助会员。"))
    checked = roster_check(actor=actor, cooperative=cooperative, roster=roster)
    if checked.errors:
        raise RosterRefused(checked.errors)
    added = []
    for data in checked.members:
        added.append(
            mutual.member_add(
                actor=actor,
                cooperative=cooperative,
                name=data.name,
                id_number=data.id_number,
                unit=data.unit,
                phone=data.phone,
                joined_on=data.joined_on,
            )
        )
    audit_record(
        actor=actor,
        action="coop.roster_import",
        obj=cooperative,
        unit=cooperative.unit,
        changes={
            "rows": [None, len(added)],
            "linked": [None, sum(1 for m in added if m.household_id is not None)],
        },
    )
    return added


def template_xlsx(cooperative: Cooperative) -> bytes:
    """The roster template: the five headers, every cell text (so Excel keeps
    the ID number's 18 digits and leading zeros), and one example row."""
    book = Workbook()
    sheet = book.active
    sheet.title = _("会员名册")
    sheet.append(list(HEADERS))
    sheet.append(["张三", "", cooperative.unit.name, "13800000000", "2024-03-01"])
    for column in "ABCDE":
        sheet.column_dimensions[column].width = 22
        for cell in sheet[column]:
            cell.number_format = "@"
    out = io.BytesIO()
    keep_book_text(book).save(out)
    return out.getvalue()
