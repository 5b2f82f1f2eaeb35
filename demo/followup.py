"""Demo caseworkers paired with households as their helpers (帮扶责任人)."""

import datetime
import random

from accounts.models import Role, Unit, User
from cases import clock
from cases.models import CaseRules, Helper, HelperPerson, HelperRole, Household, HouseholdStatus
from cases.services.followup import roster_person_for

from .users import USERS, DemoUsers

PER_CASEWORKER = 40


def helpers_assign(users: DemoUsers, seed: int) -> None:
    """Pair each demo caseworker with filed households of her county, some
    of them overdue for a visit, so 我的帮扶户 and 走访逾期 have content."""
    rng = random.Random(seed)
    interval = CaseRules.current().visit_interval_months
    today = clock.today()
    rows = []
    people: dict[tuple[int, int], HelperPerson] = {}
    for spec in USERS:
        if spec.role != Role.CASEWORKER:
            continue
        user = users[spec.username][0]
        home = Unit.objects.get(code=spec.unit_code)
        filed = Household.objects.filter(
            unit__path__startswith=home.path, status=HouseholdStatus.FILED
        ).order_by("id")[:PER_CASEWORKER]
        for household in filed:
            key = (household.unit_id, user.pk)
            if key not in people:
                people[key] = roster_person_for(unit=household.unit, user=user)
            start = household.filed_on or today
            last = _last_visit(rng, start, today, interval)
            rows.append(_helper(household, people[key], user, start, last))
    Helper.objects.bulk_create(rows)


def _last_visit(
    rng: random.Random, start: datetime.date, today: datetime.date, interval: int
) -> datetime.date:
    """Two in five were last seen longer ago than the visit interval."""
    gap = (
        rng.randint(interval * 31 + 5, interval * 31 + 90)
        if rng.random() < 0.4
        else (rng.randint(3, interval * 28))
    )
    return max(start, today - datetime.timedelta(days=gap))


def _helper(
    household: Household,
    person: HelperPerson,
    user: User,
    start: datetime.date,
    last: datetime.date,
) -> Helper:
    return Helper(
        household=household,
        person=person,
        user=user,
        role=HelperRole.UNION_CADRE,
        is_first=True,
        start_on=start,
        last_visited_on=last,
    )
