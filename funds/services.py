"""Writes to funds and the ledger.

Every movement locks the fund row before it looks at the balance, so two
payments at the same moment queue instead of both seeing the old balance;
the balance can never go below zero.
"""

import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Sum
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import Unit, User
from accounts.scoping import covers
from cases import clock
from cases.models import Household

from .models import EntryKind, Fund, LedgerEntry, Restriction

CENT = Decimal("0.01")
FINANCE = "fund.manage"


def balance_of(fund: Fund) -> Decimal:
    total = fund.entries.aggregate(total=Sum(F("amount") * F("direction")))["total"]
    return (total or Decimal("0")).quantize(CENT)


def _check(actor: User, unit: Unit) -> None:
    if not covers(actor, FINANCE, unit):
        raise PermissionDenied(_("只有本工会或上级工会的财务人员可以操作该资金。"))


def _amount(value: Any) -> Decimal:
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise ValidationError({"amount": _("金额格式不正确。")}) from None
    if not amount.is_finite() or amount <= 0:
        raise ValidationError({"amount": _("金额必须大于 0。")})
    if amount != amount.quantize(CENT):
        raise ValidationError({"amount": _("金额最多保留两位小数（到分）。")})
    if amount >= Decimal("1e12"):
        raise ValidationError({"amount": _("金额过大。")})
    return amount


def _locked(fund: Fund) -> Fund:
    return Fund.objects.select_for_update(of=("self",)).select_related("unit").get(pk=fund.pk)


def _existing(reference: str | None) -> LedgerEntry | None:
    if not reference:
        return None
    return LedgerEntry.objects.filter(reference=reference).first()


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
    source: str,
    year: int,
    restriction: str = Restriction.NONE,
    restricted_purpose: str = "",
    restricted_household: Household | None = None,
) -> Fund:
    _check(actor, unit)
    if restriction == Restriction.HOUSEHOLD:
        if restricted_household is None:
            raise ValidationError({"restricted_household": _("请选择限定的受助家庭。")})
        if not unit.covers(restricted_household.unit):
            raise ValidationError({"restricted_household": _("该家庭不属于本工会。")})
    if restriction == Restriction.PURPOSE and not restricted_purpose.strip():
        raise ValidationError({"restricted_purpose": _("请填写限定用途。")})
    if Fund.objects.filter(unit=unit, year=year, name=name.strip()).exists():
        raise ValidationError({"name": _("本工会该年度已有同名资金。")})
    fund = Fund.objects.create(
        unit=unit,
        name=name.strip(),
        source=source,
        year=year,
        restriction=restriction,
        restricted_purpose=restricted_purpose.strip(),
        restricted_household=restricted_household if restriction == Restriction.HOUSEHOLD else None,
        created_by=actor,
    )
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
    occurred_on: datetime.date | None = None,
    donor: str = "",
    campaign: str = "",
    receipt_number: str = "",
    reference: str | None = None,
) -> LedgerEntry:
    """Money received into a fund (a donation when a donor is named)."""
    first = _existing(reference)
    if first is not None:
        return first
    fund = _locked(fund)
    _check(actor, fund.unit)
    value = _amount(amount)
    if not memo.strip():
        raise ValidationError({"memo": _("请填写摘要。")})
    entry = _write(
        LedgerEntry(
            fund=fund,
            kind=EntryKind.DONATION if donor.strip() else EntryKind.RECEIPT,
            direction=1,
            amount=value,
            occurred_on=occurred_on or clock.today(),
            memo=memo.strip(),
            donor=donor.strip(),
            campaign=campaign.strip(),
            receipt_number=receipt_number.strip(),
            reference=reference,
            actor=actor,
        )
    )
    audit_record(
        actor=actor,
        action="ledger.receipt",
        obj=fund,
        unit=fund.unit,
        changes={"amount": [None, str(value)], "entry": [None, entry.pk]},
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
    reference: str | None = None,
) -> LedgerEntry:
    """Money paid out of a fund. The fund row is locked first; the balance
    after the payment may not be negative."""
    first = _existing(reference)
    if first is not None:
        return first
    fund = _locked(fund)
    _check(actor, fund.unit)
    value = _amount(amount)
    check_use(fund, household=household, purposes=purposes, via_program=via_program)
    available = balance_of(fund)
    if value > available:
        message = _("资金余额不足：可用 %(b)s 元，需支付 %(a)s 元。") % {"b": available, "a": value}
        raise ValidationError({"amount": message})
    entry = _write(
        LedgerEntry(
            fund=fund,
            kind=EntryKind.PAYMENT,
            direction=-1,
            amount=value,
            occurred_on=occurred_on or clock.today(),
            memo=memo.strip() or _("支出"),
            household=household,
            reference=reference,
            actor=actor,
        )
    )
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
    if source.restriction != Restriction.NONE:
        raise ValidationError({"source": _("限定用途的资金不能调出。")})
    available = balance_of(source)
    if value > available:
        raise ValidationError({"amount": _("资金余额不足：可用 %(b)s 元。") % {"b": available}})
    today = clock.today()
    out = LedgerEntry.objects.create(
        fund=source, kind=EntryKind.TRANSFER_OUT, direction=-1, amount=value,
        occurred_on=today, memo=memo.strip() or _("资金调出"), actor=actor,
    )  # fmt: skip
    into = LedgerEntry.objects.create(
        fund=target, kind=EntryKind.TRANSFER_IN, direction=1, amount=value,
        occurred_on=today, memo=memo.strip() or _("资金调入"), counterpart=out, actor=actor,
    )  # fmt: skip
    audit_record(
        actor=actor,
        action="ledger.transfer",
        obj=source,
        unit=source.unit,
        changes={"amount": [None, str(value)], "to": [None, str(target)]},
    )
    return out, into


@transaction.atomic
def entry_reverse(*, actor: User, entry: LedgerEntry, reason: str) -> LedgerEntry:
    """Correct a mistaken entry with its mirror image; both rows stay."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("冲正须填写理由。")})
    fund = _locked(entry.fund)
    _check(actor, fund.unit)
    entry = LedgerEntry.objects.get(pk=entry.pk)
    if entry.kind == EntryKind.REVERSAL:
        raise ValidationError(_("冲正分录不能再次冲正。"))
    if LedgerEntry.objects.filter(reverses=entry).exists():
        raise ValidationError(_("该分录已冲正。"))
    if entry.direction > 0 and entry.amount > balance_of(fund):
        raise ValidationError(_("冲正后资金余额将为负数，请先处理相关支出。"))
    reversal = _write(
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
    audit_record(
        actor=actor,
        action="ledger.reverse",
        obj=fund,
        unit=fund.unit,
        changes={"entry": [entry.pk, reversal.pk], "reason": [None, reason]},
    )
    return reversal
