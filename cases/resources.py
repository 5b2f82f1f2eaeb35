"""The household import's resource: the template's Chinese headers mapped
onto Household with django-import-export.

Units, tiers, causes and the ID numbers already on file are loaded once
before the first row; each cell is checked by a widget that reuses the
household form's rules and says in Chinese what is wrong; rows go in with
bulk_create in batches, and nothing at all once any row has failed. The
file is read by `cases.import_sheet`; the service that runs this resource
inside one transaction and audits it is
`cases.services.imports.households_import`.
"""

import datetime
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export import fields, resources, widgets
from import_export.results import Result

from accounts.bulk import AnyOf, values_per_lookup
from accounts.i18n import NameIndex
from accounts.models import Unit, User
from accounts.money import CENT, TOO_LARGE, ZERO
from accounts.scoping import roles_for

from . import clock, idnumber
from .forms.fields import bank_account_value, non_negative, phone_value
from .import_sheet import EXAMPLE_ID, Sheet
from .models import CLOSED_STATUSES, Cause, Household, Tier
from .services.households import duplicate_message, per_capita_monthly

MAX_HOUSEHOLD_SIZE = 99
_SEPARATORS = re.compile(r"[、，,；;]+")


def split_names(text: str, index: NameIndex[Any]) -> list[str]:
    """The names in a cell of several (次要致困原因, 档案分类): separated by
    、 or commas, or by blanks, which English names also hold ("Low
    income"): among blank-separated words the longest run that names an
    entry is one name, a word that starts none is a name on its own (and
    reported as unknown)."""
    names: list[str] = []
    for part in _SEPARATORS.split(text):
        words = part.split()
        start = 0
        while start < len(words):
            end = next(
                (
                    end
                    for end in range(min(len(words), start + index.most_words), start + 1, -1)
                    if index.get(" ".join(words[start:end])) is not None
                ),
                start + 1,
            )
            names.append(" ".join(words[start:end]))
            start = end
    return names


# -- the cells ---------------------------------------------------------------------------


class Cell(widgets.Widget):
    """A template cell: empty or a value; a bad value raises ValueError with
    the reason in Chinese, which the resource reports with row and column."""

    def __init__(self, *, required: bool = False) -> None:
        super().__init__()
        self.required = required

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        if value is None:
            if self.required:
                raise ValueError(_("必填，不能为空。"))
            return self.empty()
        return self.convert(value)

    def empty(self) -> Any:
        return ""

    def convert(self, value: Any) -> Any:
        return value


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class Text(Cell):
    def __init__(self, *, max_length: int, required: bool = False) -> None:
        super().__init__(required=required)
        self.max_length = max_length

    def convert(self, value: Any) -> str:
        text = _text(value)
        if len(text) > self.max_length:
            raise ValueError(
                _("不能超过 %(n)s 个字（现有 %(m)s 个）。") % {"n": self.max_length, "m": len(text)}
            )
        return text


def _long_number(value: Any, what: Any) -> str:
    """A long number typed into a number-formatted cell has already lost its
    last digits in Excel (it keeps 15 significant digits)."""
    if isinstance(value, float):
        raise ValueError(
            _(
                "%(what)s被 Excel 存成了数字，末尾几位可能已变成 0。"
                "请把单元格格式设为“文本”后重新输入。"
            )
            % {"what": what}
        )
    return _text(value)


def normalized_text(value: Any) -> str:
    """A cell as text, full-width digits and letters made plain (NFKC), as
    the history and civil-affairs sheets read them."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def read_id_number(value: Any) -> str:
    """An ID number cell: a valid number (checksum, birth date), normalized;
    a ValueError naming the problem otherwise."""
    text = _long_number(value, gettext_lazy("身份证号"))
    try:
        return idnumber.parse(text).number
    except ValidationError as exc:
        raise ValueError(exc.messages[0]) from None


class IdNumber(Cell):
    lookups: "Lookups"

    def convert(self, value: Any) -> idnumber.IdInfo:
        text = _long_number(value, gettext_lazy("身份证号"))
        try:
            return idnumber.parse(text, today=self.lookups.today)
        except ValidationError as exc:
            raise ValueError(exc.messages[0]) from None


class Phone(Cell):
    def convert(self, value: Any) -> str:
        try:
            return phone_value(_text(value))
        except ValidationError as exc:
            raise ValueError(exc.messages[0]) from None


class BankAccount(Cell):
    def convert(self, value: Any) -> str:
        text = _long_number(value, gettext_lazy("银行账号"))
        try:
            return bank_account_value(text)
        except ValidationError as exc:
            raise ValueError(exc.messages[0]) from None


class Money(Cell):
    """Yuan with at most two decimals, never negative, never a float."""

    def empty(self) -> Decimal:
        return ZERO

    def convert(self, value: Any) -> Decimal:
        if isinstance(value, float):
            amount = Decimal(repr(value))  # the shortest decimal that round-trips
        elif isinstance(value, int | Decimal):
            amount = Decimal(value)
        else:
            text = unicodedata.normalize("NFKC", str(value)).replace(",", "").strip()
            text = text.removesuffix("元").strip()
            try:
                amount = Decimal(text)
            except InvalidOperation:
                raise ValueError(
                    _("应填写金额数字（单位：元），不能包含文字：“%(v)s”。")
                    % {"v": str(value)[:20]}
                ) from None
        if not amount.is_finite():
            raise ValueError(_("应填写金额数字（单位：元）。"))
        try:
            non_negative(amount)
        except ValidationError as exc:
            raise ValueError(exc.messages[0]) from None
        # Before rounding to the cent: a figure of 30 digits has no cents
        # decimal arithmetic can hold.
        if amount >= TOO_LARGE:
            raise ValueError(_("金额过大。"))
        if amount != amount.quantize(CENT):
            shown = str(amount) if len(str(amount)) <= 20 else f"{str(amount)[:20]}…"
            raise ValueError(_("金额最多保留两位小数（到分），现为 %(v)s。") % {"v": shown})
        return amount.quantize(CENT)


class HouseholdSize(Cell):
    def convert(self, value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, str):
            text = unicodedata.normalize("NFKC", value).strip().removesuffix("人").strip()
            if not re.fullmatch(r"-?[0-9]+", text):
                raise ValueError(
                    _("应填写整数人数（含户主），不能包含文字：“%(v)s”。") % {"v": value[:20]}
                )
            # Never more digits than a household size can have: Python
            # refuses to read thousands of them, in English.
            negative, digits = text.startswith("-"), text.lstrip("-").lstrip("0") or "0"
            value = int(digits[:4]) * (-1 if negative else 1)
            if len(digits) > 4:
                value *= 10**4
        if not isinstance(value, int):
            raise ValueError(_("应填写整数人数（含户主）。"))
        if value < 1:
            raise ValueError(_("家庭人口至少为 1 人（含户主）。"))
        if value > MAX_HOUSEHOLD_SIZE:
            raise ValueError(_("家庭人口不能超过 %(n)s 人。") % {"n": MAX_HOUSEHOLD_SIZE})
        return value


@dataclass
class Lookups:
    """What every row is checked against, loaded once per import."""

    units_by_code: dict[str, Unit]
    units_by_name: dict[str, list[Unit]]
    allowed_unit_ids: set[int]
    scope: Unit | None
    tiers: NameIndex[Tier]  # by Chinese or English name
    causes: NameIndex[Cause]
    today: datetime.date = field(default_factory=clock.today)
    existing: dict[str, str] = field(default_factory=dict)  # ID number → holding unit's name
    first_row: dict[str, int] = field(default_factory=dict)  # ID number → first dataset row

    @classmethod
    def load(cls, *, actor: User | None, scope: Unit | None) -> "Lookups":
        units = list(Unit.objects.order_by("path"))
        by_code: dict[str, Unit] = {}
        by_name: dict[str, list[Unit]] = {}
        for unit in units:
            by_code[unit.code] = unit
            by_name.setdefault(unit.name, []).append(unit)
        # No actor: a command-line import by whoever runs the server.
        roots = [""] if actor is None else [m.unit.path for m in roles_for(actor, "household.edit")]
        allowed = {u.pk for u in units if u.is_active and any(u.path.startswith(r) for r in roots)}
        return cls(
            units_by_code=by_code,
            units_by_name=by_name,
            allowed_unit_ids=allowed,
            scope=scope,
            tiers=NameIndex(Tier.objects.all()),
            causes=NameIndex(Cause.objects.all()),
        )

    def load_existing(self, numbers: Iterable[str]) -> None:
        """The units holding an active file for any of these ID numbers."""
        pending = sorted(set(numbers))
        chunk = values_per_lookup(Household)
        for start in range(0, len(pending), chunk):
            found = (
                Household.objects.exclude(status__in=CLOSED_STATUSES)
                .filter(AnyOf(F("id_number"), pending[start : start + chunk]))
                .values_list("id_number", "unit__name")
            )
            self.existing.update(found)


class UnitCell(Cell):
    """所属工会: a unit's code or its exact name, inside the importer's units."""

    lookups: Lookups

    def convert(self, value: Any) -> Unit:
        key = _text(value)
        unit = self.lookups.units_by_code.get(key)
        if unit is None:
            named = self.lookups.units_by_name.get(key, [])
            if len(named) > 1:
                raise ValueError(
                    _("有 %(n)s 个工会都叫“%(v)s”，请改填单位代码。") % {"n": len(named), "v": key}
                )
            unit = named[0] if named else None
        if unit is None:
            raise ValueError(_("系统中没有代码或名称为“%(v)s”的工会。") % {"v": key[:40]})
        if not unit.is_active:
            raise ValueError(_("“%(v)s”已停用，不能导入到该工会。") % {"v": unit.name})
        if unit.pk not in self.lookups.allowed_unit_ids:
            raise ValueError(
                _("“%(v)s”不在您的管辖范围内，您只能导入到自己有建档权限的工会。")
                % {"v": unit.name}
            )
        scope = self.lookups.scope
        if scope is not None and not scope.covers(unit):
            raise ValueError(
                _("“%(v)s”不在本次导入指定的“%(s)s”及其下级工会范围内。")
                % {"v": unit.name, "s": scope.name}
            )
        return unit


def _choices(names: Iterable[str]) -> str:
    return "、".join(names)


class TierCell(Cell):
    lookups: Lookups

    def empty(self) -> None:
        return None

    def convert(self, value: Any) -> Tier:
        key = _text(value)
        tier = self.lookups.tiers.get(key)
        active = [t.display_name for t in self.lookups.tiers.values() if t.is_active]
        if tier is None:
            raise ValueError(
                _("系统中没有名为“%(v)s”的困难类别（可选：%(c)s）。")
                % {"v": key[:20], "c": _choices(active)}
            )
        if not tier.is_active:
            raise ValueError(
                _("困难类别“%(v)s”已停用（可选：%(c)s）。") % {"v": key, "c": _choices(active)}
            )
        return tier


def _cause(lookups: Lookups, key: str) -> Cause:
    cause = lookups.causes.get(key)
    active = [c.display_name for c in lookups.causes.values() if c.is_active]
    if cause is None:
        raise ValueError(
            _("系统中没有名为“%(v)s”的致困原因（可选：%(c)s）。")
            % {"v": key[:20], "c": _choices(active)}
        )
    if not cause.is_active:
        raise ValueError(
            _("致困原因“%(v)s”已停用（可选：%(c)s）。") % {"v": key, "c": _choices(active)}
        )
    return cause


class CauseCell(Cell):
    lookups: Lookups

    def empty(self) -> None:
        return None

    def convert(self, value: Any) -> Cause:
        return _cause(self.lookups, _text(value))


class CauseList(Cell):
    """次要致困原因: any number, separated by 、 (commas are forgiven)."""

    lookups: Lookups

    def empty(self) -> list[Cause]:
        return []

    def convert(self, value: Any) -> list[Cause]:
        found: list[Cause] = []
        for name in split_names(_text(value), self.lookups.causes):
            if name:
                cause = _cause(self.lookups, name)
                if cause not in found:
                    found.append(cause)
        return found


class IdField(fields.Field):
    """身份证号 sets the number and what follows from it: birth date and sex."""

    def save(self, instance: Any, row: Any, is_m2m: bool = False, **kwargs: Any) -> None:
        info = self.clean(row, **kwargs)
        instance.id_number, instance.birth_date, instance.sex = (
            info.number,
            info.birth_date,
            info.sex,
        )


class _CountingResult(Result):
    """Keeps the invalid rows and the totals, not a RowResult per good row:
    100,000 of those would only cost memory."""

    def append_row_result(self, row_result: Any) -> None:
        pass


# The household's total income and rigid expenses arrive as one figure each;
# until a caseworker splits them on the file, they sit in the catch-all
# income kind and in the commonest rigid expense (illness).
INCOME_FIELD = "income_other"
EXPENSE_FIELD = "expense_medical"


class HouseholdResource(resources.ModelResource):
    """The template's headers onto Household, checked cell by cell."""

    name = fields.Field("name", "户主姓名", Text(max_length=50, required=True))
    id_number = IdField("id_number", "身份证号", IdNumber(required=True))
    phone = fields.Field("phone", "联系电话", Phone())
    unit = fields.Field("unit", "所属工会", UnitCell(required=True))
    employer = fields.Field("employer", "工作单位", Text(max_length=100))
    address = fields.Field("address", "家庭住址", Text(max_length=200, required=True))
    tier = fields.Field("tier", "困难类别", TierCell())
    main_cause = fields.Field("main_cause", "主要致困原因", CauseCell())
    secondary = fields.Field("import_secondary_causes", "次要致困原因", CauseList())
    household_size = fields.Field("household_size", "家庭人口", HouseholdSize(required=True))
    income = fields.Field(INCOME_FIELD, "家庭年收入", Money(required=True))
    expenses = fields.Field(EXPENSE_FIELD, "年刚性支出", Money())
    bank_name = fields.Field("bank_name", "开户银行", Text(max_length=50))
    bank_account = fields.Field("bank_account", "银行账号", BankAccount())
    note = fields.Field("note", "备注", Text(max_length=2000))

    class Meta:
        model = Household
        fields = (
            "name", "id_number", "phone", "unit", "employer", "address", "tier", "main_cause",
            "secondary", "household_size", "income", "expenses", "bank_name", "bank_account",
            "note",
        )  # fmt: skip
        force_init_instance = True  # every row is a new file
        use_bulk = True
        batch_size = 2000
        skip_diff = True
        skip_unchanged = False
        clean_model_instances = False  # the widgets above do the checking
        store_instance = False

    def __init__(
        self,
        *,
        actor: User | None,
        sheet: Sheet,
        scope: Unit | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        super().__init__()
        self.actor = actor
        self.sheet = sheet
        self.scope = scope
        self.progress = progress
        self.lookups = Lookups.load(actor=actor, scope=scope)
        actor_id = actor.pk if actor is not None else None
        self._blank = [
            actor_id if f.attname in ("created_by_id", "submitted_by_id") else f.get_default()
            for f in Household._meta.concrete_fields
        ]
        for resource_field in self.fields.values():
            resource_field.widget.lookups = self.lookups
        self.present = [f for f in self.fields.values() if f.column_name in sheet.headers]
        # Once anything is wrong nothing more is written: a header problem
        # from the start, else the first bad row.
        self.failed = bool(sheet.errors)
        self.created = 0
        self.by_unit: dict[int, int] = {}
        self._through: list[tuple[Household, list[Cause]]] = []

    @classmethod
    def get_result_class(cls) -> type[Result]:
        return _CountingResult

    # -- before the first row: everything the rows are checked against -----------------

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        if "身份证号" not in self.sheet.headers:
            return
        column = self.sheet.headers.index("身份证号")
        numbers = []
        for position, row in enumerate(self.sheet.rows, start=1):
            value = row[column]
            if isinstance(value, str | int):
                number = idnumber.normalize(str(value))
                numbers.append(number)
                self.lookups.first_row.setdefault(number, position)
        self.lookups.load_existing(numbers)

    # -- each row --------------------------------------------------------------------------

    def init_instance(self, row: Any = None) -> Household:
        # Positional values, as Django builds rows read from the database:
        # the keyword path would look up every field's default again for
        # each of 100,000 rows.
        return Household(*self._blank)

    def import_instance(self, instance: Household, row: Any, **kwargs: Any) -> None:
        position: int = kwargs["row_number"]
        if self.progress is not None and position % 500 == 0:
            self.progress(position, len(self.sheet.rows))
        errors: dict[str, str] = dict(self.sheet.flags.get(position, {}))
        for resource_field in self.present:
            column = resource_field.column_name
            if column in errors:
                continue
            try:
                resource_field.save(instance, row, **kwargs)
            except ValueError as exc:
                errors[column] = str(exc)
        if "身份证号" not in errors and "身份证号" in row:
            problem = self._id_problem(instance.id_number, position)
            if problem:
                errors["身份证号"] = problem
        secondary = getattr(instance, "import_secondary_causes", [])
        if "次要致困原因" not in errors and any(c.pk == instance.main_cause_id for c in secondary):
            errors["次要致困原因"] = _("次要致困原因不能与主要致困原因相同。")
        if errors:
            self.failed = True
            raise ValidationError({column: [message] for column, message in errors.items()})
        instance.per_capita_monthly_income = per_capita_monthly(instance)

    def _id_problem(self, number: str, position: int) -> str:
        if number == EXAMPLE_ID:
            return _("这是模板中的示例行，请删除后再导入。")
        first = self.lookups.first_row.get(number, position)
        if first != position:
            return _("与第 %(row)s 行的身份证号重复，同一人只能建一份档案。") % {
                "row": self.sheet.row_numbers[first - 1]
            }
        holder = self.lookups.existing.get(number)
        if holder is not None:
            return duplicate_message(holder)
        return ""

    def after_save_instance(self, instance: Household, row: Any, **kwargs: Any) -> None:
        if instance.unit_id is None:  # no 所属工会 column: the file is refused on its header
            return
        self.by_unit[instance.unit_id] = self.by_unit.get(instance.unit_id, 0) + 1
        causes = getattr(instance, "import_secondary_causes", [])
        if causes:
            self._through.append((instance, causes))

    # -- writing -----------------------------------------------------------------------

    def bulk_create(
        self,
        using_transactions: bool,
        dry_run: bool,
        raise_errors: bool,
        batch_size: int | None = None,
        result: Any = None,
    ) -> None:
        """Insert a batch with its secondary causes; nothing at all in a dry
        run or once any row has failed (the whole import will be refused)."""
        batch, through = self.create_instances[:], self._through
        self.create_instances.clear()
        self._through = []
        if dry_run or self.failed or not batch:
            return
        link = Household.secondary_causes.through
        try:
            # Its own savepoint: a batch the database refuses (someone filed
            # one of these people after the check) must not leave the
            # transaction unusable for reporting it.
            with transaction.atomic():
                Household.objects.bulk_create(batch, batch_size=batch_size)
                link.objects.bulk_create(
                    [
                        link(household_id=household.pk, cause_id=cause.pk)
                        for household, causes in through
                        for cause in causes
                    ],
                    batch_size=5000,
                )
        except Exception as exc:
            self.failed = True
            self.handle_import_error(result, exc, raise_errors)
            return
        self.created += len(batch)

    def after_import(self, dataset: Any, result: Any, **kwargs: Any) -> None:
        # ModelResource resets the id sequence here, for imports that carry
        # ids; these rows never do.
        pass
