"""A year of the county's money work, in the order a year brings it."""

import datetime

from django.core.management.base import CommandError

from cases.models import Household, HouseholdStatus
from programs.models import Application

from .aid import living_and_medical, waiting_today
from .batches import festival, school
from .integrity import chair_recuses, complaints_received, verification_calls
from .loans import loans_create
from .mutual import mutual_aid
from .state import MIN_HOUSEHOLDS, MoneyDemo


def households_pool(demo: MoneyDemo) -> list[Household]:
    """The county's filed households, filed before the demo year began."""
    filed = Household.objects.filter(
        unit__path__startswith=demo.county.path, status=HouseholdStatus.FILED
    ).select_related("unit", "tier")
    pool = list(filed.filter(filed_on__lt=datetime.date(demo.year, 1, 1)).order_by("id"))
    if len(pool) < MIN_HOUSEHOLDS:
        pool = list(filed.order_by("id"))
    if len(pool) < MIN_HOUSEHOLDS:
        raise CommandError(
            f"金水区总工会已建档家庭不足 {MIN_HOUSEHOLDS} 户，"
            "请先运行 manage.py seed_demo（默认生成 300 户）。"
        )
    return pool


def year_done(demo: MoneyDemo) -> bool:
    """Whether the demo programs have applications already."""
    return Application.objects.filter(program__in=demo.programs.values()).exists()


def year_of_work(demo: MoneyDemo) -> None:
    """Batches, single applications, loans and mutual aid through the year,
    the batches' households called back, then the work waiting today, the
    complaints received and a chair's recusal."""
    assert demo.sick is not None
    demo.pool = [h for h in demo.pool if h.pk != demo.sick.pk]
    festival(demo)
    living_and_medical(demo)
    loans_create(demo)
    mutual_aid(demo)
    school(demo)
    verification_calls(demo)
    waiting_today(demo)
    complaints_received(demo)
    chair_recuses(demo)
