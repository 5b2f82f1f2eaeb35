"""Applications for aid and their approval.

A caseworker drafts; the chair of the household's union approves, rejects or
returns it to the drafter to amend (退回修改); above the union level's limit
the chair of the parent union must approve as well; finance pays
(payments.py). The one who drafts may not approve, and the one who approves
may not pay: the services refuse it, whatever the UI shows. Every status
change goes through `application_move`, which writes the history row.
"""

import datetime
import uuid
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.idempotency import replay_of
from accounts.models import User
from accounts.money import CENT, TOO_LARGE, ZERO
from accounts.scoping import covers
from cases import clock
from cases.models import Household, Member
from cases.services.intake import household_lock

from ..models import (
    Application,
    ApplicationStatus,
    ApplicationStatusChange,
    Decision,
    DecisionLevel,
    Kind,
    Program,
)
from . import rules
from .conflicts import STEP, conflict_guard, guard_first, loaded

S = ApplicationStatus
EDITOR = "household.edit"
CHAIR = "case.decide"


def to_amount(value: Any, field: str = "amount") -> Decimal:
    """A money amount from user input, or a ValidationError on `field`."""
    try:
        amount = Decimal(str(value).strip())
    except ArithmeticError:
        raise ValidationError({field: _("金额格式不正确。")}) from None
    if not amount.is_finite():
        raise ValidationError({field: _("金额格式不正确。")})
    if amount < 0:
        raise ValidationError({field: _("金额不能为负数。")})
    # Before quantize: a huge exponent (1e400) would make quantize itself fail.
    if amount >= TOO_LARGE:
        raise ValidationError({field: _("金额过大。")})
    cents = amount.quantize(CENT)
    if amount != cents:
        raise ValidationError({field: _("金额最多保留两位小数（到分）。")})
    return cents


# An application's life: each status and the statuses it may move to. A paid
# application goes back to approved only when its payment is reversed; a
# returned one goes back to pending when its drafter resubmits it.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.PENDING, S.WITHDRAWN}),
    S.PENDING: frozenset({S.PENDING_PARENT, S.APPROVED, S.REJECTED, S.RETURNED, S.WITHDRAWN}),
    S.PENDING_PARENT: frozenset({S.APPROVED, S.REJECTED, S.RETURNED, S.WITHDRAWN}),
    S.RETURNED: frozenset({S.PENDING, S.WITHDRAWN}),
    S.APPROVED: frozenset({S.PAID}),
    S.PAID: frozenset({S.APPROVED}),
    S.REJECTED: frozenset(),
    S.WITHDRAWN: frozenset(),
}


def _check_move(before: str, to: str) -> None:
    if to not in TRANSITIONS.get(before, frozenset()):
        raise ValidationError(
            _("该申请当前为“%(f)s”，不能变为“%(t)s”。") % {"f": S(before).label, "t": S(to).label}
        )


def application_move(
    *,
    actor: User,
    application: Application,
    to: str,
    action: str,
    reason: str = "",
    changes: dict[str, Any] | None = None,
) -> Application:
    """The one place an application's status changes. The caller holds the
    row lock; a history row (who, when, from, to, why) and the audit event
    are written in the caller's transaction."""
    before = application.status
    _check_move(before, to)
    application.status = to
    application.save(update_fields=["status"])
    reason = (reason or "").strip()
    ApplicationStatusChange.objects.create(
        application=application,
        from_status=before,
        to_status=to,
        actor=actor,
        at=clock.now(),
        reason=reason,
    )
    extra = {"reason": [None, reason]} if reason else {}
    audit_record(
        actor=actor,
        action=action,
        obj=application.household,
        unit=application.household.unit,
        changes={"status": [before, to], **extra, **(changes or {})},
    )
    return application


def applications_move_all(
    queryset: Any, *, actor: User, before: str, to: str, reason: str = ""
) -> int:
    """Move every application of `queryset` in status `before` at once (a
    batch's lines), with a history row each; the caller records one audit
    event for the batch."""
    _check_move(before, to)
    ids = list(queryset.filter(status=before).order_by("pk").values_list("pk", flat=True))
    if not ids:
        return 0
    moved = int(Application.objects.filter(pk__in=ids, status=before).update(status=to))
    now = clock.now()
    ApplicationStatusChange.objects.bulk_create(
        [
            ApplicationStatusChange(
                application_id=pk,
                from_status=before,
                to_status=to,
                actor=actor,
                at=now,
                reason=reason,
            )
            for pk in ids
        ],
        batch_size=1000,
    )
    return moved


def threshold_for(program: Program, household: Household) -> Decimal | None:
    """本级审批限额: the most the household's own union may approve alone."""
    for row in program.thresholds.all():
        if row.unit_kind == household.unit.kind:
            return row.amount
    return None


def needs_parent(program: Program, household: Household, amount: Decimal) -> bool:
    limit = threshold_for(program, household)
    return limit is not None and amount > limit


def check_drafter(actor: User, household: Household) -> None:
    if not covers(actor, EDITOR, household.unit):
        raise PermissionDenied(_("您无权为该工会的家庭申请帮扶。"))


def _blank(value: Any) -> bool:
    return value is None or str(value).strip() == ""


def handout(
    *,
    program: Program,
    standard: Decimal | None,
    amount: Any = None,
    cash: Any = None,
    goods_value: Any = None,
    goods_description: str = "",
) -> tuple[Decimal, Decimal, str]:
    """The whole handout, its goods part and what the goods are.

    `amount` is always the whole handout (empty: the program's standard).
    A cash-and-goods program may be given the cash part instead (`cash`), as
    its form asks for cash and goods apart; the whole is then their sum. For
    a goods program the goods value is the whole. Caps and approval limits
    are checked on the whole, which is what the union spends."""
    description = (goods_description or "").strip()
    goods = None if _blank(goods_value) else to_amount(goods_value, "goods_value")
    kind = program.kind
    if kind not in (Kind.GOODS, Kind.CASH_GOODS):
        return _whole(amount, standard), ZERO, ""
    if kind == Kind.GOODS:
        whole = goods if goods is not None else _whole(amount, standard, field="goods_value")
        goods = whole
    elif not _blank(cash):
        goods = goods if goods is not None else ZERO
        whole = to_amount(cash, "cash") + goods
    else:
        goods = goods if goods is not None else ZERO
        whole = _whole(amount, standard, field="cash")
        if goods > whole:
            raise ValidationError(
                {
                    "goods_value": _("实物折价 %(g)s 元超过本次帮扶总额 %(a)s 元。")
                    % {"g": goods, "a": whole}
                }
            )
    if goods > 0 and not description:
        raise ValidationError({"goods_description": _("请填写发放的实物内容（品名、数量）。")})
    if kind == Kind.GOODS and goods <= 0:
        raise ValidationError({"goods_value": _("请填写实物折价，且应大于零。")})
    return whole, goods, description if goods > 0 else ""


def _whole(amount: Any, standard: Decimal | None, *, field: str = "amount") -> Decimal:
    if _blank(amount):
        if standard is None:
            raise ValidationError({field: _("该项目未设本类别的补助标准，请填写申请金额。")})
        return standard
    return to_amount(amount)


def _validated(
    *,
    program: Program,
    household: Household,
    year: int,
    amount: Any,
    amount_reason: str,
    out_of_pocket: Any,
    student: Member | None,
    months: int | None,
    exclude: int | None = None,
    cash: Any = None,
    goods_value: Any = None,
    goods_description: str = "",
) -> dict[str, Any]:
    """Every rule an application passes, in the order a person would fix them."""
    rules.check_eligible(program, household)
    standard = rules.standard_amount(program, household)
    value, goods, description = handout(
        program=program,
        standard=standard,
        amount=amount,
        cash=cash,
        goods_value=goods_value,
        goods_description=goods_description,
    )
    reason = (amount_reason or "").strip()
    if standard is not None and value != standard and not reason:
        raise ValidationError(
            {"amount_reason": _("申请金额与补助标准 %(s)s 元不同，请说明理由。") % {"s": standard}}
        )
    cost = None if out_of_pocket in (None, "") else to_amount(out_of_pocket, "out_of_pocket")
    if months is not None and not 1 <= months <= rules.MAX_SCHOOL_MONTHS:
        raise ValidationError({"months": _("资助月数应在 1 至 10 之间。")})
    rules.check_caps(
        program=program,
        household=household,
        year=year,
        amount=value,
        out_of_pocket=cost,
        student=student,
        months=months,
        exclude=exclude,
    )
    if needs_parent(program, household, value) and household.unit.parent_id is None:
        raise ValidationError({"amount": _("超过本级审批限额，但没有上级工会可以审批。")})
    return {
        "standard_amount": standard,
        "amount": value,
        "goods_value": goods,
        "goods_description": description,
        "amount_reason": reason if standard is None or value != standard else "",
        "out_of_pocket": cost,
        "student": student,
        "months": months,
        "needs_parent": needs_parent(program, household, value),
    }


def _revalidated(application: Application, household: Household, **given: Any) -> dict[str, Any]:
    """The rules again for an application being changed (amended in a batch
    or resubmitted): its own program, household and year, its own amount
    left out of the caps."""
    return _validated(
        program=application.program,
        household=household,
        year=application.year,
        exclude=application.pk,
        **given,
    )


@transaction.atomic
def application_draft(
    *,
    actor: User,
    household: Household,
    program: Program,
    amount: Any = None,
    amount_reason: str = "",
    reason: str = "",
    out_of_pocket: Any = None,
    student: Member | None = None,
    months: int | None = None,
    batch: Any = None,
    on: datetime.date | None = None,
    cash: Any = None,
    goods_value: Any = None,
    goods_description: str = "",
    client_key: uuid.UUID | None = None,
) -> Application:
    """Draft an application and send it for approval (a batch line stays a
    draft until its batch is submitted). The household row is locked, so two
    drafts at once cannot both fit under a cap that holds only one.

    `client_key` is the key an API client gave the application. One the
    actor already drafted under that key is returned as it is, marked
    `replayed`, and nothing is written: sent twice, it is one application."""
    if client_key is not None:
        earlier = replay_of(
            _application_by_key(actor, client_key), household=household, program=program
        )
        if earlier is not None:
            return earlier
    household = household_lock(household)
    if client_key is not None:
        # A twin send for the same household waited on the lock above and
        # may have committed meanwhile.
        earlier = replay_of(
            _application_by_key(actor, client_key), household=household, program=program
        )
        if earlier is not None:
            return earlier
    check_drafter(actor, household)
    today = on or clock.today()
    rules.check_window(program, today)
    fields = _validated(
        program=program,
        household=household,
        year=today.year,
        amount=amount,
        amount_reason=amount_reason,
        out_of_pocket=out_of_pocket,
        student=student,
        months=months,
        cash=cash,
        goods_value=goods_value,
        goods_description=goods_description,
    )
    try:
        with transaction.atomic():
            application = Application.objects.create(
                program=program,
                household=household,
                batch=batch,
                year=today.year,
                status=S.DRAFT if batch is not None else S.PENDING,
                reason=reason.strip(),
                drafted_by=actor,
                client_key=client_key,
                **fields,
            )
    except IntegrityError:
        # The same key sent at the same moment for another household: the
        # unique constraint let one through; the other is not its replay.
        earlier = _application_by_key(actor, client_key) if client_key is not None else None
        if earlier is None:
            raise
        replayed = replay_of(earlier, household=household, program=program)
        assert replayed is not None
        return replayed
    ApplicationStatusChange.objects.create(
        application=application,
        from_status="",
        to_status=application.status,
        actor=actor,
        at=clock.now(),
    )
    # Drafting for one's own kin is flagged, not refused: the chair decides.
    conflict_guard(actor=actor, application=application, step=STEP.DRAFT)
    audit_record(
        actor=actor,
        action="application.draft",
        obj=household,
        unit=household.unit,
        changes={
            "program": [None, program.name],
            "amount": [None, str(fields["amount"])],
            "goods_value": [None, str(fields["goods_value"])],
        },
    )
    return application


def _application_by_key(actor: User, client_key: uuid.UUID) -> Application | None:
    found = Application.objects.filter(drafted_by=actor, client_key=client_key).first()
    if found is not None:
        found.replayed = True  # type: ignore[attr-defined]
    return found


def application_lock(application: Application) -> Application:
    return (
        Application.objects.select_for_update(no_key=True, of=("self",))
        .select_related("household__unit__parent", "program", "batch")
        .get(pk=application.pk)
    )


def _kept_goods(application: Application) -> Decimal | None:
    # A goods program's goods are the whole: they follow the amended amount.
    if application.program.kind == Kind.GOODS:
        return None
    return application.goods_value


@transaction.atomic
def application_amend(
    *,
    actor: User,
    application: Application,
    amount: Any,
    amount_reason: str,
    goods_value: Any = None,
    goods_description: str | None = None,
) -> Application:
    """Change the amount of a line not yet submitted (a batch under review).
    `amount` is the whole handout; the goods part stays unless given."""
    application = application_lock(application)
    household = household_lock(application.household)
    check_drafter(actor, household)
    if application.status != S.DRAFT:
        raise ValidationError(_("只有尚未提交的申请可以修改金额。"))
    fields = _revalidated(
        application,
        household,
        amount=amount,
        amount_reason=amount_reason,
        out_of_pocket=application.out_of_pocket,
        student=application.student,
        months=application.months,
        goods_value=_kept_goods(application) if _blank(goods_value) else goods_value,
        goods_description=(
            application.goods_description if goods_description is None else goods_description
        ),
    )
    conflict_guard(actor=actor, application=application, step=STEP.DRAFT)
    before = application.amount
    before_goods = application.goods_value
    names = ["amount", "amount_reason", "needs_parent", "goods_value", "goods_description"]
    for name in names:
        setattr(application, name, fields[name])
    application.save(update_fields=names)
    audit_record(
        actor=actor,
        action="application.amend",
        obj=household,
        unit=household.unit,
        changes={
            "amount": [str(before), str(application.amount)],
            "goods_value": [str(before_goods), str(application.goods_value)],
        },
    )
    return application


# Statuses the drafter may still withdraw from.
WITHDRAWABLE = (S.DRAFT, S.PENDING, S.PENDING_PARENT, S.RETURNED)


def check_own_draft(actor: User, application: Application) -> None:
    """Only the one who drafted an application withdraws or resubmits it (a
    chair returns it instead), and only while they may still edit for its
    union."""
    if application.drafted_by_id != actor.pk:
        raise PermissionDenied(_("只有该申请的经办人可以撤回或重新提交。"))
    check_drafter(actor, application.household)


@transaction.atomic
def application_withdraw(*, actor: User, application: Application, reason: str) -> Application:
    application = application_lock(application)
    check_own_draft(actor, application)
    if application.status not in WITHDRAWABLE:
        raise ValidationError(_("该申请已审批，不能撤回。"))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写撤回理由。")})
    return application_move(
        actor=actor,
        application=application,
        to=S.WITHDRAWN,
        action="application.withdraw",
        reason=reason,
    )


def _guard_chair(given: dict[str, Any]) -> None:
    """回避 for a chair who could decide the application: flagged and refused
    on a conflict (check_approver refuses anyone else, unflagged)."""
    actor, application = given["actor"], loaded(given["application"])
    if covers(actor, CHAIR, application.household.unit):
        conflict_guard(actor=actor, application=application, step=STEP.APPROVE)


@guard_first(_guard_chair)
@transaction.atomic
def application_return(*, actor: User, application: Application, reason: str) -> Application:
    """退回修改: the chair who may decide the application now sends it back to
    its drafter instead, saying what to change. Its decisions so far stay on
    record; the resubmitted application is decided afresh. A chair who must
    recuse (回避) may not return it either: that too decides its course."""
    application = application_lock(application)
    level = decision_level(application)
    check_approver(actor, application, level)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("请填写退回原因，说明需要修改的内容。")})
    return application_move(
        actor=actor,
        application=application,
        to=S.RETURNED,
        action="application.return",
        reason=reason,
        changes={"level": [None, level]},
    )


@transaction.atomic
def application_resubmit(
    *,
    actor: User,
    application: Application,
    amount: Any = None,
    amount_reason: str = "",
    reason: str = "",
    out_of_pocket: Any = None,
    student: Member | None = None,
    months: int | None = None,
    cash: Any = None,
    goods_value: Any = None,
    goods_description: str = "",
    note: str = "",
) -> Application:
    """The drafter amends a returned application and sends it for approval
    again. It passes every rule once more (its own amount left out of the
    caps); the program's window is not asked again, as it was filed in time.
    `note` says what was changed, for the history."""
    application = application_lock(application)
    household = household_lock(application.household)
    check_own_draft(actor, application)
    if application.status != S.RETURNED:
        raise ValidationError(_("只有被退回修改的申请可以重新提交。"))
    fields = _revalidated(
        application,
        household,
        amount=amount,
        amount_reason=amount_reason,
        out_of_pocket=out_of_pocket,
        student=student,
        months=months,
        cash=cash,
        goods_value=goods_value,
        goods_description=goods_description,
    )
    conflict_guard(actor=actor, application=application, step=STEP.DRAFT)
    before = application.amount
    for name, value in fields.items():
        setattr(application, name, value)
    application.reason = (reason or "").strip()
    application.submission += 1
    application.save(update_fields=[*fields, "reason", "submission"])
    return application_move(
        actor=actor,
        application=application,
        to=S.PENDING,
        action="application.resubmit",
        reason=note,
        changes={"amount": [str(before), str(application.amount)]},
    )


def decision_level(application: Application) -> str:
    if application.status == S.PENDING:
        return DecisionLevel.UNIT
    if application.status == S.PENDING_PARENT:
        return DecisionLevel.PARENT
    raise ValidationError(
        _("该申请当前为“%(s)s”，不能审批。") % {"s": application.get_status_display()}
    )


def check_approver(actor: User, application: Application, level: str) -> None:
    """The chair who may decide this level; never the drafter, and never the
    same chair twice."""
    unit = application.household.unit
    if level == DecisionLevel.PARENT:
        if unit.parent is None or not covers(actor, CHAIR, unit.parent):
            raise PermissionDenied(_("超过本级审批限额，须由上级工会主席审批。"))
    elif not covers(actor, CHAIR, unit):
        raise PermissionDenied(_("只有本工会或上级工会的主席可以审批。"))
    if application.drafted_by_id == actor.pk:
        raise PermissionDenied(_("申请人（经办人）不能审批自己起草的申请。"))
    # This round only: after 退回修改 the same chairs decide the new round.
    if any(
        d.actor_id == actor.pk and d.submission == application.submission
        for d in application.decisions.all()
    ):
        raise PermissionDenied(_("同一人不能在两级重复审批。"))


def decide(*, actor: User, application: Application, approve: bool, note: str = "") -> Decision:
    """One decision on a locked application (callers hold the transaction)."""
    level = decision_level(application)
    check_approver(actor, application, level)
    note = (note or "").strip()
    if not approve and not note:
        raise ValidationError({"note": _("不同意时须填写理由。")})
    try:
        with transaction.atomic():
            decision = Decision.objects.create(
                application=application,
                submission=application.submission,
                level=level,
                approved=approve,
                note=note,
                actor=actor,
            )
    except IntegrityError:
        raise ValidationError(_("该申请已由他人审批。")) from None
    if not approve:
        to = S.REJECTED
    elif level == DecisionLevel.UNIT and application.needs_parent:
        to = S.PENDING_PARENT
    else:
        to = S.APPROVED
    application_move(
        actor=actor,
        application=application,
        to=to,
        action="application.approve" if approve else "application.reject",
        reason=note,
        changes={"level": [None, level]},
    )
    return decision


@guard_first(_guard_chair)
@transaction.atomic
def application_decide(
    *, actor: User, application: Application, approve: bool, note: str = ""
) -> Application:
    """A chair's decision on one application. The conflict guard runs before
    the transaction, so a refused chair's flag is committed (回避)."""
    application = application_lock(application)
    decide(actor=actor, application=application, approve=approve, note=note)
    return application
