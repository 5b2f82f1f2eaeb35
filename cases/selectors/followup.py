"""Reads for helpers and follow-up visits, always inside the user's units.

The two lists ("我的帮扶户" and "走访逾期") filter and sort on the helper's
base date (last visit, or the start of the pairing before any visit) against
one cutoff computed per request, so each page costs the same few queries
however many households there are; due dates are then worked out in Python
for the rows on the page only.
"""

import datetime
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, Q, QuerySet
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan

from accounts.models import Unit, User
from accounts.paging import paged
from accounts.scoping import (
    covers,
    covers_everything,
    get_scoped,
    require_action,
    unit_q,
    units_for,
)

from .. import clock
from ..models import CaseRules, Helper, HelperPerson, Household, Visit, VisitPhoto
from ..models import HouseholdStatus as S
from ..services import followup
from .households import get_household_for, prefix_q

RECENT_VISITS = 5
# The date a helper's next visit counts from; helper_active_due_idx and
# helper_user_due_idx index it.
BASE = Coalesce("last_visited_on", "start_on")


# What a list row shows; a household row is wide, and page 200 of the overdue
# list reads 5,000 of them to skip to its 25.
ROW_FIELDS = (
    "id", "household_id", "user_id", "role", "is_first", "start_on", "end_on",
    "last_visited_on", "household__id", "household__name", "household__status",
    "household__unit_id", "household__unit__name", "user__username", "user__full_name",
    "person_id", "person__id", "person__name", "person__post",
)  # fmt: skip


def _active() -> QuerySet[Helper]:
    # The base date by name, so the pager's 下一页 can carry it (?after=).
    return (
        Helper.objects.filter(end_on__isnull=True, household__status=S.FILED)
        .select_related("household", "household__unit", "user", "person")
        .only(*ROW_FIELDS)
        .annotate(due_base=BASE)
    )


def my_households(user: User) -> QuerySet[Helper]:
    """The user's own active pairings, the longest-waiting (so the overdue) first."""
    return _active().filter(user=user).order_by("due_base", "id")


def overdue_helpers(user: User, unit: Unit | None, cutoff: datetime.date) -> QuerySet[Helper]:
    """Every active pairing in the unit's subtree (default: all the user's
    units) whose visit is overdue, the most overdue first."""
    granted = require_action(user, "household.view")
    if unit is not None:
        if not covers(user, "household.view", unit):
            return Helper.objects.none()
        scope = unit_q([unit.path], prefix="household__unit__")
    elif covers_everything(granted):
        scope = Q()  # a role at the root: no join to the unions at all
    else:
        scope = unit_q([m.unit.path for m in granted], prefix="household__unit__")
    return _active().filter(scope, LessThan(BASE, cutoff)).order_by("due_base", "id")


def filter_units(user: User) -> QuerySet[Unit]:
    return units_for(user, "household.view").filter(is_active=True)


@dataclass
class DueRow:
    helper: Helper
    household: Household
    last_visited_on: datetime.date | None
    due_on: datetime.date
    overdue: bool
    days_overdue: int
    # The household page puts a form to end the pairing here.
    end_form: Any = None


def due_rows(helpers: Any, months: int, today: datetime.date) -> list[DueRow]:
    cutoff = followup.visit_cutoff(today, months)
    rows = []
    for helper in helpers:
        due = followup.due_on(helper, months)
        overdue = followup.is_overdue(helper, cutoff)
        rows.append(
            DueRow(
                helper=helper,
                household=helper.household,
                last_visited_on=helper.last_visited_on,
                due_on=due,
                overdue=overdue,
                days_overdue=(today - due).days if overdue else 0,
            )
        )
    return rows


def get_helper_for(user: User, pk: object, *, action: str = "household.edit") -> Helper:
    queryset = Helper.objects.select_related("household__unit", "user", "person")
    return get_scoped(user, queryset, pk, action=action, unit_field="household__unit")


def get_photo_for(user: User, pk: object) -> VisitPhoto:
    queryset = VisitPhoto.objects.select_related("visit__household__unit")
    return get_scoped(
        user, queryset, pk, action="household.view", unit_field="visit__household__unit"
    )


def get_roster_unit_for(user: User, pk: object) -> Unit:
    """A union whose helper roster the user keeps: caseworkers and chairs of
    it or a union above; 403 without the role, 404 for another union."""
    return get_scoped(
        user, Unit.objects.filter(is_active=True), pk, action="household.edit", unit_field="pk"
    )


def get_helper_person_for(user: User, pk: object) -> HelperPerson:
    queryset = HelperPerson.objects.select_related("unit", "user")
    return get_scoped(user, queryset, pk, action="household.edit")


def roster_list(unit: Unit, q: str = "", show: str = "") -> QuerySet[HelperPerson]:
    """A union's roster, by name; the page's ids first (see accounts.paging)."""
    qs = HelperPerson.objects.filter(unit=unit)
    if show == "inactive":
        qs = qs.filter(is_active=False)
    elif show != "all":
        qs = qs.filter(is_active=True)
    if q.strip():
        qs = qs.filter(prefix_q("name", q.strip()))
    return paged(qs.select_related("user").order_by("name", "id"))


def roster_home_unit(user: User) -> Unit:
    """The roster a user lands on: the highest union where they may keep one."""
    granted = require_action(user, "household.edit")
    return min((m.unit for m in granted), key=lambda u: (u.depth, u.pk))


def get_household_for_visit(user: User, pk: object) -> Household:
    """The household if the user may log a visit there: a caseworker or chair
    of its unit, or one of its own helpers. 404 outside the user's units."""
    household = get_household_for(user, pk)  # type: ignore[arg-type]
    if not followup.may_log_visit(user, household):
        raise PermissionDenied
    return household


def panel(user: User, household: Household) -> dict[str, Any]:
    """The household page's helpers and recent visits: four queries (the
    rules, helpers, visits and their photos), none for a household that has
    never been filed (its intake visit shows in the intake panel)."""
    if household.status not in (S.FILED, S.EXITED):
        return {"followup_shown": False}
    rules = CaseRules.current()  # read once: the interval and the helper limit
    months = followup.visit_interval(rules)
    today = clock.today()
    helpers = list(
        Helper.objects.filter(household=household, end_on__isnull=True).select_related(
            "user", "person"
        )
    )
    for helper in helpers:
        helper.household = household  # the rows need it; it is already loaded
    rows = due_rows(helpers, months, today)
    visits = list(
        Visit.objects.filter(household=household)
        .select_related("visitor", "on_behalf_of")
        .prefetch_related(Prefetch("photos", queryset=VisitPhoto.objects.order_by("id")))
        .order_by("-visited_on", "-id")[:RECENT_VISITS]
    )
    for visit in visits:
        visit.knowns_count = sum(bool(getattr(visit, f)) for f in Visit.SIX_KNOWNS)  # type: ignore[attr-defined]
    is_filed = household.status == S.FILED
    can_work = covers(user, "household.edit", household.unit)
    return {
        "followup_helpers": rows,
        "followup_next_due": min((r.due_on for r in rows), default=None),
        "followup_overdue": any(r.overdue for r in rows),
        "followup_visits": visits,
        "followup_interval": months,
        "followup_can_assign": is_filed and can_work and followup.helper_room(len(rows), rules),
        "followup_roster_unit": household.unit_id if can_work else None,
        "followup_can_end": is_filed and can_work,
        "followup_can_visit": is_filed
        and (can_work or any(r.helper.user_id == user.pk for r in rows)),
        "followup_is_filed": is_filed,
        "followup_shown": True,
    }


def visit_keys_known(user: User, keys: Sequence[uuid.UUID]) -> list[uuid.UUID | None]:
    """Which of these draft keys are visits the user has recorded: only the
    asker's own visits, so a key says nothing of anyone else's."""
    return list(
        Visit.objects.filter(visitor=user, client_key__in=keys).values_list("client_key", flat=True)
    )
