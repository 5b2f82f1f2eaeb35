"""Mutual-aid cooperatives (互助补充保险合作社, 医疗互助会).

A cooperative keeps its own roster of ordinary union members (name, ID
number, union, phone, join date), most of them not in hardship: a member is
not a household file. A member whose ID number has a household file in force
inside the cooperative's union is linked to it (automatically when added, or
by hand later), which only lets the file show the membership.

Members pay a first premium, then one premium a year, into the cooperative's
fund. A member in good standing applies for help (a claim); the committee
votes, and once more than half of it agrees the claim is approved.

How an approved claim is paid (the choice made when members stopped being
households): finance pays it straight from the cooperative's fund with one
ledger payment (`claim_pay`), and the claim records that entry and the day it
was paid. It does not become an aid application: an application needs a
household file, which most members do not have, and one path for every member
keeps the counting by category simple. Claims approved earlier kept their
application and were paid through it. The committee's vote stands in for the
chair's approval, so whoever voted on a claim, or submitted it, may not pay it
(separation of duties). A payment later reversed on the fund page leaves the
claim unpaid again (its entry is reversed), and it may be paid anew.
"""

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import Unit, User
from accounts.scoping import covers
from cases import clock, idnumber
from cases.models import Household, HouseholdStatus
from funds import services as ledger
from funds.models import PREMIUM_SOURCE, LedgerEntry, PayerKind

from ..models import (
    Category,
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
from .conflicts import STEP, claim_conflict_guard, guard_first
from .loans import reversal_checked

EDITOR = "household.edit"
FINANCE = "fund.manage"
MAX_REASON = 2000


MAX_NAME = 50
MAX_PHONE = 20


def _may_keep_roster(actor: User, unit: Unit) -> bool:
    return covers(actor, EDITOR, unit) or covers(actor, FINANCE, unit)


def file_in_force(cooperative: Cooperative, id_number: str) -> Household | None:
    """The household file in force (已建档) with this ID number inside the
    cooperative's union, if there is one. A case still in intake is not a
    file yet, and an exited one no longer is."""
    if not id_number:
        return None
    return (
        Household.objects.filter(
            id_number=id_number,
            status=HouseholdStatus.FILED,
            unit__path__startswith=cooperative.unit.path,
        )
        .order_by("-id")
        .first()
    )


@dataclass
class MemberData:
    """One member's details, checked: what the form and the import give."""

    name: str
    id_number: str
    unit: Unit
    phone: str
    joined_on: datetime.date


def member_checked(
    *,
    cooperative: Cooperative,
    name: Any,
    id_number: Any,
    unit: Unit | None,
    phone: Any = "",
    joined_on: datetime.date | None = None,
) -> MemberData:
    """The details of a roster row, or a ValidationError naming each bad field."""
    errors: dict[str, str] = {}
    name = str(name or "").strip()
    if not name:
        errors["name"] = _("请填写姓名。")
    elif len(name) > MAX_NAME:
        errors["name"] = _("姓名不能超过 %(n)s 个字。") % {"n": MAX_NAME}
    number = ""
    try:
        number = idnumber.parse(str(id_number or ""), today=clock.today()).number
    except ValidationError as exc:
        errors["id_number"] = " ".join(exc.messages)
    if unit is None:
        errors["unit"] = _("请选择所属工会。")
    elif not cooperative.unit.covers(unit):
        errors["unit"] = _("该工会不在本合作社所在工会范围内。")
    phone = str(phone or "").strip()
    if len(phone) > MAX_PHONE:
        errors["phone"] = _("联系电话不能超过 %(n)s 位。") % {"n": MAX_PHONE}
    today = clock.today()
    joined_on = joined_on or today
    if joined_on > today:
        errors["joined_on"] = _("入会日期不能晚于今天。")
    if errors:
        raise ValidationError(errors)
    assert unit is not None
    return MemberData(name, number, unit, phone, joined_on)


def _duplicate(cooperative: Cooperative, number: str) -> ValidationError:
    return ValidationError(
        {"id_number": _("身份证号 %(n)s 已在本合作社会员名册中。") % {"n": number}}
    )


def _check_actor(actor: User, cooperative: Cooperative, unit: Unit) -> None:
    if not _may_keep_roster(actor, unit):
        raise PermissionDenied(_("您无权管理该工会的互助会员。"))
    if not cooperative.is_active:
        raise ValidationError(_("该互助合作社已停用，不能办理入会。"))


@transaction.atomic
def member_add(
    *,
    actor: User,
    cooperative: Cooperative,
    name: Any,
    id_number: Any,
    unit: Unit | None,
    phone: Any = "",
    joined_on: datetime.date | None = None,
    household: Household | None = None,
) -> CoopMember:
    """A union member joins the cooperative's roster. A household file in
    force with the same ID number (inside the cooperative's union) is linked."""
    data = member_checked(
        cooperative=cooperative,
        name=name,
        id_number=id_number,
        unit=unit,
        phone=phone,
        joined_on=joined_on,
    )
    _check_actor(actor, cooperative, data.unit)
    if CoopMember.objects.filter(cooperative=cooperative, id_number=data.id_number).exists():
        raise _duplicate(cooperative, data.id_number)
    household = household or file_in_force(cooperative, data.id_number)
    try:
        with transaction.atomic():
            member = CoopMember.objects.create(
                cooperative=cooperative,
                name=data.name,
                id_number=data.id_number,
                unit=data.unit,
                phone=data.phone,
                joined_on=data.joined_on,
                household=household,
                created_by=actor,
            )
    except IntegrityError:
        raise _duplicate(cooperative, data.id_number) from None
    audit_record(
        actor=actor,
        action="coop.enroll",
        obj=member,
        unit=member.unit,
        changes={
            "cooperative": [None, cooperative.name],
            "joined_on": [None, str(data.joined_on)],
            "household": [None, household.pk if household is not None else None],
        },
    )
    return member


@transaction.atomic
def member_enroll(
    *,
    actor: User,
    cooperative: Cooperative,
    household: Household,
    joined_on: datetime.date | None = None,
) -> CoopMember:
    """The head of a household file joins: the roster row is taken from the
    file, and linked to it."""
    if not _may_keep_roster(actor, household.unit):
        raise PermissionDenied(_("您无权为该工会的家庭办理入社。"))
    if not cooperative.unit.covers(household.unit):
        raise ValidationError({"household": _("该家庭不属于本合作社所在的工会。")})
    if CoopMember.objects.filter(cooperative=cooperative, household=household).exists() or (
        CoopMember.objects.filter(cooperative=cooperative, id_number=household.id_number).exists()
    ):
        raise ValidationError(
            {"household": _("%(n)s 家已是本合作社会员。") % {"n": household.name}}
        )
    try:
        return member_add(
            actor=actor,
            cooperative=cooperative,
            name=household.name,
            id_number=household.id_number,
            unit=household.unit,
            phone=household.phone,
            joined_on=joined_on,
            household=household,
        )
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "id_number" in exc.error_dict:
            raise ValidationError(
                {"household": _("%(n)s 家已是本合作社会员。") % {"n": household.name}}
            ) from None
        raise


@transaction.atomic
def member_update(
    *,
    actor: User,
    member: CoopMember,
    name: Any,
    id_number: Any,
    unit: Unit | None,
    phone: Any = "",
    joined_on: datetime.date | None = None,
) -> CoopMember:
    """Correct a roster row. A changed ID number drops a link to a file of
    the old number and links a file in force of the new one."""
    member = _member_lock(member)
    cooperative = member.cooperative
    if not _may_keep_roster(actor, member.unit):
        raise PermissionDenied(_("您无权管理该工会的互助会员。"))
    data = member_checked(
        cooperative=cooperative,
        name=name,
        id_number=id_number,
        unit=unit,
        phone=phone,
        joined_on=joined_on or member.joined_on,
    )
    if not _may_keep_roster(actor, data.unit):
        raise PermissionDenied(_("您无权管理该工会的互助会员。"))
    if (
        CoopMember.objects.filter(cooperative=cooperative, id_number=data.id_number)
        .exclude(pk=member.pk)
        .exists()
    ):
        raise _duplicate(cooperative, data.id_number)
    before = {
        "name": member.name,
        "id_number": member.id_number,
        "unit": member.unit_id,
        "phone": member.phone,
        "joined_on": str(member.joined_on),
    }
    if data.id_number != member.id_number:
        member.household = file_in_force(cooperative, data.id_number)
    member.name, member.id_number, member.unit = data.name, data.id_number, data.unit
    member.phone, member.joined_on = data.phone, data.joined_on
    member.save()
    after = {
        "name": member.name,
        "id_number": member.id_number,
        "unit": member.unit_id,
        "phone": member.phone,
        "joined_on": str(member.joined_on),
    }
    audit_record(
        actor=actor,
        action="coop.member_update",
        obj=member,
        unit=member.unit,
        changes={k: [before[k], after[k]] for k in after if before[k] != after[k]},
    )
    return member


@transaction.atomic
def member_remove(*, actor: User, member: CoopMember) -> None:
    """Take a row entered by mistake off the roster. A member who has paid a
    premium or made a claim stays: the money and the claims name them."""
    member = _member_lock(member)
    if not _may_keep_roster(actor, member.unit):
        raise PermissionDenied(_("您无权管理该工会的互助会员。"))
    if member.premiums.exists() or member.claims.exists():
        raise ValidationError(
            _("%(n)s 已有缴费或互助申请记录，不能从名册中删除。") % {"n": member.name}
        )
    audit_record(
        actor=actor,
        action="coop.member_remove",
        obj=member,
        unit=member.unit,
        changes={"name": [member.name, None], "id_number": [member.id_number, None]},
    )
    member.delete()


@transaction.atomic
def member_link(*, actor: User, member: CoopMember, link: bool) -> CoopMember:
    """Link the member to the household file in force with their ID number,
    or undo the link (the roster row stays as it is)."""
    member = _member_lock(member)
    if not _may_keep_roster(actor, member.unit):
        raise PermissionDenied(_("您无权管理该工会的互助会员。"))
    before = member.household_id
    if link:
        household = file_in_force(member.cooperative, member.id_number)
        if household is None:
            raise ValidationError(
                _("本合作社所在工会范围内没有身份证号为该会员的在档困难职工档案。")
            )
        member.household = household
    else:
        member.household = None
    member.save(update_fields=["household"])
    audit_record(
        actor=actor,
        action="coop.member_link" if link else "coop.member_unlink",
        obj=member,
        unit=member.unit,
        changes={"household": [before, member.household_id]},
    )
    return member


def _member_lock(member: CoopMember) -> CoopMember:
    return (
        CoopMember.objects.select_for_update(no_key=True, of=("self",))
        .select_related("cooperative__unit", "cooperative__fund__unit", "unit", "household__unit")
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
            "n": member.name,
        }
    entry = ledger.receipt_post(
        actor=actor,
        fund=cooperative.fund,
        amount=amount,
        memo=memo,
        # Premiums are a source like any other, totalled on the statements.
        source=PREMIUM_SOURCE,
        payer_kind=PayerKind.PERSON,
        payer=member.name,
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
        obj=member,
        unit=member.unit,
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
    audit_record(
        actor=actor,
        action="coop.premium_reverse",
        obj=member,
        unit=member.unit,
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


def category_for(value: Any) -> ClaimCategory:
    """An active claim category, given as the row, its pk or its code."""
    if isinstance(value, ClaimCategory):
        category: ClaimCategory | None = value
    else:
        text = str(value or "").strip()
        queryset = ClaimCategory.objects.filter(is_active=True)
        category = (
            queryset.filter(pk=int(text)).first() if text.isdigit() else None
        ) or queryset.filter(code=text).first()
    if category is None or not category.is_active:
        raise ValidationError({"category": _("请选择互助类别。")})
    return category


@transaction.atomic
def claim_submit(
    *, actor: User, member: CoopMember, category: Any, amount: Any, reason: str
) -> Claim:
    """A member applies for help; the committee decides by vote."""
    member = _member_lock(member)
    if not covers(actor, EDITOR, member.unit):
        raise PermissionDenied(_("您无权为该工会的会员提交互助申请。"))
    if not member.cooperative.is_active:
        raise ValidationError(_("该互助合作社已停用，不能申请互助。"))
    category = category_for(category)
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
    claim_conflict_guard(actor=actor, claim=claim, step=STEP.DRAFT)
    audit_record(
        actor=actor,
        action="claim.submit",
        obj=member,
        unit=member.unit,
        changes={
            "cooperative": [None, member.cooperative.name],
            "category": [None, category.code],
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
        Claim.objects.select_for_update(no_key=True, of=("self",))
        .select_related(
            "member__cooperative__program",
            "member__cooperative__fund__unit",
            "member__unit",
            "member__household__unit",
            "category",
            "entry__reversed_by",
        )
        .get(pk=claim.pk)
    )


def _guard_voter(given: dict[str, Any]) -> None:
    actor, claim = given["actor"], given["claim"]
    if claim.member.cooperative.committee.filter(pk=actor.pk).exists():
        claim_conflict_guard(actor=actor, claim=claim, step=STEP.APPROVE)


@guard_first(_guard_voter)
@transaction.atomic
def claim_vote(*, actor: User, claim: Claim, approve: bool, note: str = "") -> ClaimVote:
    """One committee member's vote. The claim row is locked, so two members
    voting at the same moment are counted one after the other; the vote that
    makes the majority decides the claim. A member who must recuse (回避) is
    flagged and refused before the transaction opens."""
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
    member = claim.member
    audit_record(
        actor=actor,
        action="claim.vote",
        obj=member,
        unit=member.unit,
        changes={"claim": [None, claim.pk], "approve": [None, approve]},
    )
    if status == ClaimStatus.PENDING:
        return vote
    claim.decided_at = timezone.now()
    claim_move(claim, status, fields=("decided_at",))
    audit_record(
        actor=actor,
        action="claim.approve" if status == ClaimStatus.APPROVED else "claim.reject",
        obj=member,
        unit=member.unit,
        changes={
            "status": [ClaimStatus.PENDING, status],
            "votes": [None, f"{yes}/{len(votes) - yes}/{len(committee)}"],
        },
    )
    return vote


# A claim's status moves only along this table, through claim_move. A paid
# claim whose payment was reversed on the fund page is paid again: PAID → PAID.
CLAIM_TRANSITIONS: dict[str, frozenset[str]] = {
    ClaimStatus.PENDING: frozenset({ClaimStatus.APPROVED, ClaimStatus.REJECTED}),
    ClaimStatus.APPROVED: frozenset({ClaimStatus.PAID}),
    ClaimStatus.REJECTED: frozenset(),
    ClaimStatus.PAID: frozenset({ClaimStatus.PAID}),
}


def claim_move(claim: Claim, to: str, *, fields: tuple[str, ...] = ()) -> None:
    """Set the (locked) claim's status, refusing a move the table does not
    hold, and save it with the other `fields` the caller changed."""
    if to not in CLAIM_TRANSITIONS[claim.status]:
        raise ValidationError(
            _("互助申请不能从“%(a)s”变为“%(b)s”。")
            % {"a": claim.get_status_display(), "b": ClaimStatus(to).label}
        )
    claim.status = to
    claim.save(update_fields=["status", *fields])


def claim_paid(claim: Claim) -> bool:
    """Paid and not taken back: a payment reversed on the fund page leaves
    the claim to be paid again. A claim paid through its aid application
    (before claims were paid directly) has no entry of its own."""
    if claim.status != ClaimStatus.PAID:
        return False
    entry = claim.entry
    return entry is None or getattr(entry, "reversed_by", None) is None


def may_pay(claim: Claim) -> bool:
    """Whether the claim waits for its payment."""
    if claim.status == ClaimStatus.APPROVED:
        return claim.application_id is None
    return claim.status == ClaimStatus.PAID and claim.entry_id is not None and not claim_paid(claim)


def check_claim_payer(actor: User, claim: Claim) -> None:
    """Finance of the fund's union, never whoever submitted or voted on it."""
    if not covers(actor, FINANCE, claim.member.cooperative.fund.unit):
        raise PermissionDenied(_("只有本合作社所在工会或上级工会的财务人员可以发放互助金。"))
    if claim.submitted_by_id == actor.pk:
        raise PermissionDenied(_("提交该互助申请的经办人不能发放该笔互助金。"))
    if claim.votes.filter(voter=actor).exists():
        raise PermissionDenied(_("参加表决该互助申请的委员会成员不能发放该笔互助金。"))


def _guard_claim_payer(given: dict[str, Any]) -> None:
    actor, claim = given["actor"], given["claim"]
    if covers(actor, FINANCE, claim.member.cooperative.fund.unit):
        claim_conflict_guard(actor=actor, claim=claim, step=STEP.PAY)


@guard_first(_guard_claim_payer)
@transaction.atomic
def claim_pay(
    *,
    actor: User,
    claim: Claim,
    paid_on: datetime.date | None = None,
    date_reason: str = "",
) -> LedgerEntry:
    """Pay an approved claim out of the cooperative's fund: one ledger
    payment, recorded on the claim with the day it was paid (today, or an
    earlier day inside the union's back-dating window with a reason, as the
    ledger rules). The claim row is locked first, so a double click pays once.
    A payer who must recuse (回避) is flagged and refused before that."""
    claim = _claim_lock(claim)
    check_claim_payer(actor, claim)
    if not may_pay(claim):
        if claim_paid(claim):
            raise ValidationError(_("该互助申请已发放，不能重复发放。"))
        raise ValidationError(
            _("该互助申请当前为“%(s)s”，只有已通过的申请可以发放。")
            % {"s": claim.get_status_display()}
        )
    # The day itself (not in the future, earlier only with a reason inside
    # the union's window) is checked by the ledger's one value-date rule.
    paid_on = paid_on or clock.today()
    member = claim.member
    cooperative = member.cooperative
    program = cooperative.program
    with translation.override("zh-hans"):
        # The ledger is a record: one language, whoever is signed in.
        memo = _("%(c)s %(k)s互助金 %(n)s") % {
            "c": cooperative.name,
            "k": claim.category.name,
            "n": member.name,
        }
        purposes = (program.name, str(Category(program.category).label))
    entry = ledger.payment_post(
        actor=actor,
        fund=cooperative.fund,
        amount=claim.amount,
        memo=memo,
        household=member.household,
        purposes=purposes,
        via_program=True,
        occurred_on=paid_on,
        date_reason=date_reason,
        date_field="paid_on",
        # A new reference after a reversed payment (it names the entry that
        # was reversed); the same one for a double submit of one payment.
        reference=f"claim:{claim.pk}:{claim.entry_id or 0}",
    )
    claim.entry = entry
    claim.paid_on = entry.occurred_on
    claim.paid_by = actor
    claim_move(claim, ClaimStatus.PAID, fields=("entry", "paid_on", "paid_by"))
    audit_record(
        actor=actor,
        action="claim.pay",
        obj=member,
        unit=member.unit,
        changes={
            "claim": [None, claim.pk],
            "amount": [None, str(claim.amount)],
            "entry": [None, entry.pk],
            "paid_on": [None, str(claim.paid_on)],
            **({"date_reason": [None, entry.date_reason]} if entry.date_reason else {}),
        },
    )
    return entry
