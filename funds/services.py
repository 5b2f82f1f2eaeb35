"""Writes to funds and the ledger.

Every movement locks the fund row before it looks at the balance, so two
payments at the same moment queue instead of both seeing the old balance;
the balance can never go below zero.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import Unit, User
from accounts.money import CENT, TOO_LARGE, yuan
from accounts.scoping import covers
from cases import clock
from cases.models import Household

from .models import (
    BUILTIN_SOURCES,
    EntryKind,
    FinanceRules,
    Fund,
    IncomeSource,
    LedgerDay,
    LedgerEntry,
    PayerKind,
    Restriction,
)
from .summary import paying_for

FINANCE = "fund.manage"
# A reversal's memo is "冲正：<reason>" in a 200-character column.
REASON_LIMIT = 150
# Records elsewhere that own a ledger entry and must be reversed through
# their own service (the reverse accessors of their one-to-one to the entry),
# so that the application, loan or membership stays in step with the money.
OWNERS = ("aid_payment", "repayment", "premium")
# How far back finance may date a payment or receipt when no union up the
# tree has set its own FinanceRules row.
DEFAULT_BACKDATE_DAYS = 60


def balance_of(fund: Fund) -> Decimal:
    """The fund's balance, added up from its day totals (LedgerDay), which
    every entry updates in its own transaction: under the fund lock taken by
    the posting services it is the balance the next entry sees."""
    total = LedgerDay.objects.filter(fund=fund).aggregate(total=Sum(F("amount") * F("direction")))[
        "total"
    ]
    return yuan(total)


def _check(actor: User, unit: Unit) -> None:
    if not covers(actor, FINANCE, unit):
        raise PermissionDenied(_("只有本工会或上级工会的财务人员可以操作该资金。"))


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except ArithmeticError:
        raise ValidationError({"amount": _("金额格式不正确。")}) from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationError({"amount": _("金额必须大于 0。")})
    if amount != amount.quantize(CENT):
        raise ValidationError({"amount": _("金额最多保留两位小数（到分）。")})
    if amount >= TOO_LARGE:
        raise ValidationError({"amount": _("金额过大。")})
    return amount


def _text(value: Any, field: str, limit: int) -> str:
    """A stripped text value that fits its column, or a message on the field."""
    text = str(value or "").strip()
    if len(text) > limit:
        raise ValidationError({field: _("最多 %(n)s 个字。") % {"n": limit}})
    return text


def _locked(fund: Fund) -> Fund:
    return (
        Fund.objects.select_for_update(no_key=True, of=("self",))
        .select_related("unit")
        .get(pk=fund.pk)
    )


def _existing(reference: str | None) -> LedgerEntry | None:
    if not reference:
        return None
    return LedgerEntry.objects.filter(reference=reference).first()


@dataclass(frozen=True)
class DateWindow:
    """The value dates finance may give a payment or a receipt of a union:
    from `earliest` to `latest` (today) inclusive; a date before today needs
    a reason (补录理由)."""

    earliest: datetime.date
    latest: datetime.date
    days: int


def backdate_days(unit: Unit) -> int:
    """The union's back-dating window: its own FinanceRules row, else its
    nearest ancestor's, else DEFAULT_BACKDATE_DAYS."""
    path = unit.path
    # Every ancestor's path is a prefix of the union's own path.
    prefixes = [path[: i + 1] for i, ch in enumerate(path) if ch == "/"]
    days = (
        FinanceRules.objects.filter(unit__path__in=prefixes)
        .order_by("-unit__path")
        .values_list("backdate_days", flat=True)
        .first()
    )
    return DEFAULT_BACKDATE_DAYS if days is None else days


def value_date_window(unit: Unit) -> DateWindow:
    """The one computation of the window: the forms, the services and the
    screens all ask here."""
    today = clock.today()
    days = backdate_days(unit)
    return DateWindow(earliest=today - datetime.timedelta(days=days), latest=today, days=days)


def check_value_date(
    unit: Unit,
    on: datetime.date | None,
    reason: Any = "",
    *,
    field: str = "occurred_on",
    label: str = "",
    allow_any_past_date: bool = False,
    window: DateWindow | None = None,
) -> tuple[datetime.date, str]:
    """The value date (default today) and its reason, or a message on `field`
    (and on `date_reason` for a missing reason).

    Never in the future. Before today only with a reason, and no earlier than
    the union's window; `allow_any_past_date` lifts the window (not the
    future rule) and is for the history import alone (发放记录迁移), whose rows
    were paid long ago and which names its own reason."""
    window = window or value_date_window(unit)
    label = label or _("发生日期")
    reason = _text(reason, "date_reason", 200)
    if on is None:
        return window.latest, reason
    if on > window.latest:
        raise ValidationError({field: _("%(f)s不能晚于今天。") % {"f": label}})
    if on == window.latest:
        return on, reason
    if on < window.earliest and not allow_any_past_date:
        raise ValidationError(
            {
                field: _(
                    "%(f)s %(d)s 超出可补录期限：本工会只能补录最近 %(n)s 天（%(e)s 起）的记录，"
                    "更早的记录请通过“发放记录迁移”导入。"
                )
                % {"f": label, "d": on.isoformat(), "n": window.days, "e": window.earliest}
            }
        )
    if not reason and not allow_any_past_date:
        raise ValidationError({"date_reason": _("%(f)s早于今天，须填写补录理由。") % {"f": label}})
    return on, reason


def income_source(source: IncomeSource | str | None) -> IncomeSource:
    """The source a receipt names, given as a row or as a built-in code."""
    if isinstance(source, str) and source:
        found = IncomeSource.objects.filter(code=source).first()
        if found is None and source in BUILTIN_SOURCES:
            order = list(BUILTIN_SOURCES).index(source) + 1
            found, _created = IncomeSource.objects.get_or_create(
                code=source, defaults={"name": BUILTIN_SOURCES[source], "sort_order": order}
            )
        if found is None:
            raise ValidationError({"source": _("资金来源“%(c)s”不存在。") % {"c": source}})
        source = found
    if not isinstance(source, IncomeSource):
        raise ValidationError({"source": _("请选择资金来源。")})
    if not source.is_active:
        raise ValidationError({"source": _("资金来源“%(s)s”已停用。") % {"s": source.display_name}})
    return source


def _write(entry: LedgerEntry) -> LedgerEntry:
    """Insert; a repeated reference returns the entry written first."""
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        first = _existing(entry.reference)
        if first is None:
            raise
        return first
    return entry


@transaction.atomic
def fund_create(
    *,
    actor: User,
    unit: Unit,
    name: str,
    year: int,
    restriction: str = Restriction.NONE,
    restricted_purpose: str = "",
    restricted_household: Household | None = None,
) -> Fund:
    _check(actor, unit)
    name = _text(name, "name", 100)
    if not name:
        raise ValidationError({"name": _("请填写资金名称。")})
    if restriction not in Restriction.values:
        raise ValidationError({"restriction": _("请选择使用限定。")})
    if not isinstance(year, int) or not 2000 <= year <= 2100:
        raise ValidationError({"year": _("年度应在 2000 至 2100 之间。")})
    restricted_purpose = _text(restricted_purpose, "restricted_purpose", 200)
    if restriction == Restriction.HOUSEHOLD:
        if restricted_household is None:
            raise ValidationError({"restricted_household": _("请选择限定的受助家庭。")})
        if not unit.covers(restricted_household.unit):
            raise ValidationError({"restricted_household": _("该家庭不属于本工会。")})
    if restriction == Restriction.PURPOSE and not restricted_purpose:
        raise ValidationError({"restricted_purpose": _("请填写限定用途。")})
    duplicate = ValidationError({"name": _("本工会该年度已有同名资金。")})
    if Fund.objects.filter(unit=unit, year=year, name=name).exists():
        raise duplicate
    try:
        with transaction.atomic():
            fund = Fund.objects.create(
                unit=unit,
                name=name,
                year=year,
                restriction=restriction,
                restricted_purpose=restricted_purpose if restriction == Restriction.PURPOSE else "",
                restricted_household=restricted_household
                if restriction == Restriction.HOUSEHOLD
                else None,
                created_by=actor,
            )
    except IntegrityError:
        # Two clerks creating the same fund at once: the second is told so.
        raise duplicate from None
    audit_record(
        actor=actor, action="fund.create", obj=fund, unit=unit, changes={"name": [None, fund.name]}
    )
    return fund


@transaction.atomic
def receipt_post(
    *,
    actor: User,
    fund: Fund,
    amount: Any,
    memo: str,
    source: IncomeSource | str | None,
    payer_kind: str,
    payer: str,
    occurred_on: datetime.date | None = None,
    date_reason: str = "",
    donor: str = "",
    campaign: str = "",
    receipt_number: str = "",
    reference: str | None = None,
    household: Household | None = None,
    date_field: str = "occurred_on",
    allow_any_past_date: bool = False,
) -> LedgerEntry:
    """Money received into a fund (a donation when a donor or a campaign is
    named). Every receipt names its source (an IncomeSource, or the code of a
    built-in one) and who paid it (a unit or a person). `household` names the
    family the money came from (a loan repayment, a mutual-aid premium), so
    the fund's ledger shows it. `occurred_on` is the value date (the day the
    money arrived), inside the union's back-dating window
    (`check_value_date`; `date_field` names the caller's form field for its
    messages; `allow_any_past_date` is for the history import only). A
    repeated `reference` returns the entry written first."""
    fund = _locked(fund)
    _check(actor, fund.unit)
    first = _existing(reference)
    if first is not None:
        return first
    value = _amount(amount)
    memo = _text(memo, "memo", 200)
    if not memo:
        raise ValidationError({"memo": _("请填写摘要。")})
    source = income_source(source)
    if payer_kind not in PayerKind.values:
        raise ValidationError({"payer_kind": _("请选择缴款方类型（单位或个人）。")})
    payer = _text(payer, "payer", 100)
    if not payer:
        raise ValidationError({"payer": _("请填写缴款方（单位名称或个人姓名）。")})
    donor = _text(donor, "donor", 100)
    campaign = _text(campaign, "campaign", 100)
    receipt_number = _text(receipt_number, "receipt_number", 50)
    on, date_reason = check_value_date(
        fund.unit,
        occurred_on,
        date_reason,
        field=date_field,
        label=_("到账日期"),
        allow_any_past_date=allow_any_past_date,
    )
    entry = _write(
        LedgerEntry(
            fund=fund,
            kind=EntryKind.DONATION if donor or campaign else EntryKind.RECEIPT,
            direction=1,
            amount=value,
            occurred_on=on,
            memo=memo,
            source=source,
            payer_kind=payer_kind,
            payer=payer,
            date_reason=date_reason,
            donor=donor,
            campaign=campaign,
            receipt_number=receipt_number,
            household=household,
            reference=reference,
            actor=actor,
        )
    )
    audit_record(
        actor=actor,
        action="ledger.receipt",
        obj=fund,
        unit=fund.unit,
        changes={
            "amount": [None, str(value)],
            "entry": [None, entry.pk],
            "source": [None, source.name],
            "occurred_on": [None, on.isoformat()],
        },
    )
    return entry


def check_use(
    fund: Fund,
    *,
    household: Household | None,
    purposes: tuple[str, ...] = (),
    via_program: bool = False,
) -> None:
    """Refuse a use that the fund's restriction does not allow.

    `purposes` names what the money is for (a program's name and category);
    `via_program` says the payment pays an application of a program that
    lists this fund, the only use a program-restricted fund allows."""
    if not fund.is_active:
        raise ValidationError({"fund": _("该资金已停用。")})
    if fund.restriction == Restriction.HOUSEHOLD and (
        household is None or household.pk != fund.restricted_household_id
    ):
        raise ValidationError({"fund": _("该资金限定用于指定家庭，不能用于其他家庭。")})
    if fund.restriction == Restriction.PURPOSE and fund.restricted_purpose not in purposes:
        raise ValidationError(
            {"fund": _("该资金限定用途为“%(p)s”。") % {"p": fund.restricted_purpose}}
        )
    if fund.restriction == Restriction.PROGRAM and not via_program:
        raise ValidationError({"fund": _("该资金限定用于指定帮扶项目，只能通过项目申请支付。")})
    if household is not None and not fund.unit.covers(household.unit):
        raise ValidationError({"fund": _("该资金不属于该家庭所在工会或其上级工会。")})


@transaction.atomic
def payment_post(
    *,
    actor: User,
    fund: Fund,
    amount: Any,
    memo: str,
    household: Household | None = None,
    purposes: tuple[str, ...] = (),
    via_program: bool = False,
    occurred_on: datetime.date | None = None,
    date_reason: str = "",
    reference: str | None = None,
    date_field: str = "occurred_on",
    allow_any_past_date: bool = False,
    program_id: int | None = None,
) -> LedgerEntry:
    """Money paid out of a fund. The fund row is locked first; the balance
    after the payment may not be negative. `occurred_on` is the value date
    (the day the money reached the card or the cash was handed over), inside
    the union's back-dating window (`check_value_date`); `allow_any_past_date`
    is for the history import only. `program_id` names the program of the
    application an aid payment pays (its line in the period summary)."""
    first = _existing(reference)
    if first is not None:
        return first
    fund = _locked(fund)
    _check(actor, fund.unit)
    value = _amount(amount)
    memo = _text(memo, "memo", 200)
    check_use(fund, household=household, purposes=purposes, via_program=via_program)
    on, date_reason = check_value_date(
        fund.unit,
        occurred_on,
        date_reason,
        field=date_field,
        label=_("发放日期"),
        allow_any_past_date=allow_any_past_date,
    )
    available = balance_of(fund)
    if value > available:
        message = _("资金余额不足：可用 %(b)s 元，需支付 %(a)s 元。") % {"b": available, "a": value}
        raise ValidationError({"amount": message})
    payment = LedgerEntry(
        fund=fund,
        kind=EntryKind.PAYMENT,
        direction=-1,
        amount=value,
        occurred_on=on,
        date_reason=date_reason,
        memo=memo or _("支出"),
        household=household,
        reference=reference,
        actor=actor,
    )
    entry = _write(paying_for(payment, program_id))
    audit_record(
        actor=actor,
        action="ledger.payment",
        obj=fund,
        unit=fund.unit,
        changes={"amount": [None, str(value)], "entry": [None, entry.pk]},
    )
    return entry


@transaction.atomic
def transfer_post(
    *, actor: User, source: Fund, target: Fund, amount: Any, memo: str
) -> tuple[LedgerEntry, LedgerEntry]:
    if source.pk == target.pk:
        raise ValidationError({"target": _("调入资金不能与调出资金相同。")})
    # Lock both funds in id order so two opposite transfers cannot deadlock.
    first, second = sorted([source, target], key=lambda f: f.pk)
    locked = {f.pk: _locked(f) for f in (first, second)}
    source, target = locked[source.pk], locked[target.pk]
    _check(actor, source.unit)
    _check(actor, target.unit)
    value = _amount(amount)
    memo = _text(memo, "memo", 200)
    if source.restriction != Restriction.NONE:
        raise ValidationError({"source": _("限定用途的资金不能调出。")})
    if not target.is_active:
        raise ValidationError({"target": _("调入资金已停用。")})
    available = balance_of(source)
    if value > available:
        raise ValidationError({"amount": _("资金余额不足：可用 %(b)s 元。") % {"b": available}})
    today = clock.today()
    out = LedgerEntry.objects.create(
        fund=source, kind=EntryKind.TRANSFER_OUT, direction=-1, amount=value,
        occurred_on=today, memo=memo or _("资金调出"), actor=actor,
    )  # fmt: skip
    into = LedgerEntry.objects.create(
        fund=target, kind=EntryKind.TRANSFER_IN, direction=1, amount=value,
        occurred_on=today, memo=memo or _("资金调入"), counterpart=out, actor=actor,
    )  # fmt: skip
    audit_record(
        actor=actor,
        action="ledger.transfer",
        obj=source,
        unit=source.unit,
        changes={"amount": [None, str(value)], "to": [None, str(target)]},
    )
    return out, into


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("冲正须填写理由。")})
    if len(reason) > REASON_LIMIT:
        raise ValidationError({"reason": _("冲正理由最多 %(n)s 个字。") % {"n": REASON_LIMIT}})
    return reason


def _mirror(*, actor: User, fund: Fund, entry: LedgerEntry, reason: str) -> LedgerEntry:
    """Write the mirror image of `entry` in its (locked) fund."""
    if entry.kind == EntryKind.REVERSAL:
        raise ValidationError(_("冲正分录不能再次冲正。"))
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ValidationError(_("该分录已冲正。"))
    if entry.direction > 0 and entry.amount > balance_of(fund):
        raise ValidationError(_("冲正后“%(f)s”余额将为负数，请先处理相关支出。") % {"f": fund.name})
    return _write(
        LedgerEntry(
            fund=fund,
            kind=EntryKind.REVERSAL,
            direction=-entry.direction,
            amount=entry.amount,
            occurred_on=clock.today(),
            memo=_("冲正：%(r)s") % {"r": reason},
            reverses=entry,
            household=entry.household,
            actor=actor,
        )
    )


@transaction.atomic
def entry_reverse(*, actor: User, entry: LedgerEntry, reason: str) -> LedgerEntry:
    """Correct a mistaken entry with its mirror image; both rows stay.

    A transfer has two legs in two funds; reversing either leg reverses both,
    so the money goes back where it came from and neither fund is left
    holding half a correction."""
    reason = _reason(reason)
    entry = LedgerEntry.objects.get(pk=entry.pk)
    legs = [entry]
    if entry.kind == EntryKind.TRANSFER_IN and entry.counterpart_id is not None:
        legs.append(LedgerEntry.objects.get(pk=entry.counterpart_id))
    elif entry.kind == EntryKind.TRANSFER_OUT:
        legs.extend(LedgerEntry.objects.filter(counterpart=entry))
    # Lock every fund involved in id order, as transfers do.
    funds = {f.pk: f for f in sorted((leg.fund for leg in legs), key=lambda f: f.pk)}
    locked = {pk: _locked(f) for pk, f in funds.items()}
    for fund in locked.values():
        _check(actor, fund.unit)
    reversals = [
        _mirror(actor=actor, fund=locked[leg.fund_id], entry=leg, reason=reason) for leg in legs
    ]
    for leg, reversal in zip(legs, reversals, strict=True):
        fund = locked[leg.fund_id]
        audit_record(
            actor=actor,
            action="ledger.reverse",
            obj=fund,
            unit=fund.unit,
            changes={"entry": [leg.pk, reversal.pk], "reason": [None, reason]},
        )
    return reversals[0]


def owner_of(entry: LedgerEntry) -> str | None:
    """Which record owns the entry ("aid_payment", "repayment", "premium"),
    if any: such an entry is reversed through that record's service."""
    for name in OWNERS:
        if hasattr(entry, name):
            return name
    return None


@transaction.atomic
def entry_correct(*, actor: User, entry: LedgerEntry, reason: str) -> LedgerEntry:
    """A finance officer's correction of one ledger entry from the fund page.

    An entry that pays an application, or records a loan repayment or a
    mutual-aid premium, is refused: reversing only the money would leave the
    application marked paid (or the loan, the membership) while the fund
    holds the money again. Those are reversed through their own screens."""
    entry = LedgerEntry.objects.select_related("fund__unit").get(pk=entry.pk)
    _check(actor, entry.fund.unit)
    owner = owner_of(entry)
    if owner == "aid_payment":
        raise ValidationError(_("该分录是帮扶发放的支出，请在该笔发放的“冲正发放”页面办理。"))
    if owner == "repayment":
        raise ValidationError(
            _("该分录是借款还款的收入，请在借款的还款记录中点“冲正还款”办理（借款详情页）。")
        )
    if owner == "premium":
        raise ValidationError(
            _(
                "该分录是互助会费的收入，请在互助合作社的会费记录中点“冲正缴费”办理"
                "（该会员的收取会费页面）。"
            )
        )
    return entry_reverse(actor=actor, entry=entry, reason=reason)
