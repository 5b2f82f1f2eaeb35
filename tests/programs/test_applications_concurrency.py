"""Real row locks (PostgreSQL only): drafts racing for the room left under a
cap, and two chairs clicking 同意 on one application at the same moment."""

from decimal import Decimal as D

import pytest

from cases.models import Tier
from programs.models import Application, Decision, Program, StandardAmount
from programs.models import ApplicationStatus as S
from programs.services import applications
from tests.builders import make_user
from tests.programs.conftest import filed
from tests.race import on_postgres
from tests.race import race as _race


def _tier():
    # A transactional test may run after another one flushed the seeded lists.
    tier, _ = Tier.objects.get_or_create(name="特困", defaults={"national_category": "deep"})
    return tier


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_drafts_at_once_under_a_cap_for_one_save_exactly_one(units, alice):
    tier = _tier()
    household = filed(units["a"], tier=tier)
    program = Program.objects.create(
        unit=units["city"],
        name="意外救助",
        category="other",
        kind="cash",
        cap_rule="fixed",
        cap_amount=D("1000"),
    )
    StandardAmount.objects.create(program=program, tier=tier, amount=D("1000"))
    refused = _race(
        10,
        lambda i: applications.application_draft(actor=alice, household=household, program=program),
    )
    assert Application.objects.filter(household=household).count() == 1
    assert len(refused) == 9
    assert all("超过本项目年度上限 1000.00 元" in str(exc) for exc in refused)


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_chairs_deciding_at_once_leave_one_decision(units, alice, carol):
    tier = _tier()
    deputy = make_user("dora", units["a"], "chair", full_name="邓蓉")
    household = filed(units["a"], tier=tier)
    program = Program.objects.create(
        unit=units["city"], name="送温暖", category="festival", kind="cash"
    )
    StandardAmount.objects.create(program=program, tier=tier, amount=D("1000"))
    app = applications.application_draft(actor=alice, household=household, program=program)
    chairs = [carol, deputy] * 4
    refused = _race(
        len(chairs),
        lambda i: applications.application_decide(
            actor=chairs[i], application=app, approve=i % 2 == 0, note="意见"
        ),
    )
    assert Decision.objects.filter(application=app).count() == 1
    assert len(refused) == len(chairs) - 1
    app.refresh_from_db()
    assert app.status in (S.APPROVED, S.REJECTED)
