"""Real threads (PostgreSQL only): one idempotency key sent from several
places at once makes one application, and every sender gets it back."""

import uuid
from decimal import Decimal as D

import pytest

from cases.models import Tier
from programs.models import Application, Program, StandardAmount
from tests.api.conftest import Api, key_for
from tests.programs.conftest import filed
from tests.race import on_postgres, race


@on_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_key_sent_eight_times_at_once_drafts_one_application(units, alice):
    tier, _ = Tier.objects.get_or_create(name="特困", defaults={"national_category": "deep"})
    household = filed(units["a"], tier=tier)
    program = Program.objects.create(
        unit=units["city"], name="送温暖", category="festival", kind="cash"
    )
    StandardAmount.objects.create(program=program, tier=tier, amount=D("1000"))
    token = key_for(alice)
    key = str(uuid.uuid4())
    answers: list[tuple[int, int]] = []

    def send(_i: int) -> None:
        response = Api(token).post(
            "/api/v1/applications/",
            {"household": household.pk, "program": program.pk},
            **{"Idempotency-Key": key},
        )
        answers.append((response.status_code, response.json()["id"]))

    race(8, send)
    assert Application.objects.filter(household=household).count() == 1
    assert sorted(code for code, _id in answers) == [200] * 7 + [201]
    assert len({pk for _code, pk in answers}) == 1
