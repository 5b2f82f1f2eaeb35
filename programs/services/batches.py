"""Campaign batches (送温暖, 金秋助学): many households drafted at once from a
filter, reviewed as a list, submitted, then decided as a whole or line by
line. Each line is an ordinary application and passes the same rules."""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import Unit, User
from accounts.scoping import covers, has_action
from cases import clock
from cases.kin import remembering_kin
from cases.models import Cause, Household, HouseholdStatus, Member, Tier

from ..models import (
    Application,
    ApplicationStatus,
    Batch,
    BatchStatus,
    CapRule,
    Kind,
    Program,
)
from . import applications, rules
from .conflicts import STEP, conflicted

S = ApplicationStatus
BATCH_LIMIT = 2000


def batch_candidates(
    *,
    unit: Unit,
    tiers: list[Tier] | None = None,
    causes: list[Cause] | None = None,
    in_school: bool = False,
) -> QuerySet[Household]:
    """Filed households of the union's subtree matching the campaign filter."""
    qs = Household.objects.filter(
        status=HouseholdStatus.FILED, unit__path__startswith=unit.path
    ).select_related("unit", "tier")
    if tiers:
        qs = qs.filter(tier__in=tiers)
    if causes:
        # A secondary cause counts too, as it does for a program's eligibility.
        secondary = Household.secondary_causes.through.objects.filter(
            household_id=OuterRef("pk"), cause__in=causes
        )
        qs = qs.filter(Q(main_cause__in=causes) | Exists(secondary))
    if in_school:
        school = Member.objects.filter(household=OuterRef("pk")).exclude(school_stage="")
        qs = qs.filter(Exists(school))
    return qs.order_by("unit__path", "name", "pk")


@transaction.atomic
def batch_create(
    *,
    actor: User,
    unit: Unit,
    program: Program,
    title: str,
    tiers: list[Tier] | None = None,
    causes: list[Cause] | None = None,
    in_school: bool = False,
    goods_description: str = "",
    goods_value: Any = None,
) -> tuple[Batch, list[tuple[Household, str]]]:
    """Draft a line at the standard amount for every matching household.
    Households a rule refuses are left out and returned with the reason.
    A goods or cash-and-goods campaign names its goods once for the batch;
    `goods_value` is each line's goods part (a goods program: the whole)."""
    if not covers(actor, applications.EDITOR, unit):
        raise PermissionDenied(_("您无权为该工会发起批次。"))
    if not title.strip():
        raise ValidationError({"title": _("请填写批次名称。")})
    if not program.is_active:
        raise ValidationError({"program": _("该帮扶项目已停用。")})
    today = clock.today()
    rules.check_window(program, today)
    if not program.unit.covers(unit) and not unit.covers(program.unit):
        raise ValidationError({"program": _("该项目不面向该工会。")})
    _check_goods(program, goods_description, goods_value)
    # Every line reads the same rules: load them once, not once per household.
    program = (
        Program.objects.select_related("unit")
        .prefetch_related("eligible_tiers", "eligible_causes", "amounts", "thresholds")
        .get(pk=program.pk)
    )
    households = list(
        batch_candidates(unit=unit, tiers=tiers, causes=causes, in_school=in_school)[
            : BATCH_LIMIT + 1
        ]
    )
    if not households:
        raise ValidationError(_("没有符合条件的已建档家庭。"))
    if len(households) > BATCH_LIMIT:
        raise ValidationError(
            _("符合条件的家庭超过 %(n)s 户，请缩小范围（按下级工会分批）。") % {"n": BATCH_LIMIT}
        )
    batch = Batch.objects.create(
        unit=unit,
        program=program,
        title=title.strip(),
        year=today.year,
        criteria={
            "tiers": [t.pk for t in tiers or []],
            "causes": [c.pk for c in causes or []],
            "in_school": in_school,
            "goods_description": (goods_description or "").strip(),
            "goods_value": str(goods_value or ""),
        },
        created_by=actor,
    )
    skipped: list[tuple[Household, str]] = []
    # Each line checks the drafter for 回避; their registration is read once.
    with remembering_kin():
        for household in households:
            student = None
            months = None
            if program.cap_rule == CapRule.TEN_MONTHS_PER_STUDENT:
                student = household.members.exclude(school_stage="").order_by("id").first()
                months = rules.MAX_SCHOOL_MONTHS
            try:
                with transaction.atomic():
                    applications.application_draft(
                        actor=actor,
                        household=household,
                        program=program,
                        batch=batch,
                        student=student,
                        months=months,
                        on=today,
                        goods_description=goods_description,
                        goods_value=goods_value,
                    )
            except ValidationError as exc:
                skipped.append((household, " ".join(exc.messages)))
    if not batch.lines.exists():
        raise ValidationError(
            _("没有家庭通过项目规则检查：%(r)s") % {"r": skipped[0][1] if skipped else ""}
        )
    # Kept with the filter, so the batch page can always say who was left out and why.
    batch.criteria["skipped"] = [{"household": h.pk, "reason": r} for h, r in skipped]
    batch.save(update_fields=["criteria"])
    audit_record(
        actor=actor,
        action="batch.create",
        obj=batch,
        unit=unit,
        changes={"lines": [None, batch.lines.count()], "skipped": [None, len(skipped)]},
    )
    return batch, skipped


def _check_goods(program: Program, description: str, value: Any) -> None:
    """The batch's goods fields, refused as a whole before any line is drafted
    (else every line would be left out for the same typing error)."""
    if program.kind not in (Kind.GOODS, Kind.CASH_GOODS):
        return
    goods = None if value in (None, "") else applications.to_amount(value, "goods_value")
    if (goods or program.kind == Kind.GOODS) and not (description or "").strip():
        raise ValidationError({"goods_description": _("请填写发放的实物内容（品名、数量）。")})


@transaction.atomic
def batch_line_remove(*, actor: User, application: Application, reason: str = "") -> Application:
    """Take a line out of a batch still being drafted (it is withdrawn, and
    stays on the page as such). After submission a line is withdrawn like any
    application, from its own page."""
    application = applications.application_lock(application)
    # Anyone who may edit the batch's lines may take one out, not only the
    # one who drew the batch up (withdrawing a submitted application is
    # its drafter's alone).
    applications.check_drafter(actor, application.household)
    if application.batch_id is None or application.status != S.DRAFT:
        raise ValidationError(_("批次已提交，不能再移除；如需撤回，请在该申请的页面办理。"))
    return applications.application_move(
        actor=actor,
        application=application,
        to=S.WITHDRAWN,
        action="application.withdraw",
        reason=reason.strip() or _("从批次中移除"),
    )


def _lock(batch: Batch) -> Batch:
    return (
        Batch.objects.select_for_update(no_key=True, of=("self",))
        .select_related("unit")
        .get(pk=batch.pk)
    )


@transaction.atomic
def batch_submit(*, actor: User, batch: Batch) -> Batch:
    batch = _lock(batch)
    if not covers(actor, applications.EDITOR, batch.unit):
        raise PermissionDenied(_("您无权提交该批次。"))
    if batch.status != BatchStatus.DRAFT:
        raise ValidationError(_("该批次已提交。"))
    count = applications.applications_move_all(
        batch.lines.all(), actor=actor, before=S.DRAFT, to=S.PENDING
    )
    if not count:
        raise ValidationError(_("批次中没有待提交的申请。"))
    batch.status = BatchStatus.SUBMITTED
    batch.submitted_at = timezone.now()
    batch.save(update_fields=["status", "submitted_at"])
    audit_record(
        actor=actor,
        action="batch.submit",
        obj=batch,
        unit=batch.unit,
        changes={"lines": [None, count]},
    )
    return batch


def batch_decide(
    *,
    actor: User,
    batch: Batch,
    approve: bool,
    note: str = "",
    lines: list[int] | None = None,
) -> dict[str, Any]:
    """Decide every line this chair may decide now (or only `lines`). Lines
    above the limit move on to the parent union's chair. Lines the chair
    must recuse from (回避) are flagged first, in their own transaction, and
    left for another chair like lines above the limit."""
    open_lines = batch.lines.filter(status__in=[S.PENDING, S.PENDING_PARENT])
    if lines is not None:
        open_lines = open_lines.filter(pk__in=lines)
    recused = (
        conflicted(
            actor=actor,
            applications=open_lines.select_related("household__unit").prefetch_related(
                "household__members"
            ),
            step=STEP.APPROVE,
        )
        if has_action(actor, applications.CHAIR)
        else {}
    )
    return _batch_decide(
        actor=actor, batch=batch, approve=approve, note=note, lines=lines, recused=recused
    )


@transaction.atomic
def _batch_decide(
    *,
    actor: User,
    batch: Batch,
    approve: bool,
    note: str,
    lines: list[int] | None,
    recused: Mapping[int, PermissionDenied],
) -> dict[str, Any]:
    batch = _lock(batch)
    if batch.status == BatchStatus.DRAFT:
        raise ValidationError(_("批次尚未提交审批。"))
    if not approve and not (note or "").strip():
        raise ValidationError({"note": _("不同意时须填写理由。")})
    qs = batch.lines.filter(status__in=[S.PENDING, S.PENDING_PARENT])
    if lines is not None:
        qs = qs.filter(pk__in=lines)
    pending = list(
        qs.select_for_update(no_key=True, of=("self",))
        .select_related("household__unit__parent", "program")
        .prefetch_related("decisions")
        .order_by("pk")
    )
    decided = 0
    refused: list[str] = []
    # Lines at a level this chair may not decide (above the limit, drafted by
    # the chair, decided by the chair before): named when ticked, else left
    # for the chair who may decide them.
    not_mine: list[str] = []
    denied: list[str] = []
    for line in pending:
        try:
            if line.pk in recused:
                raise recused[line.pk]
            with transaction.atomic():
                applications.decide(actor=actor, application=line, approve=approve, note=note)
            decided += 1
        except PermissionDenied as exc:
            message = f"{line.household.name}：{exc}"
            denied.append(message)
            (refused if lines is not None else not_mine).append(message)
        except ValidationError as exc:
            if "note" in getattr(exc, "error_dict", {}):
                raise
            refused.append(f"{line.household.name}：{' '.join(exc.messages)}")
    if not decided:
        if denied:
            raise PermissionDenied(denied[0])
        raise ValidationError(refused[0] if refused else _("没有可审批的申请。"))
    # A line returned to its drafter is still open: it comes back to be decided.
    if not batch.lines.filter(
        status__in=[S.DRAFT, S.PENDING, S.PENDING_PARENT, S.RETURNED]
    ).exists():
        batch.status = BatchStatus.DECIDED
        batch.save(update_fields=["status"])
    audit_record(
        actor=actor,
        action="batch.approve" if approve else "batch.reject",
        obj=batch,
        unit=batch.unit,
        changes={"decided": [None, decided]},
    )
    return {"decided": decided, "refused": refused, "left": len(not_mine)}
