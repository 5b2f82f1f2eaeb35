"""Paying approved applications, and correcting a payment by reversal.

The application row is locked first, so twenty clicks on one application
queue and the later ones find the first payment and return it; a partial
unique constraint (one live payment per application) backs this up in the
database. The fund row is locked by the ledger before its balance is read.
"""

import datetime
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import User
from accounts.scoping import covers
from cases.uploads import checked_upload
from funds import services as ledger
from funds.models import Fund

from ..models import (
    AidPayment,
    Application,
    ApplicationStatus,
    Category,
    Kind,
    PaymentBatch,
    PaymentMethod,
)
from . import verification
from .applications import application_lock, application_move
from .conflicts import STEP, ConflictOfInterest, conflict_guard, conflicted, guard_first
from .duties import Part, part_in

S = ApplicationStatus
FINANCE = "fund.manage"


def check_payer(actor: User, application: Application) -> None:
    """Finance of the fund's union, never the drafter or an approver (nor,
    for a mutual-aid claim, a committee member who voted on it)."""
    refusals = {
        Part.DRAFTED: _("起草申请的人员不能发放该笔帮扶。"),
        Part.APPROVED: _("审批该申请的人员不能发放该笔帮扶。"),
        Part.VOTED: _("参加表决该互助申请的委员会成员不能发放该笔互助金。"),
    }
    part = part_in(actor.pk, application)
    if part is not None:
        raise PermissionDenied(refusals[part])


def purposes_of(application: Application) -> tuple[str, ...]:
    """What the payment is for, as a restricted fund's purpose may name it."""
    with translation.override("zh-hans"):
        category = str(Category(application.program.category).label)
    return (application.program.name, category)


def _check_fund(application: Application, fund: Fund) -> None:
    if not application.program.funds.filter(pk=fund.pk).exists():
        raise ValidationError({"fund": _("该资金不在本项目可列支的资金范围内。")})
    ledger.check_use(
        fund,
        household=application.household,
        purposes=purposes_of(application),
        via_program=True,
    )


def _sheet(upload: UploadedFile | None) -> UploadedFile | None:
    if upload is None:
        return None
    try:
        checked_upload(upload)
    except ValidationError as exc:
        raise ValidationError({"signed_sheet": exc.messages}) from None
    return upload


def pay(
    *,
    actor: User,
    application: Application,
    fund: Fund,
    method: str,
    signed_sheet: UploadedFile | None = None,
    batch: PaymentBatch | None = None,
    paid_on: datetime.date | None = None,
    date_reason: str = "",
    loan: bool = False,
    allow_any_past_date: bool = False,
) -> AidPayment:
    """Pay one application inside the caller's transaction. A loan is paid
    out only by the loan service (`loan=True`), which also sets its schedule.

    `paid_on` is the day the money was paid (bank value date or cash
    hand-over; default today): never in the future, before today only with
    `date_reason` and within the union's back-dating window
    (funds.services.check_value_date). `allow_any_past_date=True` lifts the
    window and is for the history import (发放记录迁移) only, which writes
    payments made years ago; no screen passes it."""
    application = application_lock(application)
    if not covers(actor, FINANCE, fund.unit):
        raise PermissionDenied(_("只有本工会或上级工会的财务人员可以发放。"))
    check_payer(actor, application)
    live = application.payments.filter(reversal__isnull=True).first()
    if live is not None:
        # A repeated submit of the same form: the first result stands.
        return live
    if application.status != S.APPROVED:
        raise ValidationError(
            _("该申请当前为“%(s)s”，只有已批准的申请可以发放。")
            % {"s": application.get_status_display()}
        )
    if (application.program.kind == Kind.LOAN) != loan:
        raise ValidationError(
            _("借款项目须通过放款办理。") if not loan else _("该申请不是借款项目。")
        )
    if method not in PaymentMethod.values:
        raise ValidationError({"method": _("请选择发放方式。")})
    if application.amount <= 0:
        raise ValidationError({"amount": _("该申请金额为 0，无需发放资金。")})
    _check_fund(application, fund)
    household = application.household
    if method == PaymentMethod.BANK and not household.bank_account:
        raise ValidationError(
            {"method": _("%(n)s 家未登记银行账号，不能银行转账。") % {"n": household.name}}
        )
    if method != PaymentMethod.BANK and signed_sheet is None and not (batch and batch.signed_sheet):
        raise ValidationError({"signed_sheet": _("现金或实物发放须上传签收单。")})
    attempt = application.payments.count() + 1
    entry = ledger.payment_post(
        actor=actor,
        fund=fund,
        amount=application.amount,
        memo=f"{application.program.name} {household.name}",
        household=household,
        purposes=purposes_of(application),
        via_program=True,
        occurred_on=paid_on,
        date_reason=date_reason,
        reference=f"aid:{application.pk}:{attempt}",
        date_field="paid_on",
        allow_any_past_date=allow_any_past_date,
        program_id=application.program_id,
    )
    payment = AidPayment(
        application=application,
        fund=fund,
        entry=entry,
        batch=batch,
        method=method,
        amount=application.amount,
        goods_description=application.goods_description,
        goods_value=application.goods_value,
        paid_on=entry.occurred_on,
        paid_by=actor,
    )
    if method == PaymentMethod.BANK:
        payment.account_name = household.name
        payment.bank_name = household.bank_name
        payment.bank_account = household.bank_account
    if signed_sheet is not None:
        payment.signed_sheet.save(signed_sheet.name or "sheet", signed_sheet, save=False)
    payment.save()
    application_move(
        actor=actor,
        application=application,
        to=S.PAID,
        action="application.pay",
        changes={"amount": [None, str(application.amount)], "fund": [None, str(fund)]},
    )
    return payment


def guard_payer(given: dict[str, Any]) -> None:
    """回避 for a finance officer who may pay from the fund: flagged and
    refused on a conflict. Anyone else is refused by `pay`, unflagged."""
    actor = given["actor"]
    if covers(actor, FINANCE, given["fund"].unit):
        conflict_guard(actor=actor, application=given["application"], step=STEP.PAY)


@guard_first(guard_payer)
@transaction.atomic
def aid_pay(
    *,
    actor: User,
    application: Application,
    fund: Fund,
    method: str,
    signed_sheet: UploadedFile | None = None,
    paid_on: datetime.date | None = None,
    date_reason: str = "",
) -> AidPayment:
    """Pay one approved application; the conflict guard (回避) runs first,
    outside the transaction, so a refused payer's flag is committed."""
    return pay(
        actor=actor,
        application=application,
        fund=fund,
        method=method,
        signed_sheet=_sheet(signed_sheet),
        paid_on=paid_on,
        date_reason=date_reason,
    )


def payment_batch_create(
    *,
    actor: User,
    fund: Fund,
    method: str,
    applications: Iterable[Application],
    title: str,
    signed_sheet: UploadedFile | None = None,
    paid_on: datetime.date | None = None,
    date_reason: str = "",
) -> PaymentBatch:
    """Pay many approved applications from one fund, all or none: if one
    cannot be paid (balance, account, rules) nothing is paid and the message
    names the household. Every line is paid on `paid_on` (default today),
    under the same window rule as a single payment.

    A line the payer must recuse from (回避) refuses the whole batch, after
    every such line is flagged in a transaction of its own."""
    applications = list(applications)
    ids = sorted({a.pk for a in applications})
    if not covers(actor, FINANCE, fund.unit):
        raise PermissionDenied(_("只有本工会或上级工会的财务人员可以发放。"))
    recused = conflicted(
        actor=actor,
        applications=Application.objects.filter(pk__in=ids)
        .select_related("household__unit")
        .prefetch_related("household__members")
        .order_by("pk"),
        step=STEP.PAY,
    )
    if recused:
        names = Application.objects.filter(pk__in=recused).values_list("household__name", flat=True)
        first = next(iter(recused.values()))
        raise ConflictOfInterest(
            _("%(n)s：%(m)s") % {"n": "、".join(sorted(names)), "m": str(first)}
        )
    return _payment_batch_create(
        actor=actor,
        fund=fund,
        method=method,
        applications=applications,
        title=title,
        signed_sheet=signed_sheet,
        paid_on=paid_on,
        date_reason=date_reason,
    )


@transaction.atomic
def _payment_batch_create(
    *,
    actor: User,
    fund: Fund,
    method: str,
    applications: Iterable[Application],
    title: str,
    signed_sheet: UploadedFile | None,
    paid_on: datetime.date | None,
    date_reason: str,
) -> PaymentBatch:
    if not covers(actor, FINANCE, fund.unit):
        raise PermissionDenied(_("只有本工会或上级工会的财务人员可以发放。"))
    # Checked once for the batch, so a bad date is named on its own field
    # rather than on the first household's line.
    paid_on, date_reason = ledger.check_value_date(
        fund.unit, paid_on, date_reason, field="paid_on", label=_("发放日期")
    )
    if method not in PaymentMethod.values:
        raise ValidationError({"method": _("请选择发放方式。")})
    ids = sorted({a.pk for a in applications})
    if not ids:
        raise ValidationError(_("请至少选择一笔已批准的申请。"))
    title = (title or "").strip()
    if len(title) > 100:
        raise ValidationError({"title": _("名称最多 100 个字。")})
    sheet = _sheet(signed_sheet)
    if method != PaymentMethod.BANK and sheet is None:
        raise ValidationError({"signed_sheet": _("现金或实物发放须上传签收单。")})
    # Every application row first, in id order, and only then the fund (the
    # first payment locks it): a single payment locks its application, then
    # the fund, so the two orders agree and cannot deadlock.
    chosen = list(
        Application.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk__in=ids)
        .select_related("household__unit", "program")
        .order_by("pk")
    )
    if len(chosen) != len(ids):
        raise ValidationError(_("所选申请不存在或已被删除，请刷新后重试。"))
    batch = PaymentBatch(
        fund=fund,
        method=method,
        title=title or _("%(f)s 发放批次") % {"f": fund.name},
        created_by=actor,
    )
    if sheet is not None:
        batch.signed_sheet.save(sheet.name or "sheet", sheet, save=False)
    try:
        batch.save()
        for application in chosen:
            _pay_line(
                actor=actor,
                application=application,
                fund=fund,
                batch=batch,
                paid_on=paid_on,
                date_reason=date_reason,
            )
    except BaseException:
        # Nothing of the batch is kept, so neither is its uploaded sheet.
        if batch.signed_sheet:
            batch.signed_sheet.delete(save=False)
        raise
    # Drawn in this transaction: the batch and its sample exist together or
    # not at all (services/verification.py says why not on commit).
    sample = verification.sample_draw_batch(actor=actor, batch=batch)
    audit_record(
        actor=actor,
        action="payment_batch.create",
        obj=fund,
        unit=fund.unit,
        changes={
            "payments": [None, len(chosen)],
            "batch": [None, batch.pk],
            "verification_sample": [None, sample.pk],
        },
    )
    return batch


def _pay_line(
    *,
    actor: User,
    application: Application,
    fund: Fund,
    batch: PaymentBatch,
    paid_on: datetime.date,
    date_reason: str,
) -> None:
    name = application.household.name
    try:
        payment = pay(
            actor=actor,
            application=application,
            fund=fund,
            method=batch.method,
            batch=batch,
            paid_on=paid_on,
            date_reason=date_reason,
        )
    except ValidationError as exc:
        raise ValidationError(
            _("%(n)s：%(m)s") % {"n": name, "m": " ".join(exc.messages)}
        ) from None
    except PermissionDenied as exc:
        # One line the payer may not pay (drafted or approved it) stops the
        # batch with the household named, rather than a bare refusal page.
        raise ValidationError(_("%(n)s：%(m)s") % {"n": name, "m": str(exc)}) from None
    if payment.batch_id != batch.pk:
        raise ValidationError(_("%(n)s 的申请已经发放过。") % {"n": name})


@transaction.atomic
def aid_payment_reverse(*, actor: User, payment: AidPayment, reason: str) -> AidPayment:
    """Undo a mistaken payment: a reversing ledger entry restores the fund,
    the payment is marked, and the application may be paid again."""
    application_id = AidPayment.objects.values_list("application_id", flat=True).get(pk=payment.pk)
    # The application first, as a payment locks it: then the fund.
    application = application_lock(Application(pk=application_id))
    payment = (
        AidPayment.objects.select_for_update(no_key=True, of=("self",))
        .select_related("application__household__unit", "fund__unit", "entry")
        .get(pk=payment.pk)
    )
    if not covers(actor, FINANCE, payment.fund.unit):
        raise PermissionDenied(_("只有本工会或上级工会的财务人员可以冲正发放。"))
    if payment.reversal_id is not None:
        raise ValidationError(_("该笔发放已冲正。"))
    if hasattr(payment, "loan"):
        raise ValidationError(_("已放款的借款不能冲正，请按还款处理。"))
    reversal = ledger.entry_reverse(actor=actor, entry=payment.entry, reason=reason)
    payment.reversal = reversal
    payment.reversal_reason = reason.strip()
    payment.save(update_fields=["reversal", "reversal_reason"])
    changes = {"amount": [str(payment.amount), None], "reason": [None, reason.strip()]}
    if application.status == S.PAID:
        # Payable again: the approval stands, only the money went back.
        application_move(
            actor=actor,
            application=application,
            to=S.APPROVED,
            action="application.payment_reverse",
            reason=reason,
            changes={"amount": changes["amount"]},
        )
    else:
        audit_record(
            actor=actor,
            action="application.payment_reverse",
            obj=application.household,
            unit=application.household.unit,
            changes=changes,
        )
    return payment


@transaction.atomic
def payment_batch_export(*, actor: User, batch: PaymentBatch) -> None:
    """Record that a bank file with full account numbers left the system."""
    if not covers(actor, FINANCE, batch.fund.unit):
        raise PermissionDenied(_("只有本工会或上级工会的财务人员可以导出银行文件。"))
    if batch.method != PaymentMethod.BANK:
        raise ValidationError(_("只有银行转账批次可以导出银行文件。"))
    audit_record(
        actor=actor,
        action="payment_batch.export",
        obj=batch,
        unit=batch.fund.unit,
        changes={"export": [None, "bank_file"]},
    )


@transaction.atomic
def payment_sheet_open(*, actor: User, payment: AidPayment) -> None:
    """Record that someone opened a signed receipt sheet (names, signatures)."""
    audit_record(
        actor=actor,
        action="payment.sheet_open",
        obj=payment.application.household,
        unit=payment.application.household.unit,
        changes={"payment": [None, payment.pk]},
    )
