"""发放记录迁移: aid a union paid before it moved in, brought in from its books.

Each row of the sheet becomes what a payment made in the product leaves
behind: an application (paid), a ledger entry dated the day the money was
paid, and an aid payment. So last year's statistics count it in last year,
and this year's caps (which count applications by year) see it without any
special case.

No Decision rows are written: the aid was decided before the product existed,
by a committee whose minutes are in the union's paper files; inventing a
chair's approval here would put a false name on the approval trail. The
application's `migrated_from` says where it came from instead.

The whole file is checked first, every bad cell named with its row, column
and reason; nothing is written unless every row is good. A fund may not go
below zero on any day: its running balance is computed by value date over the
existing ledger and the imported payments together.

The rows are written with bulk inserts, not one `funds.services.payment_post`
(with `allow_any_past_date`) per row: that call is finance's (it requires the
fund.manage role, while this import is a chair's or an administrator's), it
locks the fund, sums its balance and writes an audit event for each payment
(hundreds of rows a second at best), and it checks only today's balance,
while history needs the balance of each past day. This service locks every
fund it touches once, checks the stricter running balance itself, and writes
one audit event for the import.
"""

import datetime
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Model, Q, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.bulk import bulk_insert
from accounts.i18n import english_key
from accounts.models import Membership, Role, Unit, User
from accounts.money import ZERO, yuan
from accounts.scoping import memberships, unit_q
from cases.import_sheet import EXAMPLE_ID, MIGRATE_MAX_BYTES, CellError, Sheet, check_upload
from cases.models import Household, HouseholdStatus
from cases.services.imports import ImportRejected, ImportReport, _common_unit
from funds.models import EntryKind, Fund, LedgerEntry, Restriction
from funds.summary import count_rows

from ..history_sheet import HEADERS, KEYS, READERS, REQUIRED, read_history_sheet
from ..models import (
    AidPayment,
    Application,
    ApplicationStatus,
    ApplicationStatusChange,
    Category,
    Kind,
    PaymentMethod,
)
from ..models.config import Program

Progress = Callable[[int, int], None]
RUNNERS = frozenset({Role.CHAIR, Role.ADMIN})
# Households whose files a history row may name: in force, or closed after
# having been filed (aid paid before an exit is still that year's aid).
MATCHED_STATUSES = (HouseholdStatus.FILED, HouseholdStatus.EXITED)
CHUNK = 2000
_FUND_YEAR = re.compile(r"(.+?)\s*[（(]\s*(\d{4})\s*年?\s*[)）]")


def history_runners(actor: User) -> list[Membership]:
    """The memberships that let `actor` run the import: chair or admin."""
    return [m for m in memberships(actor) if m.role in RUNNERS and m.unit.is_active]


def check_runner(actor: User) -> list[Membership]:
    granted = history_runners(actor)
    if not granted:
        raise PermissionDenied(_("只有工会主席或系统管理员可以导入发放记录。"))
    return granted


@dataclass
class Row:
    """One checked row, with what it resolved to."""

    position: int  # 1-based index into sheet.rows
    excel_row: int
    values: dict[str, Any]
    household: dict[str, Any] | None = None
    program: Program | None = None
    fund: Fund | None = None
    goods_value: Decimal = ZERO
    goods_description: str = ""
    ok: bool = True
    bad: set[str] = field(default_factory=set)  # columns already refused


@dataclass
class _Lookups:
    scope: Q  # Q over Unit for the actor's chair/admin units
    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_number: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    programs: dict[str, list[Program]] = field(default_factory=dict)  # by Chinese name
    programs_en: dict[str, list[Program]] = field(default_factory=dict)  # by english_key
    program_funds: set[tuple[int, int]] = field(default_factory=set)
    funds: dict[str, list[Fund]] = field(default_factory=dict)


HOUSEHOLD_FIELDS = (
    "pk", "name", "id_number", "file_number", "status", "unit_id", "unit__path", "unit__name",
    "bank_name", "bank_account",
)  # fmt: skip


def _households(scope: Q, ids: set[str], numbers: set[str]) -> tuple[dict, dict]:
    """Files in the actor's units by head's ID number (the file in force
    before an exited one, the latest exit before an older one) and by file
    number (several units may use one number: that is then ambiguous)."""
    base = Household.objects.filter(
        unit__in=Unit.objects.filter(scope), status__in=MATCHED_STATUSES
    ).order_by("pk")
    by_id: dict[str, dict[str, Any]] = {}
    pending = sorted(ids)
    for start in range(0, len(pending), CHUNK):
        for row in base.filter(id_number__in=pending[start : start + CHUNK]).values(
            *HOUSEHOLD_FIELDS
        ):
            held = by_id.get(row["id_number"])
            if held is None or held["status"] != HouseholdStatus.FILED:
                by_id[row["id_number"]] = row
    by_number: dict[str, list[dict[str, Any]]] = defaultdict(list)
    pending = sorted(numbers)
    for start in range(0, len(pending), CHUNK):
        for row in base.filter(file_number__in=pending[start : start + CHUNK]).values(
            *HOUSEHOLD_FIELDS
        ):
            by_number[row["file_number"]].append(row)
    return by_id, dict(by_number)


def _covers(path: str, household: dict[str, Any]) -> bool:
    return str(household["unit__path"]).startswith(path)


def _fund_label(fund: Fund) -> str:
    return str(fund)


def _purposes(program: Program) -> tuple[str, ...]:
    with translation.override("zh-hans"):
        return (program.name, str(Category(program.category).label))


class _Checker:
    def __init__(self, *, actor: User, sheet: Sheet, progress: Progress | None) -> None:
        self.actor = actor
        self.sheet = sheet
        self.progress = progress
        runners = check_runner(actor)
        self.lookups = _Lookups(scope=unit_q([m.unit.path for m in runners]))
        self.errors: list[CellError] = list(sheet.errors)
        self.rows: list[Row] = []

    def error(self, row: Row, column: str, message: str) -> None:
        row.ok = False
        row.bad.add(column)
        self.errors.append(CellError(row.excel_row, column, message))

    # -- cells ---------------------------------------------------------------------------

    def read_cells(self) -> None:
        headers = self.sheet.headers
        total = len(self.sheet.rows)
        for position, values in enumerate(self.sheet.rows, start=1):
            row = Row(position, self.sheet.row_numbers[position - 1], {})
            flags = self.sheet.flags.get(position, {})
            for header, raw in zip(headers, values, strict=True):
                if header in flags:
                    self.error(row, header, flags[header])
                    continue
                if raw is None:
                    if header in REQUIRED:
                        self.error(row, header, _("必填，不能为空。"))
                    continue
                try:
                    row.values[header] = READERS[header](raw)
                except ValueError as exc:
                    self.error(row, header, str(exc))
            if not any(row.values.get(k) for k in KEYS) and not row.bad & set(KEYS):
                self.error(row, KEYS[0], _("请填写户主身份证号（或档案编号）。"))
            if row.values.get("户主身份证号") == EXAMPLE_ID:
                self.error(row, "户主身份证号", _("这是模板中的示例行，请删除后再导入。"))
            self.rows.append(row)
            if self.progress is not None and position % 500 == 0:
                self.progress(position, total)

    # -- what the cells name ---------------------------------------------------------------

    def load(self) -> None:
        lk = self.lookups
        ids = {r.values["户主身份证号"] for r in self.rows if r.values.get("户主身份证号")}
        numbers = {r.values["档案编号"] for r in self.rows if r.values.get("档案编号")}
        lk.by_id, lk.by_number = _households(lk.scope, ids, numbers)
        names = {r.values["帮扶项目"] for r in self.rows if r.values.get("帮扶项目")}
        # A program's English name, as a sheet written in English mode gives
        # it, in any case.
        english = {english_key(n) for n in names}
        for program in Program.objects.filter(Q(name__in=names) | ~Q(name_en="")).select_related(
            "unit"
        ):
            if program.name in names:
                lk.programs.setdefault(program.name, []).append(program)
            if english_key(program.name_en) in english:
                lk.programs_en.setdefault(english_key(program.name_en), []).append(program)
        program_ids = {p.pk for ps in (*lk.programs.values(), *lk.programs_en.values()) for p in ps}
        lk.program_funds = set(
            Program.funds.through.objects.filter(program_id__in=program_ids).values_list(
                "program_id", "fund_id"
            )
        )
        for fund in Fund.objects.filter(unit__in=Unit.objects.filter(lk.scope)).select_related(
            "unit"
        ):
            lk.funds.setdefault(fund.name, []).append(fund)

    def resolve(self) -> None:
        keys = set(KEYS)
        for row in self.rows:
            if not row.bad & keys:  # an unreadable key names no household
                self._household(row)
            if row.household is not None:
                self._program(row)
                self._fund(row)
            self._goods(row)

    def _household(self, row: Row) -> None:
        lk = self.lookups
        number = row.values.get("户主身份证号")
        file_number = row.values.get("档案编号")
        household = None
        if number:
            household = lk.by_id.get(number)
            if household is None:
                self.error(
                    row,
                    "户主身份证号",
                    _("在您管辖的工会中找不到身份证号为 %(v)s 的在档或已退出档案。")
                    % {"v": number},
                )
                return
            if file_number and household["file_number"] != file_number:
                self.error(
                    row,
                    "档案编号",
                    _("与该身份证号的档案编号（%(n)s）不一致。")
                    % {"n": household["file_number"] or _("无")},
                )
                return
        elif file_number:
            found = lk.by_number.get(file_number, [])
            if not found:
                self.error(
                    row,
                    "档案编号",
                    _("在您管辖的工会中找不到档案编号为“%(v)s”的在档或已退出档案。")
                    % {"v": file_number},
                )
                return
            if len(found) > 1:
                self.error(
                    row,
                    "档案编号",
                    _("有 %(n)s 个工会都使用档案编号“%(v)s”（%(u)s），请改填户主身份证号。")
                    % {
                        "n": len(found),
                        "v": file_number,
                        "u": "、".join(h["unit__name"] for h in found),
                    },
                )
                return
            household = found[0]
        else:
            return
        name = row.values.get("户主姓名")
        if name and name != household["name"]:
            self.error(
                row,
                "户主姓名",
                _("与系统中该档案的户主姓名“%(n)s”不一致，请核对是否填错了人。")
                % {"n": household["name"]},
            )
            return
        row.household = household

    def _program(self, row: Row) -> None:
        name = row.values.get("帮扶项目")
        if not name:
            return
        assert row.household is not None
        named = self.lookups.programs.get(name) or self.lookups.programs_en.get(
            english_key(name), []
        )
        if not named:
            self.error(row, "帮扶项目", _("系统中没有名为“%(v)s”的帮扶项目。") % {"v": name})
            return
        covering = [p for p in named if _covers(p.unit.path, row.household)]
        if not covering:
            self.error(
                row,
                "帮扶项目",
                _("帮扶项目“%(v)s”不面向“%(u)s”（该家庭所在工会）。")
                % {"v": name, "u": row.household["unit__name"]},
            )
            return
        # The same name at several levels: the one nearest the household.
        program = max(covering, key=lambda p: len(p.unit.path))
        if program.kind == Kind.LOAN:
            self.error(
                row,
                "帮扶项目",
                _("“%(v)s”是借款项目，借款有还款计划，不能作为发放记录导入。") % {"v": name},
            )
            return
        row.program = program

    def _fund_named(self, row: Row, text: str) -> Fund | None:
        funds = self.lookups.funds
        day: datetime.date | None = row.values.get("发放日期")
        named = funds.get(text, [])
        year: int | None = None
        if not named:
            found = _FUND_YEAR.fullmatch(unicodedata.normalize("NFKC", text))
            if found:
                named = funds.get(found.group(1).strip(), [])
                year = int(found.group(2))
                named = [f for f in named if f.year == year]
        if not named:
            self.error(
                row,
                "资金",
                _("在您管辖的工会中没有名为“%(v)s”的资金。") % {"v": text},
            )
            return None
        if len(named) > 1 and day is not None:
            same_year = [f for f in named if f.year == day.year]
            if len(same_year) == 1:
                return same_year[0]
        if len(named) > 1:
            self.error(
                row,
                "资金",
                _("有 %(n)s 个资金都叫“%(v)s”（%(l)s），请写成“名称（年度）”，并确认所属工会。")
                % {"n": len(named), "v": text, "l": "、".join(_fund_label(f) for f in named)},
            )
            return None
        return named[0]

    def _fund(self, row: Row) -> None:
        text = row.values.get("资金")
        if not text:
            return
        fund = self._fund_named(row, text)
        if fund is None:
            return
        household = row.household
        assert household is not None
        if not _covers(fund.unit.path, household):
            self.error(
                row,
                "资金",
                _("资金“%(f)s”属于“%(u)s”，不能支付“%(h)s”的家庭。")
                % {"f": _fund_label(fund), "u": fund.unit.name, "h": household["unit__name"]},
            )
            return
        if (
            fund.restriction == Restriction.HOUSEHOLD
            and fund.restricted_household_id != household["pk"]
        ):
            self.error(
                row, "资金", _("资金“%(f)s”限定用于另一指定家庭。") % {"f": _fund_label(fund)}
            )
            return
        program = row.program
        if program is not None:
            if fund.restriction == Restriction.PURPOSE and fund.restricted_purpose not in _purposes(
                program
            ):
                self.error(
                    row,
                    "资金",
                    _("资金“%(f)s”限定用途为“%(p)s”，不能列支“%(v)s”。")
                    % {"f": _fund_label(fund), "p": fund.restricted_purpose, "v": program.name},
                )
                return
            if (
                fund.restriction == Restriction.PROGRAM
                and (program.pk, fund.pk) not in self.lookups.program_funds
            ):
                self.error(
                    row,
                    "资金",
                    _("资金“%(f)s”限定用于指定帮扶项目，不包括“%(v)s”。")
                    % {"f": _fund_label(fund), "v": program.name},
                )
                return
        row.fund = fund

    def _goods(self, row: Row) -> None:
        """The goods part of the handout (amount is cash and goods together)."""
        amount: Decimal | None = row.values.get("金额")
        goods: Decimal | None = row.values.get("实物折价")
        description = row.values.get("实物内容") or ""
        in_kind = row.values.get("发放方式") == PaymentMethod.GOODS
        goods_program = row.program is not None and row.program.kind == Kind.GOODS
        if goods is None:
            # Handed over as goods, or by a goods program, with no separate
            # value: goods in full (as the statistics count a goods program).
            goods = amount if (in_kind or goods_program) and amount is not None else ZERO
            if goods_program and not description:
                description = row.program.name  # type: ignore[union-attr]
        if amount is not None and goods > amount:
            self.error(
                row,
                "实物折价",
                _("实物折价 %(g)s 元超过金额 %(a)s 元（金额是现金加实物的总额）。")
                % {"g": goods, "a": amount},
            )
            return
        if goods > 0 and not description:
            self.error(
                row, "实物内容", _("发放了实物（折价 %(g)s 元），请填写实物内容。") % {"g": goods}
            )
            return
        if description and goods == 0:
            self.error(row, "实物折价", _("填写了实物内容，请填写大于 0 的实物折价。"))
            return
        row.goods_value = goods
        row.goods_description = description

    # -- against what is already there -----------------------------------------------------

    def good_rows(self) -> list[Row]:
        # With a whole column missing (a header error) a row can be free of
        # cell errors and still name no program or fund.
        return [r for r in self.rows if r.ok and r.household and r.program and r.fund]

    def duplicates(self) -> None:
        """A row already migrated (same household, program, day and amount,
        not reversed) is refused: importing one file twice would pay twice."""
        rows = self.good_rows()
        households = sorted({r.household["pk"] for r in rows if r.household})
        done: Counter[tuple[int, int, datetime.date, Decimal]] = Counter()
        sources: dict[tuple[int, int, datetime.date, Decimal], str] = {}
        for start in range(0, len(households), CHUNK):
            found = AidPayment.objects.filter(
                application__household_id__in=households[start : start + CHUNK],
                reversal__isnull=True,
            ).exclude(application__migrated_from="")
            for key_row in found.values_list(
                "application__household_id",
                "application__program_id",
                "paid_on",
                "amount",
                "application__migrated_from",
            ):
                key = (key_row[0], key_row[1], key_row[2], yuan(key_row[3]))
                done[key] += 1
                sources[key] = key_row[4]
        if not done:
            return
        for row in rows:
            assert row.household is not None and row.program is not None
            key = (
                row.household["pk"],
                row.program.pk,
                row.values["发放日期"],
                row.values["金额"],
            )
            if done.get(key):
                self.error(
                    row,
                    "发放日期",
                    _("该户 %(d)s 的“%(p)s”%(a)s 元已经迁移过（来源：%(s)s），不能重复导入。")
                    % {
                        "d": key[2].isoformat(),
                        "p": row.program.name,
                        "a": key[3],
                        "s": sources[key],
                    },
                )

    def balances(self) -> None:
        """Walk each fund's days in order, the day's existing entries first
        and then the file's payments in file order; a payment that would
        take the fund below zero is refused with the day and the shortfall."""
        rows = self.good_rows()
        by_fund: dict[int, list[Row]] = defaultdict(list)
        for row in rows:
            assert row.fund is not None
            by_fund[row.fund.pk].append(row)
        if not by_fund:
            return
        existing: dict[int, dict[datetime.date, Decimal]] = defaultdict(dict)
        for fund_id, day, net in (
            LedgerEntry.objects.filter(fund_id__in=list(by_fund))
            .order_by()
            .values("fund_id", "occurred_on")
            .annotate(net=Sum(F("amount") * F("direction")))
            .values_list("fund_id", "occurred_on", "net")
        ):
            existing[fund_id][day] = Decimal(net or 0)
        for fund_id, fund_rows in by_fund.items():
            self._walk(fund_rows, existing[fund_id])

    def _walk(self, fund_rows: list[Row], existing: dict[datetime.date, Decimal]) -> None:
        fund = fund_rows[0].fund
        assert fund is not None
        paying: dict[datetime.date, list[Row]] = defaultdict(list)
        for row in fund_rows:
            paying[row.values["发放日期"]].append(row)
        balance = ZERO
        last: Row | None = None
        for day in sorted(set(existing) | set(paying)):
            balance += existing.get(day, ZERO)
            if balance < 0 and last is not None:
                # The file's earlier payments leave too little for a payment
                # already in the books on this day.
                self.error(
                    last,
                    "资金",
                    _(
                        "导入后资金“%(f)s”在 %(d)s 的余额将低于零（差 %(s)s 元）："
                        "账上 %(d)s 已有的支出不够支付。请核对本行及之前从该资金发放的记录。"
                    )
                    % {
                        "f": _fund_label(fund),
                        "d": day.isoformat(),
                        "s": yuan(-balance),
                    },
                )
                return
            for row in paying.get(day, []):
                amount: Decimal = row.values["金额"]
                if amount > balance:
                    self.error(
                        row,
                        "资金",
                        _(
                            "资金“%(f)s”在 %(d)s 的余额将低于零：当日可用 %(b)s 元，"
                            "本笔 %(a)s 元，差 %(s)s 元。请先补录该日期之前的资金收入。"
                        )
                        % {
                            "f": _fund_label(fund),
                            "d": day.isoformat(),
                            "b": yuan(max(balance, ZERO)),
                            "a": amount,
                            "s": yuan(amount - max(balance, ZERO)),
                        },
                    )
                    continue
                balance -= amount
                last = row

    def report(self) -> ImportReport:
        position = {name: i for i, name in enumerate(HEADERS)}
        self.errors.sort(key=lambda e: (e.row or 0, position.get(e.column, len(HEADERS))))
        bad = {e.row for e in self.errors if e.row and e.row > 1}
        units: Counter[str] = Counter(
            r.household["unit__name"] for r in self.rows if r.ok and r.household
        )
        return ImportReport(
            total=len(self.sheet.rows),
            valid=len(self.rows) - len(bad),
            errors=self.errors,
            units=dict(units.most_common()),
        )


def _insert(model: type[Model], rows: list[dict[str, Any]]) -> list[int]:
    """Insert `rows` (each the attnames it sets; every other column takes its
    default) and return their ids, in order."""
    objs = [model(**row) for row in rows]
    bulk_insert(objs, returning=True)
    return [obj.pk for obj in objs]


def _write(*, actor: User, rows: list[Row], source_label: str) -> None:
    label = source_label[:200]
    date_reason = (_("发放记录迁移：%(s)s") % {"s": source_label})[:200]

    memo = _("%(p)s %(h)s（迁移）")
    application_ids = _insert(
        Application,
        [
            {
                "program_id": row.program.pk,  # type: ignore[union-attr]
                "household_id": row.household["pk"],  # type: ignore[index]
                "year": row.values["发放日期"].year,
                "status": ApplicationStatus.PAID.value,
                "amount": row.values["金额"],
                "goods_description": row.goods_description,
                "goods_value": row.goods_value,
                "reason": row.values.get("备注") or "",
                "drafted_by_id": actor.pk,
                "migrated_from": label,
            }
            for row in rows
        ],
    )
    entry_rows = [
        {
            "fund_id": row.fund.pk,  # type: ignore[union-attr]
            "kind": EntryKind.PAYMENT.value,
            "direction": -1,
            "amount": row.values["金额"],
            "occurred_on": row.values["发放日期"],
            "memo": (memo % {"p": row.program.name, "h": row.household["name"]})[:200],  # type: ignore[union-attr,index]
            "household_id": row.household["pk"],  # type: ignore[index]
            "date_reason": date_reason,
            "actor_id": actor.pk,
        }
        for row in rows
    ]
    entry_ids = _insert(LedgerEntry, entry_rows)
    # The fund's day totals, in this transaction (bulk_insert skips the model).
    count_rows(
        {**entry, "program_id": row.program.pk}  # type: ignore[union-attr]
        for entry, row in zip(entry_rows, rows, strict=True)
    )
    payments = []
    for row, application_id, entry_id in zip(rows, application_ids, entry_ids, strict=True):
        household = row.household
        assert household is not None and row.fund is not None
        method = row.values["发放方式"]
        bank = method == PaymentMethod.BANK
        payments.append(
            {
                "application_id": application_id,
                "fund_id": row.fund.pk,
                "entry_id": entry_id,
                "method": method,
                "amount": row.values["金额"],
                "goods_description": row.goods_description,
                "goods_value": row.goods_value,
                "paid_on": row.values["发放日期"],
                "account_name": household["name"] if bank else "",
                "bank_name": (household["bank_name"] or "") if bank else "",
                "bank_account": (household["bank_account"] or "") if bank else "",
                "paid_by_id": actor.pk,
            }
        )
    _insert(AidPayment, payments)
    # Each migrated application's history says where it came from.
    now = timezone.now()
    _insert(
        ApplicationStatusChange,
        [
            {
                "application_id": application_id,
                "from_status": "",
                "to_status": ApplicationStatus.PAID.value,
                "actor_id": actor.pk,
                "at": now,
                "reason": date_reason,
            }
            for application_id in application_ids
        ],
    )


def aid_history_import(
    *,
    actor: User,
    path: str | Path,
    source_label: str,
    check_only: bool,
    progress: Progress | None = None,
) -> ImportReport:
    """Check the aid-history file at `path` and, unless `check_only`, write
    every row in one transaction. `source_label` names the upload (kept on
    each application as `migrated_from`). Raises PermissionDenied unless the
    actor chairs or administers a union, ValidationError for a file that is
    no workbook, and ImportRejected (nothing written) when any cell is bad; a
    check returns the report with its errors instead."""
    check_runner(actor)
    path = Path(path)
    with path.open("rb") as source:
        head = source.read(8)
        source.seek(0)
        check_upload(path.name, path.stat().st_size, head, limit=MIGRATE_MAX_BYTES)
        sheet = read_history_sheet(source, filename=path.name)
    if check_only:
        report, _rows = _check(actor=actor, sheet=sheet, progress=progress, lock=False)
        return report
    with transaction.atomic():
        report, rows = _check(actor=actor, sheet=sheet, progress=progress, lock=True)
        if not report.ok:
            raise ImportRejected(report)
        _write(actor=actor, rows=rows, source_label=source_label)
        report.imported = len(rows)
        _audit(actor=actor, rows=rows, report=report, source_label=source_label)
    if progress is not None:
        progress(report.total, report.total)
    return report


def _check(
    *, actor: User, sheet: Sheet, progress: Progress | None, lock: bool
) -> tuple[ImportReport, list[Row]]:
    checker = _Checker(actor=actor, sheet=sheet, progress=progress)
    if not sheet.usable:
        # A required column is missing: the header problems are the answer.
        return checker.report(), []
    checker.read_cells()
    checker.load()
    checker.resolve()
    if lock:
        # Held to the end of the transaction: no payment in between can
        # spend what the running balance below counted on.
        fund_ids = sorted({r.fund.pk for r in checker.good_rows() if r.fund is not None})
        list(Fund.objects.select_for_update(no_key=True).filter(pk__in=fund_ids).order_by("pk"))
    checker.duplicates()
    checker.balances()
    if progress is not None:
        progress(len(sheet.rows), len(sheet.rows))
    return checker.report(), checker.good_rows()


def _audit(*, actor: User, rows: list[Row], report: ImportReport, source_label: str) -> None:
    by_year: Counter[int] = Counter()
    by_fund: dict[str, Decimal] = defaultdict(lambda: ZERO)
    total = ZERO
    for row in rows:
        amount: Decimal = row.values["金额"]
        by_year[row.values["发放日期"].year] += 1
        by_fund[_fund_label(row.fund)] += amount  # type: ignore[arg-type]
        total += amount
    unit_ids = {row.household["unit_id"] for row in rows}  # type: ignore[index]
    audit_record(
        actor=actor,
        action="aid.history_import",
        unit=_common_unit(list(Unit.objects.filter(pk__in=unit_ids))),
        changes={
            "imported": [None, report.imported],
            "file": [None, source_label],
            "amount": [None, str(total)],
            "years": [None, {str(y): n for y, n in sorted(by_year.items())}],
            "funds": [None, {k: str(v) for k, v in by_fund.items()}],
            "units": [None, report.units],
        },
    )
