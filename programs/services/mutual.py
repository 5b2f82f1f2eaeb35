"""Mutual-aid cooperatives (互助补充保险合作社, 医疗互助会).

Households join a cooperative and pay a first premium, then one premium a
year, into the cooperative's fund. A member in good standing applies for
help (a claim); the cooperative's committee votes, and once more than half
of it agrees the claim becomes an approved aid application of the
cooperative's program, paid on the ordinary payment screens. The committee's
vote stands in for the chair's approval, so its members may not pay what
they voted on (payments.check_payer).
"""

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import User
from accounts.scoping import covers
from cases import clock
from cases.models import Household
from cases.services.intake import household_lock
from funds import services as ledger
from funds.models import LedgerEntry

from ..models import (
    Application,
    ApplicationStatus,
    Claim,
    ClaimCategory,
    ClaimStatus,
    ClaimVote,
    Cooperative,
    CoopMember,
    Premium,
    PremiumKind,
)
from .applications import to_amount
from .loans import reversal_checked

EDITOR = "household.edit"
FINANCE = "fund.manage"
MAX_REASON = 2000


@transaction.atomic
def member_enroll(
    *,
    actor: User,
    cooperative: Cooperative,
    household: Household,
    joined_on: datetime.date | None = None,
) -> CoopMember:
    """A household joins a cooperative of its own union or one above it."""
    household = household_lock(household)
    if not (covers(actor, EDITOR, household.unit) or covers(actor, FINANCE, household.unit)):
        raise PermissionDenied(_("您无权为该工会的家庭办理入社。"))
    if not cooperative.is_active:
        raise ValidationError(_("该互助合作社已停用，不能办理入社。"))
    if not cooperative.unit.covers(household.unit):
        raise ValidationError({"household": _("该家庭不属于本合作社所在的工会。")})
    today = clock.today()
    joined_on = joined_on or today
    if joined_on > today:
        raise ValidationError({"joined_on": _("入社日期不能晚于今天。")})
    if CoopMember.objects.filter(cooperative=cooperative, household=household).exists():
        raise ValidationError(
            {"household": _("%(n)s 家已是本合作社会员。") % {"n": household.name}}
        )
    try:
        with transaction.atomic():
            member = CoopMember.objects.create(
                cooperative=cooperative, household=household, joined_on=joined_on, created_by=actor
            )
    except IntegrityError:
        raise ValidationError(
            {"household": _("%(n)s 家已是本合作社会员。") % {"n": household.name}}
        ) from None
    audit_record(
        actor=actor,
        action="coop.enroll",
        obj=household,
        unit=household.unit,
        changes={"cooperative": [None, cooperative.name], "joined_on": [None, str(joined_on)]},
    )
    return member


def _member_lock(member: CoopMember) -> CoopMember:
    return (
        CoopMember.objects.select_for_update(of=("self",))
        .select_related("cooperative__fund__unit", "household__unit")
        .get(pk=member.pk)
    )


def _year(value: Any) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise ValidationError({"year": _("请填写缴费年度。")}) from None
    if not 2000 <= year <= clock.today().year + 1:
        raise ValidationError({"year": _("缴费年度不正确。")})
    return year


def live_premiums(member: CoopMember) -> QuerySet[Premium]:
    """The member's premiums that stand: those whose entry is not reversed.
    A reversed premium keeps its row (the model has no mark of its own), so
    the ledger is the mark."""
    return member.premiums.filter(entry__reversed_by__isnull=True)


@transaction.atomic
def premium_record(*, actor: User, member: CoopMember, kind: str, year: Any) -> Premium:
    """A member's premium received into the cooperative's fund: the first
    premium once, then one yearly premium for each later year."""
    member = _member_lock(member)
    cooperative = member.cooperative
    if not covers(actor, FINANCE, cooperative.fund.unit):
        raise PermissionDenied(_("只有本工会或上级工会的财务人员可以收取互助费。"))
    if kind not in PremiumKind.values:
        raise ValidationError({"kind": _("请选择缴费类型。")})
    year = _year(year)
    # A reversed premium holds no place: it may be paid again.
    premiums = list(member.premiums.filter(reversal__isnull=True))
    first = next((p for p in premiums if p.kind == PremiumKind.FIRST), None)
    if kind == PremiumKind.FIRST:
        if first is not None:
            raise ValidationError(
                {
                    "kind": _("该会员已于 %(y)s 年度缴纳首次缴费，首次缴费只能缴纳一次。")
                    % {"y": first.year}
                }
            )
        amount = cooperative.first_premium
    else:
        if first is None:
            raise ValidationError({"kind": _("该会员尚未缴纳首次缴费，请先缴纳首次缴费。")})
        if year <= first.year:
            raise ValidationError(
                {
                    "year": _("首次缴费已包含 %(y)s 年度，年度缴费应从 %(n)s 年度起缴纳。")
                    % {"y": first.year, "n": first.year + 1}
                }
            )
        same = next((p for p in premiums if p.kind == PremiumKind.YEARLY and p.year == year), None)
        if same is not None:
            raise ValidationError(
                {"year": _("该会员 %(y)s 年度的年度缴费已缴纳，不能重复缴纳。") % {"y": year}}
            )
        amount = cooperative.yearly_premium
    if amount <= 0:
        raise ValidationError(_("本合作社未设定该类缴费金额，请联系系统管理员。"))
    household = member.household
    attempt = member.premiums.filter(kind=kind, year=year).count() + 1
    with translation.override("zh-hans"):
        # The ledger is a record: one language, whoever is signed in.
        memo = _("%(c)s %(y)s年度%(k)s %(n)s") % {
            "c": cooperative.name,
            "y": year,
            "k": PremiumKind(kind).label,
            "n": household.name,
        }
    entry = ledger.receipt_post(
        actor=actor,
        fund=cooperative.fund,
        amount=amount,
        memo=memo,
        # One reference per attempt: paying again after a reversal is a new
        # receipt, while a double submit of one attempt finds the first.
        reference=f"premium:{member.pk}:{kind}:{year}:{attempt}",
        household=household,
    )
    try:
        with transaction.atomic():
            premium = Premium.objects.create(
                member=member,
                kind=kind,
                year=year,
                amount=amount,
                entry=entry,
                actor=actor,
                paid_on=entry.occurred_on,
            )
    except IntegrityError:
        raise ValidationError(_("该笔互助费已登记，不能重复缴纳。")) from None
    audit_record(
        actor=actor,
        action="coop.premium",
        obj=household,
        unit=household.unit,
        changes={
            "cooperative": [None, cooperative.name],
            "kind": [None, kind],
            "year": [None, year],
            "amount": [None, str(amount)],
        },
    )
    return premium


def premium_reversed(premium: Premium) -> bool:
    """Whether the premium's ledger entry has been reversed (the reverse
    one-to-one is read from the cache when the entry was loaded with it)."""
    return premium.reversal_id is not None


@transaction.atomic
def premium_reverse(*, actor: User, premium: Premium, reason: str) -> LedgerEntry:
    """Undo a mistaken premium: a reversing entry takes the money back out of
    the cooperative's fund, the premium row stays (marked by that entry), and
    the member counts as not having paid it.

    The premium may then be recorded again (the uniqueness of a first
    premium and of a yearly premium counts live rows only). The member row
    is locked first and the fund second (inside the ledger), the order
    `premium_record` takes them in."""
    member_id = Premium.objects.values_list("member_id", flat=True).get(pk=premium.pk)
    member = _member_lock(CoopMember(pk=member_id))
    cooperative = member.cooperative
    if not covers(actor, FINANCE, cooperative.fund.unit):
        raise PermissionDenied(_("只有本工会或上级工会的财务人员可以冲正互助缴费。"))
    premium = Premium.objects.select_related("entry__reversed_by").get(pk=premium.pk)
    if premium_reversed(premium):
        raise ValidationError(_("该笔互助缴费已冲正，不能重复冲正。"))
    reason = reversal_checked(reason, premium.amount, cooperative.fund)
    with translation.override("zh-hans"):
        # The ledger keeps one language, whoever is signed in (the checks
        # above speak the user's; the ledger repeats them under its lock).
        reversal = ledger.entry_reverse(actor=actor, entry=premium.entry, reason=reason)
    premium.reversal = reversal
    premium.save(update_fields=["reversal"])
    household = member.household
    audit_record(
        actor=actor,
        action="coop.premium_reverse",
        obj=household,
        unit=household.unit,
        changes={
            "cooperative": [cooperative.name, None],
            "premium": [premium.pk, None],
            "kind": [premium.kind, None],
            "year": [premium.year, None],
            "amount": [str(premium.amount), None],
            "reason": [None, reason],
        },
    )
    return reversal


def in_good_standing(member: CoopMember, year: int) -> bool:
    """Paid for the year: its yearly premium, or the first premium that year
    (a reversed premium does not count)."""
    return live_premiums(member).filter(year=year).exists()


@transaction.atomic
def claim_submit(
    *, actor: User, member: CoopMember, category: str, amount: Any, reason: str
) -> Claim:
    """A member applies for help; the committee decides by vote."""
    member = _member_lock(member)
    household = member.household
    if not covers(actor, EDITOR, household.unit):
        raise PermissionDenied(_("您无权为该工会的家庭提交互助申请。"))
    if not member.cooperative.is_active:
        raise ValidationError(_("该互助合作社已停用，不能申请互助。"))
    if category not in ClaimCategory.values:
        raise ValidationError({"category": _("请选择互助类别。")})
    value = to_amount(amount)
    if value <= 0:
        raise ValidationError({"amount": _("申请金额必须大于 0。")})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("请填写申请事由。")})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": _("申请事由过长。")})
    year = clock.today().year
    if not in_good_standing(member, year):
        raise ValidationError(
            _("该会员尚未缴纳 %(y)s 年度互助费，缴费后才能申请互助。") % {"y": year}
        )
    claim = Claim.objects.create(
        member=member, category=category, amount=value, reason=reason, submitted_by=actor
    )
    audit_record(
        actor=actor,
        action="claim.submit",
        obj=household,
        unit=household.unit,
        changes={
            "cooperative": [None, member.cooperative.name],
            "category": [None, category],
            "amount": [None, str(value)],
        },
    )
    return claim


def tally(committee: int, yes: int, no: int, abstaining: int = 0) -> str:
    """The claim's status after a vote. More than half of the committee
    decides; a claim is rejected as soon as a majority for it is out of reach
    (the `abstaining` members, such as whoever submitted it, cannot vote)."""
    if yes * 2 > committee:
        return ClaimStatus.APPROVED
    still_open = committee - yes - no - abstaining
    if no * 2 > committee or (yes + still_open) * 2 <= committee:
        return ClaimStatus.REJECTED
    return ClaimStatus.PENDING


def _claim_lock(claim: Claim) -> Claim:
    return (
        Claim.objects.select_for_update(of=("self",))
        .select_related("member__cooperative__program", "member__household__unit")
        .get(pk=claim.pk)
    )


@transaction.atomic
def claim_vote(*, actor: User, claim: Claim, approve: bool, note: str = "") -> ClaimVote:
    """One committee member's vote. The claim row is locked, so two members
    voting at the same moment are counted one after the other; the vote that
    makes the majority writes the approved application."""
    claim = _claim_lock(claim)
    cooperative = claim.member.cooperative
    committee = set(cooperative.committee.values_list("pk", flat=True))
    if actor.pk not in committee:
        raise PermissionDenied(_("只有本合作社互助委员会成员可以表决。"))
    if claim.submitted_by_id == actor.pk:
        raise PermissionDenied(_("提交该互助申请的经办人不能参加表决。"))
    if claim.status != ClaimStatus.PENDING:
        raise ValidationError(
            _("该互助申请已表决完毕（%(s)s）。") % {"s": claim.get_status_display()}
        )
    if claim.votes.filter(voter=actor).exists():
        raise ValidationError(_("您已对该互助申请表决过，不能重复表决。"))
    note = (note or "").strip()
    if len(note) > 300:
        raise ValidationError({"note": _("意见不能超过 300 字。")})
    try:
        with transaction.atomic():
            vote = ClaimVote.objects.create(claim=claim, voter=actor, approve=approve, note=note)
    except IntegrityError:
        raise ValidationError(_("您已对该互助申请表决过，不能重复表决。")) from None
    votes = list(claim.votes.filter(voter_id__in=committee).values_list("approve", flat=True))
    yes = sum(1 for v in votes if v)
    abstaining = int(claim.submitted_by_id in committee)
    status = tally(len(committee), yes, len(votes) - yes, abstaining)
    household = claim.member.household
    audit_record(
        actor=actor,
        action="claim.vote",
        obj=household,
        unit=household.unit,
        changes={"claim": [None, claim.pk], "approve": [None, approve]},
    )
    if status == ClaimStatus.PENDING:
        return vote
    if status == ClaimStatus.APPROVED:
        with translation.override("zh-hans"):
            reason = _("%(c)s互助：%(r)s") % {
                "c": ClaimCategory(claim.category).label,
                "r": claim.reason,
            }
        # The committee's majority replaces the chair's approval: the row is
        # written approved, and is paid like any other application.
        claim.application = Application.objects.create(
            program=cooperative.program,
            household=household,
            year=clock.today().year,
            status=ApplicationStatus.APPROVED,
            amount=claim.amount,
            reason=reason,
            drafted_by_id=claim.submitted_by_id,
        )
    claim.status = status
    claim.decided_at = timezone.now()
    claim.save(update_fields=["status", "decided_at", "application"])
    audit_record(
        actor=actor,
        action="claim.approve" if status == ClaimStatus.APPROVED else "claim.reject",
        obj=household,
        unit=household.unit,
        changes={
            "status": [ClaimStatus.PENDING, status],
            "votes": [None, f"{yes}/{len(votes) - yes}/{len(committee)}"],
            **(
                {"application": [None, claim.application_id]}
                if claim.application_id is not None
                else {}
            ),
        },
    )
    return vote
