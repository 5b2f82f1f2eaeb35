"""待办: what waits for this user, one section per role held.

Every count is one query inside the units of the memberships that carry
the role, so the page and the menu badge cost a fixed number of queries
whatever the number of files: one COUNT per item, and for items with no
list page of their own (notices past their period, open objections, cases
waiting for 五评) one more query for the first few rows. The counts mirror
the checks of the services that do the work (a chair never sees her own
submission as waiting for her decision), so an item always leads to a
button the user can press.

It reads across cases, funds and programs, which is why it lives in
reports, the rightmost app.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.lookups import LessThan
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import Membership, Role, User
from accounts.scoping import memberships, scope_q, unit_q
from cases import clock
from cases.models import (
    Helper,
    Household,
    NoticeEntry,
    Objection,
    ObjectionOutcome,
    ReviewItem,
    ReviewOutcome,
)
from cases.models import HouseholdStatus as HS
from cases.selectors.followup import BASE
from cases.services.followup import visit_cutoff, visit_interval
from funds.models import LedgerEntry
from programs.models import Application, ApplicationStatus, Claim, ClaimStatus, Kind
from programs.selectors.applications import awaiting_q
from programs.selectors.complaints import owned_open
from programs.selectors.loans import loan_arrears
from programs.selectors.mutual import VIEW_ACTIONS as CLAIM_VIEW
from programs.selectors.payments import payable

# Rows shown inline for an item that has no list page of its own.
SHOWN = 8
# How far back an auditor's list of reversals reaches.
REVERSALS_DAYS = 30
# The intake steps a caseworker still has to do herself before the chair.
WORKER_STEPS = (HS.DRAFT, HS.VISITED, HS.ASSESSED)


@dataclass
class Row:
    """One thing to open straight from the page."""

    label: str
    url: str
    note: str = ""


@dataclass
class Item:
    key: str
    label: str
    count: int
    url: str = ""
    # The first rows, read only when a page shows them (never for the badge).
    row_reader: Callable[[], list[Row]] | None = None
    _rows: list[Row] | None = field(default=None, repr=False)

    @property
    def rows(self) -> list[Row]:
        if self._rows is None:
            self._rows = self.row_reader() if self.row_reader and self.count else []
        return self._rows

    @property
    def more(self) -> int:
        """How many the inline rows leave out."""
        return max(0, self.count - len(self.rows)) if self.row_reader else 0


@dataclass
class Section:
    role: str
    label: str
    items: list[Item]

    @property
    def total(self) -> int:
        return sum(item.count for item in self.items)


@dataclass
class Todo:
    sections: list[Section]

    @property
    def total(self) -> int:
        return sum(section.total for section in self.sections)


def _paths(granted: list[Membership], role: str) -> list[str]:
    return [m.unit.path for m in granted if m.role == role and m.unit.is_active]


def _item(
    key: str,
    label: str,
    queryset: QuerySet[Any],
    url: str = "",
    *,
    rows: Callable[[QuerySet[Any]], list[Row]] | None = None,
) -> Item:
    count = queryset.order_by().count()
    reader = (lambda: rows(queryset[:SHOWN])) if rows is not None else None
    return Item(key, label, count, url, reader)


def _household_rows(queryset: QuerySet[Any]) -> list[Row]:
    return [
        Row(h.name, reverse("cases:household_detail", args=[h.pk]), h.unit.name)
        for h in queryset.select_related("unit")
    ]


# -- caseworker -------------------------------------------------------------------------


def returned_applications(user: User) -> QuerySet[Application]:
    """Aid applications a chair sent back to this drafter (退回修改)."""
    return Application.objects.filter(status=ApplicationStatus.RETURNED, drafted_by=user)


def caseworker_items(user: User, paths: list[str], today: datetime.date) -> list[Item]:
    households = Household.objects.filter(unit_q(paths, "unit__"))
    mine = households.filter(created_by=user, status__in=WORKER_STEPS).order_by("-id")
    evaluated = households.filter(status=HS.EVALUATED).order_by("unit__path", "name", "id")
    cutoff = visit_cutoff(today, visit_interval())
    overdue = Helper.objects.filter(
        user=user, end_on__isnull=True, household__status=HS.FILED
    ).filter(LessThan(BASE, cutoff))
    reviews = ReviewItem.objects.filter(
        unit_q(paths, "household__unit__"), outcome=ReviewOutcome.PENDING
    )
    items = [
        _item(
            "drafts",
            _("待完成建档步骤的档案（我录入的）"),
            mine,
            rows=_with_status,
        ),
        _item(
            "to_notice",
            _("已评定、待发布公示"),
            evaluated,
            reverse("cases:notice_create"),
            rows=_household_rows,
        ),
        _item(
            "returned",
            _("退回修改的帮扶申请"),
            returned_applications(user).filter(unit_q(paths, "household__unit__")),
            reverse("programs:application_list") + f"?status={ApplicationStatus.RETURNED}",
        ),
        _item("overdue_visits", _("走访逾期的帮扶户"), overdue, reverse("cases:my_households")),
        _item("reviews", _("年审待审核的家庭"), reviews, reverse("cases:review_list")),
    ]
    return items


def _with_status(queryset: QuerySet[Any]) -> list[Row]:
    return [
        Row(
            h.name,
            reverse("cases:household_detail", args=[h.pk]),
            f"{h.unit.name} · {h.get_status_display()}",
        )
        for h in queryset.select_related("unit")
    ]


# -- chair ------------------------------------------------------------------------------


def notice_ended(paths: list[str], today: datetime.date) -> QuerySet[Household]:
    """Cases in 公示中 whose latest notice ended before today: 待确认."""
    latest_end = (
        NoticeEntry.objects.filter(household=OuterRef("pk"))
        .order_by("-notice__starts_on", "-notice_id")
        .values("notice__ends_on")[:1]
    )
    return (
        Household.objects.filter(unit_q(paths, "unit__"), status=HS.NOTICED)
        .annotate(notice_ends=Subquery(latest_end))
        .filter(notice_ends__lt=today)
    )


def _objection_rows(queryset: QuerySet[Any]) -> list[Row]:
    return [
        Row(
            o.household.name,
            reverse("cases:objection_resolve", args=[o.pk]),
            _("%(d)s 收到") % {"d": o.received_on.isoformat()},
        )
        for o in queryset.select_related("household")
    ]


def chair_items(user: User, paths: list[str], today: datetime.date) -> list[Item]:
    households = Household.objects.filter(unit_q(paths, "unit__"))
    # The submitter may not decide her own case (intake.check_actor).
    not_mine = ~Q(submitted_by=user)
    evaluate = households.filter(not_mine, status=HS.DISCUSSED).order_by("unit__path", "name")
    confirm = notice_ended(paths, today).filter(not_mine).order_by("notice_ends", "name")
    objections = Objection.objects.filter(
        unit_q(paths, "household__unit__"), outcome=ObjectionOutcome.OPEN
    ).order_by("received_on", "id")
    return [
        _item(
            "evaluate",
            _("待五评（评定困难类别）"),
            evaluate,
            reverse("cases:household_list") + f"?status={HS.DISCUSSED}",
            rows=_household_rows,
        ),
        _item(
            "confirm",
            _("公示期满、待确认建档"),
            confirm,
            reverse("cases:notice_list"),
            rows=_household_rows,
        ),
        _item(
            "objections",
            _("未处理的公示异议"),
            objections,
            reverse("cases:notice_list"),
            rows=_objection_rows,
        ),
        _item(
            "approve",
            _("待我审批的帮扶申请"),
            Application.objects.filter(awaiting_q(user)),
            reverse("programs:application_list") + "?view=mine",
        ),
    ]


def claims_to_vote(user: User) -> QuerySet[Claim]:
    """Mutual-aid claims waiting for this committee member's vote, among the
    claims she may open (claim_detail's scope)."""
    scope = scope_q(user, CLAIM_VIEW, "member__unit__")
    if scope is None:
        return Claim.objects.none()
    return (
        Claim.objects.filter(scope, status=ClaimStatus.PENDING, member__cooperative__committee=user)
        .exclude(submitted_by=user)
        .exclude(votes__voter=user)
        .order_by("submitted_at", "id")
    )


def _claim_rows(queryset: QuerySet[Any]) -> list[Row]:
    return [
        Row(
            c.member.name,
            reverse("programs:claim_detail", args=[c.pk]),
            str(c.category),
        )
        for c in queryset.select_related("member", "category")
    ]


# -- finance ----------------------------------------------------------------------------


def finance_items(user: User, paths: list[str], today: datetime.date) -> list[Item]:
    loans_to_pay = Application.objects.filter(
        unit_q(paths, "household__unit__"),
        status=ApplicationStatus.APPROVED,
        program__kind=Kind.LOAN,
    )
    claims_to_pay = Claim.objects.filter(
        unit_q(paths, "member__cooperative__fund__unit__"), status=ClaimStatus.APPROVED
    )
    return [
        _item("pay", _("已批准、待发放的帮扶"), payable(user), reverse("programs:payment_queue")),
        _item("disburse", _("已批准、待放款的借款"), loans_to_pay, reverse("programs:loan_list")),
        _item(
            "claims_pay", _("已通过、待发放的互助金"), claims_to_pay, reverse("programs:coop_list")
        ),
        _item(
            "arrears",
            _("逾期未还的借款"),
            loan_arrears(user, today),
            reverse("programs:loan_arrears"),
        ),
    ]


# -- admin, auditor ---------------------------------------------------------------------


def admin_items(user: User) -> list[Item]:
    idle = User.objects.filter(is_active=True, is_superuser=False, memberships__isnull=True)
    url = reverse("admin:accounts_user_changelist") if user.is_staff else ""
    return [_item("no_role", _("尚未分配角色的用户"), idle, url)]


def auditor_items(paths: list[str], today: datetime.date) -> list[Item]:
    since = today - datetime.timedelta(days=REVERSALS_DAYS)
    reversals = LedgerEntry.objects.filter(
        unit_q(paths, "fund__unit__"), reverses__isnull=False, occurred_on__gte=since
    )
    return [
        _item(
            "reversals",
            _("近 %(n)s 天的冲正分录") % {"n": REVERSALS_DAYS},
            reversals,
            reverse("funds:fund_list"),
        )
    ]


# -- the page ---------------------------------------------------------------------------


def todo_for(user: User, today: datetime.date | None = None) -> Todo:
    """The sections of the roles the user holds, in the order of Role."""
    today = today or clock.today()
    granted = memberships(user)
    held = {m.role for m in granted if m.unit.is_active}
    sections: list[Section] = []
    if Role.CASEWORKER in held:
        items = caseworker_items(user, _paths(granted, Role.CASEWORKER), today)
        sections.append(Section(Role.CASEWORKER, str(Role.CASEWORKER.label), items))
    if Role.CHAIR in held:
        items = chair_items(user, _paths(granted, Role.CHAIR), today)
        sections.append(Section(Role.CHAIR, str(Role.CHAIR.label), items))
    # Committee members vote whatever their role; a chair finds it in her list.
    vote = _item("vote", _("待我表决的互助申请"), claims_to_vote(user), rows=_claim_rows)
    if Role.CHAIR in held:
        sections[-1].items.append(vote)
    elif vote.count:
        sections.append(Section("committee", _("互助委员会"), [vote]))
    # The complaints one answers, in the chair's list or else the caseworker's.
    answering = [s for s in sections if s.role in (Role.CHAIR, Role.CASEWORKER)]
    if answering:
        url = reverse("programs:complaint_list") + "?view=mine"
        answering[-1].items.append(_item("complaints", _("我承办的投诉"), owned_open(user), url))
    if Role.FINANCE in held:
        items = finance_items(user, _paths(granted, Role.FINANCE), today)
        sections.append(Section(Role.FINANCE, str(Role.FINANCE.label), items))
    if Role.AUDITOR in held:
        items = auditor_items(_paths(granted, Role.AUDITOR), today)
        sections.append(Section(Role.AUDITOR, str(Role.AUDITOR.label), items))
    if Role.ADMIN in held:
        sections.append(Section(Role.ADMIN, str(Role.ADMIN.label), admin_items(user)))
    return Todo(sections)
