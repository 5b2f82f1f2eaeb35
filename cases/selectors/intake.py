"""Reads of the intake workflow, always inside the user's units."""

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Unit, User
from accounts.paging import paged
from accounts.scoping import covers, get_scoped, units_for

from ..models import Assessment, Household, IntakeNotice, Objection, ObjectionOutcome, StatusChange
from ..models import HouseholdStatus as S
from ..services import intake
from .desk import complaint_desk_for

# The seven steps as people say them. 一进 and 二看 happen on the same home
# visit.
STEPS = [
    (gettext_lazy("一进"), gettext_lazy("入户")),
    (gettext_lazy("二看"), gettext_lazy("察看")),
    (gettext_lazy("三算"), gettext_lazy("核算")),
    (gettext_lazy("四议"), gettext_lazy("评议")),
    (gettext_lazy("五评"), gettext_lazy("评定")),
    (gettext_lazy("六公示"), gettext_lazy("公示")),
    (gettext_lazy("七确认"), gettext_lazy("确认")),
]
# How many of the seven steps a status has completed.
DONE: dict[str, int] = {
    S.DRAFT: 0, S.VISITED: 2, S.ASSESSED: 3, S.DISCUSSED: 4, S.EVALUATED: 5,
    S.NOTICED: 5, S.FILED: 7, S.EXITED: 7,
}  # fmt: skip


def get_notice_for(user: User, pk: int, *, action: str = "household.view") -> IntakeNotice:
    queryset = IntakeNotice.objects.select_related("unit", "created_by")
    return get_scoped(user, queryset, pk, action=action, unit_field="unit")


def get_objection_for(user: User, pk: int, *, action: str = "case.decide") -> Objection:
    queryset = Objection.objects.select_related("household__unit", "notice", "recorded_by")
    return get_scoped(user, queryset, pk, action=action, unit_field="household__unit")


def notice_list(user: User) -> QuerySet[IntakeNotice]:
    """The notices of the user's units, with counts in the same query."""
    return (
        IntakeNotice.objects.filter(unit__in=units_for(user, "household.view"))
        .select_related("unit")
        .annotate(
            household_count=Count("entries", distinct=True),
            open_objections=Count(
                "objections", filter=Q(objections__outcome=ObjectionOutcome.OPEN), distinct=True
            ),
        )
        .order_by("-starts_on", "-id")
    )


def notice_entries(notice: IntakeNotice) -> QuerySet[Any]:
    """A notice's households for a paginated page: a notice may list thousands."""
    return paged(
        notice.entries.select_related(
            "household__unit", "household__tier", "household__main_cause"
        ).order_by("household__name", "household_id")
    )


def notice_detail(notice: IntakeNotice) -> dict[str, Any]:
    objections = list(
        notice.objections.select_related("household", "recorded_by", "resolved_by").order_by(
            "received_on", "id"
        )
    )
    return {"objections": objections, "complaint_desk": complaint_desk_for(notice.unit)}


def notice_matches(
    *, unit: Unit, tiers: Any = None, households: Any = None, exclude: Any = None
) -> QuerySet[Household]:
    """The households a notice would list, as the service will pick them, for
    a paginated preview (one page of rows, never the whole list)."""
    return paged(
        intake.notice_candidates(unit=unit, tiers=tiers, households=households, exclude=exclude)
        .select_related("unit", "tier", "main_cause")
        .order_by("unit__path", "name", "pk")
    )


def evaluated_households(user: User) -> QuerySet[Household]:
    """Cases waiting for a public notice, in the units the user may post for."""
    return (
        Household.objects.filter(status=S.EVALUATED, unit__in=units_for(user, "household.edit"))
        .select_related("unit")
        .order_by("unit__path", "name", "id")
    )


@dataclass
class Step:
    number: Any
    name: Any
    state: str  # "done", "current" or "todo"


@dataclass
class TimelineRow:
    change: StatusChange
    from_label: str
    to_label: str


def _status_label(status: str) -> str:
    return str(S(status).label) if status in S.values else status


@dataclass
class Action:
    """One thing this user may do now: a link to a form, or an inline form."""

    key: str
    label: str
    url: str = ""
    primary: bool = False


@dataclass
class IntakePanel:
    steps: list[Step]
    actions: list[Action] = field(default_factory=list)
    can_send_back: bool = False
    can_reject: bool = False
    can_reopen: bool = False
    assessment: Assessment | None = None
    notice: IntakeNotice | None = None
    open_objections: list[Objection] = field(default_factory=list)
    blockers: list[str] = field(default_factory=list)
    timeline: list[TimelineRow] = field(default_factory=list)
    can_resolve: bool = False


def progress(status: str) -> list[Step]:
    done = DONE.get(status, 0)
    active = status not in (S.REJECTED, S.EXITED, S.FILED)
    steps = []
    for index, (number, name) in enumerate(STEPS):
        if index < done:
            state = "done"
        elif active and (index == done or (done == 0 and index == 1)):
            # The home visit covers 一进 and 二看 at once.
            state = "current"
        else:
            state = "todo"
        steps.append(Step(number, name, state))
    return steps


def may(user: User, household: Household, who: str) -> bool:
    """Would `check_actor` let this user make a move that needs `who`?"""
    if not covers(user, who, household.unit):
        return False
    return not (who == intake.CHAIR and household.submitted_by_id == user.pk)


def intake_panel(user: User, household: Household) -> IntakePanel:
    """Everything the intake panel shows, in a fixed number of queries."""
    status = household.status
    panel = IntakePanel(steps=progress(status))
    moves = intake.allowed_moves(household)
    worker = may(user, household, intake.WORKER)
    chair = may(user, household, intake.CHAIR)
    back = intake.previous_step(status)
    panel.can_send_back = back is not None and may(user, household, moves.get(back, ""))
    panel.can_reject = S.REJECTED in moves and chair
    panel.can_reopen = status in (S.REJECTED, S.EXITED) and worker
    panel.actions = _actions(household, worker=worker, chair=chair)
    panel.assessment = (
        household.assessments.select_related("suggested_tier", "created_by")
        .order_by("-assessed_on", "-id")
        .first()
    )
    if status == S.NOTICED:
        panel.notice = intake.current_notice(household)
        panel.open_objections = list(
            household.objections.filter(outcome=ObjectionOutcome.OPEN)
            .select_related("recorded_by")
            .order_by("received_on", "id")
        )
        panel.blockers = intake.confirm_blockers(household)
        panel.can_resolve = chair
    panel.timeline = [
        TimelineRow(c, _status_label(c.from_status), _status_label(c.to_status))
        for c in household.status_changes.select_related("actor").order_by("at", "id")
    ]
    return panel


def _actions(household: Household, *, worker: bool, chair: bool) -> list[Action]:
    pk = household.pk
    status = household.status
    actions: list[Action] = []
    if status == S.DRAFT and worker:
        actions.append(
            Action("visit", _("登记入户核查"), reverse("cases:intake_visit", args=[pk]), True)
        )
    if status == S.VISITED and worker:
        actions.append(
            Action("assess", _("经济状况核算"), reverse("cases:intake_assess", args=[pk]), True)
        )
    # A re-check before the chair decides, or on a filed household; not while
    # the figures the notice showed are out for objections.
    if status in (S.ASSESSED, S.DISCUSSED, S.FILED) and worker:
        actions.append(Action("assess", _("重新核算"), reverse("cases:intake_assess", args=[pk])))
    if status == S.ASSESSED and worker:
        actions.append(
            Action("discuss", _("登记民主评议"), reverse("cases:intake_discuss", args=[pk]), True)
        )
    if status == S.DISCUSSED and chair:
        actions.append(
            Action("evaluate", _("评定困难类别"), reverse("cases:intake_evaluate", args=[pk]), True)
        )
    if status == S.EVALUATED and worker:
        url = reverse("cases:notice_create") + f"?household={pk}"
        actions.append(Action("notice", _("发布公示"), url, True))
    if status == S.NOTICED and chair:
        actions.append(
            Action("confirm", _("确认建档"), reverse("cases:intake_confirm", args=[pk]), True)
        )
    if status == S.NOTICED and worker:
        actions.append(
            Action("objection", _("登记异议"), reverse("cases:objection_record", args=[pk]))
        )
    # Primary actions first: the one next step is the big button on a phone.
    actions.sort(key=lambda a: not a.primary)
    return actions
