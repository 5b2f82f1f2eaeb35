"""建档迁移: bringing a union's existing register in as filed households.

The register's files were filed under the rules of their time, so they do not
go through the intake steps again: each comes in 已建档 (or 已退出) with its
own file number and filing date, its members, categories and helpers, and one
history row "迁移建档" naming who imported it and from which upload.

Like the household import, the whole workbook is checked first and every bad
cell comes back with its sheet, row and column; nothing is written unless
every row of both sheets is good, and then everything is written in one
transaction with one audit event carrying the counts. The rows are checked
with the household import's cell widgets (`cases.resources`), driven by a
plain loop rather than import-export's row machinery: a register of 100,000
households and 200,000 members must go in at ten thousand rows a second, so
every lookup is loaded once and every write is a chunked bulk insert.

Only a union's chair or its administrator may migrate a register into it
(`MIGRATE_ACTIONS`); the web pages, the background jobs and
`manage.py migrate_register` all come through `register_import`.
"""

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.bulk import AnyOf, bulk_insert, collector_paused, values_per_lookup
from accounts.i18n import NameIndex
from accounts.models import Unit, User
from accounts.scoping import roles_for, scope_q

from .. import choices as c
from .. import clock, idnumber
from ..import_sheet import EXAMPLE_ID, MIGRATE_MAX_BYTES, check_upload
from ..migrate_sheet import (
    HEADERS,
    HELPER_PARTS,
    MEMBER_HEADERS,
    MEMBERS_SHEET,
    SHEET_NAME,
    STATUS_EXITED,
    STATUS_FILED,
    Register,
    SheetError,
    date_value,
    probe_register,
    read_register,
)
from ..models import (
    CLOSED_STATUSES,
    CaseRules,
    ExitKind,
    FileCategory,
    Helper,
    HelperPerson,
    HelperRole,
    Household,
    HouseholdStatus,
    Member,
    StatusChange,
)
from ..resources import (
    BankAccount,
    CauseCell,
    CauseList,
    HouseholdSize,
    IdNumber,
    Lookups,
    Money,
    Phone,
    Text,
    TierCell,
    UnitCell,
    _long_number,
    _text,
    split_names,
)
from .households import duplicate_message, per_capita_monthly
from .imports import _common_unit
from .lifecycle import add_years

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]

# A union's chair or its administrator: the people who answer for its register.
MIGRATE_ACTIONS = ("case.decide", "config.manage")
CHUNK = 2000
# Helpers with no stated role: the order unions commonly pair them in.
ROLE_ORDER = (HelperRole.UNIT_LEADER, HelperRole.UNION_CADRE, HelperRole.GRASSROOTS_LEADER)
MIGRATION_REASON = "迁移建档"


# -- who may ------------------------------------------------------------------------------


def migration_units(actor: User) -> QuerySet[Unit]:
    """The units whose register this person may bring in."""
    return Unit.objects.filter(scope_q(actor, MIGRATE_ACTIONS, "") or Q(pk__in=[]))


def may_migrate(actor: User) -> bool:
    return any(roles_for(actor, action) for action in MIGRATE_ACTIONS)


def require_migrator(actor: User) -> None:
    if not may_migrate(actor):
        raise PermissionDenied(_("只有工会主席或系统管理员可以迁移已有档案。"))


def migration_label(filename: str, upload_id: int | str) -> str:
    """What `migrated_from` says: the file and the upload it came in with."""
    return (_("%(file)s（上传 #%(id)s）") % {"file": filename[:150], "id": upload_id})[:200]


# -- the report ---------------------------------------------------------------------------


@dataclass
class MigrationReport:
    """What a check or an import found. The history import returns the same
    shape, so one preview page shows either."""

    total: int  # data rows in the file (all sheets)
    valid: int  # rows without a problem
    imported: int = 0  # rows written (0 unless the whole file was good and not check_only)
    errors: list[SheetError] = field(default_factory=list)
    units: dict[str, int] = field(default_factory=dict)  # unit name → households (or rows)
    counts: dict[str, int] = field(default_factory=dict)  # what was (or would be) written
    source: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors


def _order(error: SheetError) -> tuple[int, int, int, str]:
    sheet = 0 if error.sheet == SHEET_NAME else 1
    headers = HEADERS if error.sheet == SHEET_NAME else MEMBER_HEADERS
    position = headers.index(error.column) if error.column in headers else len(headers)
    return (sheet, error.row or 0, position, error.column)


# -- label lookups (the workbook is Chinese whatever the page's language) ------------------


def _labels(choices: Any) -> dict[str, str]:
    with translation.override("zh-hans"):
        return {str(label): value for value, label in choices if value}


def _choice(value: Any, labels: dict[str, str], what: str) -> str:
    text = _text(value)
    if text in labels:
        return labels[text]
    raise ValueError(
        _("“%(v)s”不是有效的%(what)s（可选：%(c)s）。")
        % {"v": text[:20], "what": what, "c": "、".join(labels)}
    )


def _maker(model: Any) -> Callable[..., Any]:
    """`model(**values)` for row after row, faster: the instance is made
    from positional values, each field's default worked out once, where the
    keyword path works out every default again for each instance. A callable
    default is called once, so only for models without one that must differ
    per row."""
    fields = model._meta.concrete_fields
    blank = [f.get_default() for f in fields]
    slot = {f.attname: i for i, f in enumerate(fields)}

    def make(**values: Any) -> Any:
        args = blank.copy()
        for name, value in values.items():
            args[slot[name]] = value
        return model(*args)

    return make


# -- checking -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Refused:
    message: str


_MISSING = object()
_KEPT = (str, int)  # the cell values a memo keeps (never bool: refused when read)


def _judged(clean: Callable[[Any], Any], memo: dict[Any, Any], keep: bool, raw: Any) -> Any:
    """What `clean` makes of a cell, or `_Refused` with why. An empty cell's
    outcome is kept in `memo`, and with `keep` any text or whole number's:
    a column whose values repeat is judged once per distinct value. Floats
    are never kept: -0.0 equals 0 as a key but not as money."""
    kept = raw is None or (keep and raw.__class__ in _KEPT)
    outcome = memo.get(raw, _MISSING) if kept else _MISSING
    if outcome is _MISSING:
        try:
            outcome = clean(raw)
        except ValueError as exc:
            outcome = _Refused(str(exc))
        if kept:
            memo[raw] = outcome
    return outcome


@dataclass
class _Planned:
    """One household that will be written, with what hangs on it."""

    household: Household
    secondary: list[Any]
    categories: list[int]
    helpers: list[tuple[str, str, str]]  # name, post, phone; the first is 第一帮扶人
    members: list[Member] = field(default_factory=list)


class _Checker:
    def __init__(
        self,
        *,
        actor: User | None,
        register: Register,
        source_label: str,
        unit_scope: Unit | None,
        progress: Progress | None,
    ) -> None:
        self.actor = actor
        self.register = register
        self.source_label = source_label
        self.progress = progress
        self.errors: list[SheetError] = list(register.errors)
        self.lookups = Lookups.load(actor=None, scope=unit_scope)
        # The unit cell finds any active unit; whether this person may
        # migrate into it is asked below, in the migration's own words.
        self.lookups.allowed_unit_ids = set(
            Unit.objects.filter(is_active=True).values_list("pk", flat=True)
        )
        self.migratable = self.lookups.allowed_unit_ids
        if actor is not None:
            self.migratable = set(
                migration_units(actor).filter(is_active=True).values_list("pk", flat=True)
            )
        self.today = self.lookups.today
        self.rules = CaseRules.current()
        self.max_helpers = self.rules.helpers_per_household + (
            1 if self.rules.first_helper_extra else 0
        )
        self.categories = NameIndex(FileCategory.objects.all())
        self.relations = _labels(c.Relation.choices)
        self.health = _labels(c.HealthStatus.choices)
        self.exit_kinds = _labels(ExitKind.choices)
        self.planned: list[_Planned] = []
        self.bad_households = 0
        self.bad_members = 0
        self.members = 0
        self.helpers = 0
        self.exited = 0
        self.by_unit: dict[int, int] = {}
        actor_id = actor.pk if actor is not None else None
        self._blank = [
            actor_id if f.attname == "created_by_id" else f.get_default()
            for f in Household._meta.concrete_fields
        ]
        self.now = clock.now()
        # Cells judged once (see `_categories`, `_helpers`): what each gave,
        # with the problem found in it, if any.
        self._category_cells: dict[str, tuple[list[FileCategory], dict[str, str]]] = {}
        self._helper_cells: dict[str, tuple[list[tuple[str, str, str]], dict[str, str]]] = {}

    # Everything the rows are checked against, loaded in a few queries.
    def _preload(self) -> None:
        households, members = self.register.households, self.register.members
        heads: list[str] = []
        id_col = households.column("身份证号")
        if id_col is not None:
            heads = [idnumber.normalize(str(r[id_col])) for r in households.rows
                     if isinstance(r[id_col], str | int)]  # fmt: skip
        member_ids: list[str] = []
        m_col = members.column("身份证号")
        if m_col is not None:
            member_ids = [idnumber.normalize(str(r[m_col])) for r in members.rows
                          if isinstance(r[m_col], str | int)]  # fmt: skip
        everyone = sorted(set(heads) | set(member_ids))
        self.lookups.load_existing(everyone)
        # Members of files in force: a person belongs to one household.
        self.existing_members: dict[str, str] = {}
        chunk = values_per_lookup(Member)
        for start in range(0, len(everyone), chunk):
            self.existing_members.update(
                Member.objects.exclude(household__status__in=CLOSED_STATUSES)
                .filter(AnyOf(F("id_number"), everyone[start : start + chunk]))
                .values_list("id_number", "household__unit__name")
            )
        numbers: list[str] = []
        n_col = households.column("档案编号")
        if n_col is not None:
            numbers = sorted({_text(r[n_col]) for r in households.rows if r[n_col] is not None})
        self.taken_numbers: set[tuple[int, str | None]] = set()
        for start in range(0, len(numbers), chunk):
            self.taken_numbers.update(
                Household.objects.filter(
                    AnyOf(F("file_number"), numbers[start : start + chunk])
                ).values_list("unit_id", "file_number")
            )

    def run(self) -> None:
        if not self.register.usable:
            return  # a required column is missing: the header problems are the answer
        self._preload()
        self._households()
        self._members()

    def _tick(self, done: int) -> None:
        if self.progress is not None and done % 1000 == 0:
            total = self.register.total
            self.progress(total + done, 3 * total)

    # -- 困难职工 ------------------------------------------------------------------------

    def _households(self) -> None:
        table = self.register.households
        col = {name: table.column(name) for name in HEADERS}
        lookups = self.lookups
        widgets: dict[str, Any] = {
            "户主姓名": Text(max_length=50, required=True),
            "身份证号": IdNumber(required=True),
            "联系电话": Phone(),
            "所属工会": UnitCell(required=True),
            "工作单位": Text(max_length=100),
            "家庭住址": Text(max_length=200, required=True),
            "困难类别": TierCell(),
            "主要致困原因": CauseCell(),
            "次要致困原因": CauseList(),
            "家庭人口": HouseholdSize(required=True),
            "家庭年收入": Money(required=True),
            "年刚性支出": Money(),
            "开户银行": Text(max_length=50),
            "银行账号": BankAccount(),
            "备注": Text(max_length=2000),
            "档案编号": Text(max_length=40, required=True),
            "退出原因": Text(max_length=2000),
        }
        for widget in widgets.values():
            widget.lookups = lookups
        # A register repeats its units, tiers, causes, employers, banks and
        # sums on row after row (`_judged`); a person's own name, ID number,
        # phone, account and file number are not worth keeping.
        own = {"户主姓名", "身份证号", "联系电话", "银行账号", "档案编号"}
        plan: list[tuple[str, int, Callable[[Any], Any], dict[Any, Any], bool]] = [
            (name, position, widget.clean, {}, name not in own)
            for name, widget in widgets.items()
            if (position := col[name]) is not None
        ]
        first_id: dict[str, int] = {}
        first_number: dict[tuple[int, str], int] = {}
        self.heads: dict[str, int] = {}  # head's ID number → index in self.planned
        # Every well-formed head ID in the sheet → its first Excel row.
        self.all_heads: dict[str, int] = {}
        retention = self.rules.retention_years
        for index, row in enumerate(table.rows):
            excel_row = table.row_numbers[index]
            errors: dict[str, str] = dict(table.flags.get(index, {}))
            values: dict[str, Any] = {}

            for name, position, clean, memo, keep in plan:
                if name in errors:
                    continue
                outcome = _judged(clean, memo, keep, row[position])
                if outcome.__class__ is _Refused:
                    errors[name] = outcome.message
                else:
                    values[name] = outcome

            def cell(name: str, errors: dict[str, str] = errors, row: Any = row) -> Any:
                position = col[name]
                if position is None or name in errors:
                    return None
                return row[position]

            filed_on = self._date(cell("建档日期"), "建档日期", errors, required=True)
            visited_on = self._date(cell("最近走访日期"), "最近走访日期", errors)
            exited_on = self._date(cell("退出日期"), "退出日期", errors)
            categories = self._categories(cell("档案分类"), errors)
            status, exit_kind, exit_reason = self._status(
                cell("档案状态"), exited_on, values.get("退出原因", ""), errors
            )
            if filed_on and exited_on and exited_on < filed_on and "退出日期" not in errors:
                errors["退出日期"] = _("退出日期不能早于建档日期 %(d)s。") % {"d": filed_on}
            # Only files in force must be one per person: a register may
            # hold someone's exited file beside their current one.
            in_force = status != HouseholdStatus.EXITED
            info = values.get("身份证号")
            if info is not None:
                problem = ""
                if info.number == EXAMPLE_ID:
                    problem = _("这是模板中的示例行，请删除后再导入。")
                elif not in_force:
                    pass
                elif info.number in first_id:
                    problem = _("与第 %(row)s 行的身份证号重复，同一人只能有一份在档档案。") % {
                        "row": first_id[info.number]
                    }
                elif info.number in lookups.existing:
                    problem = duplicate_message(lookups.existing[info.number])
                elif info.number in self.existing_members:
                    problem = _(
                        "该身份证号已是“%(unit)s”一户在档家庭的成员，不能再作为户主建档。"
                    ) % {"unit": self.existing_members[info.number]}
                if in_force:
                    first_id.setdefault(info.number, excel_row)
                self.all_heads.setdefault(info.number, excel_row)
                if problem:
                    errors["身份证号"] = problem
            unit = values.get("所属工会")
            if unit is not None and unit.pk not in self.migratable:
                errors["所属工会"] = _(
                    "“%(v)s”不在您任主席或系统管理员的工会范围内，不能迁移到该工会。"
                ) % {"v": unit.name}
                unit = None
            number = values.get("档案编号")
            if unit is not None and number:
                key = (unit.pk, number)
                if key in first_number:
                    errors["档案编号"] = _(
                        "与第 %(row)s 行的档案编号重复，同一工会的档案编号不能相同。"
                    ) % {"row": first_number[key]}
                elif key in self.taken_numbers:
                    errors["档案编号"] = _("“%(unit)s”已有档案编号为“%(n)s”的档案。") % {
                        "unit": unit.name,
                        "n": number,
                    }
                first_number.setdefault(key, excel_row)
            main = values.get("主要致困原因")
            secondary = values.get("次要致困原因") or []
            if main is not None and any(cause.pk == main.pk for cause in secondary):
                errors["次要致困原因"] = _("次要致困原因不能与主要致困原因相同。")

            helpers = self._helpers(cell("帮扶人"), errors)

            if errors:
                self.bad_households += 1
                for name, message in errors.items():
                    self.errors.append(SheetError(SHEET_NAME, excel_row, name, message))
                self._tick(index + 1)
                continue
            # A row without errors has every required cell.
            assert info is not None and unit is not None and filed_on is not None

            household = Household(*self._blank)
            household.name = values["户主姓名"]
            household.id_number, household.birth_date, household.sex = (
                info.number,
                info.birth_date,
                info.sex,
            )
            household.phone = values.get("联系电话", "")
            # The ids, not the objects: the write reads nothing else, and a
            # related object's descriptor costs more than the rest of the row.
            household.unit_id = unit.pk
            household.employer = values.get("工作单位", "")
            household.address = values["家庭住址"]
            tier = values.get("困难类别")
            household.tier_id = tier.pk if tier is not None else None
            household.main_cause_id = main.pk if main is not None else None
            household.household_size = values["家庭人口"]
            household.income_other = values["家庭年收入"]
            household.expense_medical = values.get("年刚性支出", Decimal("0.00"))
            household.bank_name = values.get("开户银行", "")
            household.bank_account = values.get("银行账号", "")
            household.note = values.get("备注", "")
            household.per_capita_monthly_income = per_capita_monthly(household)
            household.file_number = number
            household.filed_on = filed_on
            household.last_visited_on = visited_on
            household.status = status
            household.migrated_from = self.source_label
            household.migrated_at = self.now
            if status == HouseholdStatus.EXITED:
                assert exited_on is not None  # required for an exited row
                household.exited_on = exited_on
                household.exit_kind = exit_kind
                household.exit_reason = exit_reason
                household.retention_until = add_years(exited_on, retention)
                self.exited += 1
            if in_force or info.number not in self.heads:
                # Members join the file in force when there is one.
                self.heads[info.number] = len(self.planned)
            self.planned.append(_Planned(household, secondary, [f.pk for f in categories], helpers))
            self.by_unit[unit.pk] = self.by_unit.get(unit.pk, 0) + 1
            self.helpers += len(helpers)
            self._tick(index + 1)

    def _date(
        self, value: Any, column: str, errors: dict[str, str], *, required: bool = False
    ) -> datetime.date | None:
        if value is None:
            if required and column not in errors:
                errors[column] = _("必填，不能为空。")
            return None
        try:
            day = date_value(value)
        except ValueError as exc:
            errors[column] = str(exc)
            return None
        if day > self.today:
            errors[column] = _("日期 %(d)s 晚于今天。") % {"d": day.isoformat()}
            return None
        if day.year < 1950:
            errors[column] = _("日期 %(d)s 太早，请检查。") % {"d": day.isoformat()}
            return None
        return day

    def _categories(self, value: Any, errors: dict[str, str]) -> list[FileCategory]:
        """The categories a cell names; a register repeats a few, each
        distinct cell is judged once."""
        if value is None:
            return []
        if value.__class__ is str:
            if value not in self._category_cells:
                found: dict[str, str] = {}
                self._category_cells[value] = (self._judge_categories(value, found), found)
            categories, problems = self._category_cells[value]
            errors.update(problems)
            return categories
        return self._judge_categories(value, errors)

    def _judge_categories(self, value: Any, errors: dict[str, str]) -> list[FileCategory]:
        found: list[FileCategory] = []
        active = [f.display_name for f in self.categories.values() if f.is_active]
        for name in split_names(_text(value), self.categories):
            if not name:
                continue
            category = self.categories.get(name)
            if category is None or not category.is_active:
                errors["档案分类"] = _("系统中没有启用的档案分类“%(v)s”（可选：%(c)s）。") % {
                    "v": name[:20],
                    "c": "、".join(active),
                }
                return []
            if category not in found:
                found.append(category)
        return found

    def _status(
        self,
        value: Any,
        exited_on: datetime.date | None,
        reason: str,
        errors: dict[str, str],
    ) -> tuple[str, str, str]:
        text = _text(value) if value is not None else STATUS_FILED
        if text not in (STATUS_FILED, STATUS_EXITED):
            errors["档案状态"] = _("应填写“%(a)s”或“%(b)s”（不填视为在档），现为“%(v)s”。") % {
                "a": STATUS_FILED,
                "b": STATUS_EXITED,
                "v": text[:20],
            }
            return "", "", ""
        if text == STATUS_FILED:
            if exited_on is not None:
                errors["退出日期"] = _("档案状态为“在档”时不填退出日期。")
            if reason:
                errors["退出原因"] = _("档案状态为“在档”时不填退出原因。")
            return HouseholdStatus.FILED, "", ""
        if exited_on is None and "退出日期" not in errors:
            errors["退出日期"] = _("档案状态为“已退出”时必须填写退出日期。")
        if "退出原因" in errors:
            return HouseholdStatus.EXITED, "", ""
        if not reason:
            errors["退出原因"] = _("档案状态为“已退出”时必须填写退出原因。")
            return HouseholdStatus.EXITED, "", ""
        label, _sep, rest = reason.replace(":", "：").partition("：")
        kind = self.exit_kinds.get(label.strip())
        if kind is None:
            errors["退出原因"] = _(
                "请以退出类型开头（可选：%(c)s），如“脱困：家庭收入连续六个月高于标准”。"
            ) % {"c": "、".join(self.exit_kinds)}
            return HouseholdStatus.EXITED, "", ""
        return HouseholdStatus.EXITED, kind, rest.strip() or label.strip()

    def _helpers(self, value: Any, errors: dict[str, str]) -> list[tuple[str, str, str]]:
        """The helpers a cell names; the same few helpers pair with many
        households, so each distinct cell is judged once."""
        if value is None:
            return []
        if value.__class__ is str:
            if value not in self._helper_cells:
                found: dict[str, str] = {}
                self._helper_cells[value] = (self._judge_helpers(value, found), found)
            helpers, problems = self._helper_cells[value]
            errors.update(problems)
            return helpers
        return self._judge_helpers(value, errors)

    def _judge_helpers(self, value: Any, errors: dict[str, str]) -> list[tuple[str, str, str]]:
        found: list[tuple[str, str, str]] = []
        for entry in str(value).replace("／", HELPER_PARTS).split("、"):
            entry = entry.strip()
            if not entry:
                continue
            parts = [p.strip() for p in entry.split(HELPER_PARTS)]
            if len(parts) > 3 or not parts[0]:
                errors["帮扶人"] = _(
                    "“%(v)s”应写成“姓名/职务/电话”（职务、电话可不填），多人用“、”分隔。"
                ) % {"v": entry[:30]}
                return []
            name, post, phone = [*parts, "", ""][:3]
            if len(name) > 50 or len(post) > 50:
                errors["帮扶人"] = _("“%(v)s”：姓名和职务都不能超过 50 个字。") % {"v": entry[:30]}
                return []
            try:
                phone = Phone().convert(phone) if phone else ""
            except ValueError as exc:
                errors["帮扶人"] = _("“%(v)s”：%(e)s") % {"v": entry[:30], "e": exc}
                return []
            if any(f[0] == name and f[2] == phone for f in found):
                errors["帮扶人"] = _("“%(v)s”重复填写了。") % {"v": name}
                return []
            found.append((name, post, phone))
        if len(found) > self.max_helpers:
            errors["帮扶人"] = _("每户最多 %(n)s 名帮扶人，这里填了 %(m)s 名。") % {
                "n": self.max_helpers,
                "m": len(found),
            }
            return []
        return found

    # -- 家庭成员 ------------------------------------------------------------------------

    def _members(self) -> None:
        table = self.register.members
        col = {name: table.column(name) for name in MEMBER_HEADERS}
        name_cell = Text(max_length=50, required=True)
        id_cell = IdNumber()
        id_cell.lookups = self.lookups
        money = Money()
        school = Text(max_length=100)
        grade = Text(max_length=20)
        # Incomes, schools and grades repeat (`_judged`); names hardly.
        plan: list[tuple[str, int, Callable[[Any], Any], dict[Any, Any], bool, str]] = [
            (name, position, widget.clean, {}, name != "姓名", attribute)
            for name, widget, attribute in (
                ("姓名", name_cell, "name"),
                ("年收入", money, "annual_income"),
                ("就读学校", school, "school"),
                ("年级", grade, "grade"),
            )
            if (position := col[name]) is not None
        ]
        first_id: dict[str, int] = {}
        head_count = len(self.register.households.rows)
        # Positional defaults: the keyword path looks up every field's
        # default again for each of 200,000 members.
        member_blank = [f.get_default() for f in Member._meta.concrete_fields]
        # Translated once, not once a row.
        head_label, relation_label, health_label = _("户主身份证号"), _("与户主关系"), _("健康状况")
        for index, row in enumerate(table.rows):
            excel_row = table.row_numbers[index]
            errors: dict[str, str] = dict(table.flags.get(index, {}))

            def cell(name: str, errors: dict[str, str] = errors, row: Any = row) -> Any:
                position = col[name]
                if position is None or name in errors:
                    return None
                return row[position]

            member = Member(*member_blank)
            head_number = ""
            value = cell("户主身份证号")
            if value is None:
                if "户主身份证号" not in errors and col["户主身份证号"] is not None:
                    errors["户主身份证号"] = _("必填，不能为空。")
            else:
                try:
                    head_number = idnumber.normalize(_long_number(value, head_label))
                except ValueError as exc:
                    errors["户主身份证号"] = str(exc)
                if head_number and head_number not in self.all_heads:
                    errors["户主身份证号"] = _("“%(s)s”表中没有身份证号为 %(n)s 的户主。") % {
                        "s": SHEET_NAME,
                        "n": head_number[:18],
                    }
            for name, position, clean, memo, keep, attribute in plan:
                if name in errors:
                    continue
                outcome = _judged(clean, memo, keep, row[position])
                if outcome.__class__ is _Refused:
                    errors[name] = outcome.message
                else:
                    setattr(member, attribute, outcome)
            relation = cell("与户主关系")
            if relation is None:
                if "与户主关系" not in errors and col["与户主关系"] is not None:
                    errors["与户主关系"] = _("必填，不能为空。")
            else:
                try:
                    member.relation = _choice(relation, self.relations, relation_label)
                except ValueError as exc:
                    errors["与户主关系"] = str(exc)
            health = cell("健康状况")
            if health is not None:
                try:
                    member.health_status = _choice(health, self.health, health_label)
                except ValueError as exc:
                    errors["健康状况"] = str(exc)
            number = cell("身份证号")
            if number is not None:
                try:
                    info = id_cell.clean(number)
                except ValueError as exc:
                    errors["身份证号"] = str(exc)
                else:
                    member.id_number, member.birth_date, member.sex = (
                        info.number,
                        info.birth_date,
                        info.sex,
                    )
                    problem = self._member_id_problem(info.number, head_number, first_id)
                    first_id.setdefault(info.number, excel_row)
                    if problem:
                        errors["身份证号"] = problem
            if errors:
                self.bad_members += 1
                for name, message in errors.items():
                    self.errors.append(SheetError(MEMBERS_SHEET, excel_row, name, message))
            elif not self.errors:
                self.planned[self.heads[head_number]].members.append(member)
                self.members += 1
            self._tick(head_count + index + 1)

    def _member_id_problem(self, number: str, head: str, first_id: dict[str, int]) -> str:
        if number == head:
            return _("这是户主本人的身份证号；户主不用在家庭成员表中再填一遍。")
        if number in self.lookups.existing:
            return duplicate_message(self.lookups.existing[number])
        if number in self.existing_members:
            return _("该身份证号已是“%(unit)s”一户在档家庭的成员。") % {
                "unit": self.existing_members[number]
            }
        if number in first_id:
            return _("与本表第 %(row)s 行的身份证号重复，同一人只能是一户的成员。") % {
                "row": first_id[number]
            }
        if number in self.all_heads:
            return _("与“%(s)s”表第 %(row)s 行的户主身份证号相同，同一人不能同在两户。") % {
                "s": SHEET_NAME,
                "row": self.all_heads[number],
            }
        return ""

    # -- writing -------------------------------------------------------------------------

    def write(self, actor: User) -> dict[str, int]:
        """Everything, in chunked bulk inserts; the caller holds the transaction."""
        planned = self.planned
        written = 0
        total = self.register.total
        households = [p.household for p in planned]
        for start in range(0, len(households), CHUNK):
            bulk_insert(households[start : start + CHUNK], returning=True)
            written += len(households[start : start + CHUNK])
            if self.progress is not None:
                self.progress(2 * total + written, 3 * total)
        categories = Household.categories.through
        causes = Household.secondary_causes.through
        category, cause = _maker(categories), _maker(causes)
        bulk_insert([category(household_id=p.household.pk, filecategory_id=pk)
                     for p in planned for pk in p.categories])  # fmt: skip
        bulk_insert([cause(household_id=p.household.pk, cause_id=other.pk)
                     for p in planned for other in p.secondary])  # fmt: skip
        members = []
        for p in planned:
            for member in p.members:
                member.household_id = p.household.pk
                members.append(member)
        for start in range(0, len(members), 5000):
            bulk_insert(members[start : start + 5000])
            written += len(members[start : start + 5000])
            if self.progress is not None:
                self.progress(2 * total + written, 3 * total)
        new_people = self._write_helpers(actor)
        reason = _("%(what)s：%(who)s 从 %(source)s 导入。") % {
            "what": MIGRATION_REASON,
            "who": str(actor),
            "source": self.source_label,
        }
        status_change = _maker(StatusChange)
        bulk_insert(
            [
                status_change(
                    household_id=p.household.pk,
                    from_status="",
                    to_status=p.household.status,
                    actor_id=actor.pk,
                    at=self.now,
                    reason=reason,
                )
                for p in planned
            ]
        )
        return {
            "households": len(planned),
            "members": len(members),
            "helpers": self.helpers,
            "helper_people_added": new_people,
            "exited": self.exited,
        }

    def _write_helpers(self, actor: User) -> int:
        """Roster people matched in the household's union by name and phone
        (added when missing), then the pairings, the first one 第一帮扶人."""
        units = {p.household.unit_id for p in self.planned if p.helpers}
        if not units:
            return 0
        roster: dict[tuple[int, str, str], int] = {}
        logins: dict[int, int | None] = {}  # "my households" reads the pairing's login
        for pk, unit_id, name, phone, user_id in (
            HelperPerson.objects.filter(unit_id__in=units, is_active=True)
            .order_by("id")
            .values_list("pk", "unit_id", "name", "phone", "user_id")
        ):
            roster.setdefault((unit_id, name, phone), pk)
            logins[pk] = user_id
        wanted: dict[tuple[int, str, str], HelperPerson] = {}
        for p in self.planned:
            for name, post, phone in p.helpers:
                key = (p.household.unit_id, name, phone)
                if key not in roster and key not in wanted:
                    wanted[key] = HelperPerson(
                        unit_id=key[0], name=name, post=post, phone=phone, created_by=actor
                    )
        bulk_insert(list(wanted.values()), returning=True)
        for key, person in wanted.items():
            roster[key] = person.pk
        pairings = []
        helper = _maker(Helper)
        for p in self.planned:
            household = p.household
            ended = household.exited_on if household.status == HouseholdStatus.EXITED else None
            for position, (name, _post, phone) in enumerate(p.helpers):
                pairings.append(
                    helper(
                        household_id=household.pk,
                        person_id=(person_pk := roster[(household.unit_id, name, phone)]),
                        user_id=logins.get(person_pk),
                        role=ROLE_ORDER[min(position, len(ROLE_ORDER) - 1)],
                        is_first=position == 0,
                        start_on=cast(datetime.date, household.filed_on),
                        end_on=ended,
                        end_reason=_("档案已退出") if ended else "",
                        last_visited_on=household.last_visited_on,
                    )
                )
        bulk_insert(pairings)
        return len(wanted)


# -- the service --------------------------------------------------------------------------


@collector_paused()
def register_import(
    *,
    actor: User | None,
    path: str | Path,
    source_label: str,
    check_only: bool,
    unit_scope: Unit | None = None,
    progress: Progress | None = None,
) -> MigrationReport:
    """Check the register workbook at `path` and, unless `check_only`, bring
    every household in, all or nothing.

    `actor` migrates into the units they chair or administer (None: a
    command-line check by whoever runs the server, which may look at every
    unit but writes nothing); `unit_scope` narrows that to one unit and those
    below it. `source_label` names the upload in `migrated_from` and in each
    file's history row. Never raises for bad rows: the report lists them
    (sheet, row, column, reason) and nothing is written.
    """
    if actor is not None:
        require_migrator(actor)
    elif not check_only:
        raise PermissionDenied(_("迁移已有档案须指明操作人。"))
    path = Path(path)
    filename = path.name
    with path.open("rb") as source:
        check_upload(filename, path.stat().st_size, source.read(8), limit=MIGRATE_MAX_BYTES)
        source.seek(0)
        # The bar: reading is its first third, checking the second, writing
        # the last; the row count Excel records sizes it before reading.
        estimate = probe_register(source) if progress is not None else 0

        def reading(done: int) -> None:
            if progress is not None:
                progress(done, 3 * max(estimate, done))

        register = read_register(source, filename=filename, progress=reading)
    checker = _Checker(
        actor=actor,
        register=register,
        source_label=source_label,
        unit_scope=unit_scope,
        progress=progress,
    )
    checker.run()
    report = _report(checker)
    if not report.ok or check_only:
        if progress is not None:
            progress(3 * register.total, 3 * register.total)
        return report
    assert actor is not None
    try:
        with transaction.atomic():
            report.counts = checker.write(actor)
            report.imported = report.counts["households"] + report.counts["members"]
            units = list(Unit.objects.filter(pk__in=checker.by_unit))
            audit_record(
                actor=actor,
                action="household.migrate",
                unit=_common_unit(units),
                changes={
                    **{name: [None, n] for name, n in report.counts.items()},
                    "file": [None, filename],
                    "source": [None, source_label],
                    "units": [None, report.units],
                },
            )
    except IntegrityError:
        # Someone filed one of these people, or used one of these file
        # numbers, after the check. Nothing stays; checking again names them.
        report.imported = 0
        report.errors = [
            SheetError(
                "",
                None,
                "",
                _(
                    "保存时数据库拒绝了部分档案（可能刚有人为同一人建档或用了同一档案编号），"
                    "未导入任何数据。请重新上传检查。"
                ),
            )
        ]
    if progress is not None:
        progress(3 * register.total, 3 * register.total)
    return report


def _report(checker: _Checker) -> MigrationReport:
    register = checker.register
    errors = sorted(checker.errors, key=_order)
    names = dict(Unit.objects.filter(pk__in=checker.by_unit).values_list("pk", "name"))
    return MigrationReport(
        total=register.total,
        valid=(register.total - checker.bad_households - checker.bad_members)
        if register.usable
        else 0,
        errors=errors,
        units={names[pk]: n for pk, n in sorted(checker.by_unit.items(), key=lambda i: -i[1])},
        counts={
            "households": len(checker.planned),
            "members": checker.members,
            "helpers": checker.helpers,
            "exited": checker.exited,
        },
        source=checker.source_label,
    )
