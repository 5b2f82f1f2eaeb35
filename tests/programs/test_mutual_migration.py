"""The roster migration (programs 0006–0008) on rows written before it: each
member takes the name, ID number, union and phone of the household it was
enrolled with, each claim its category row, and a claim paid through its
application is marked paid on that payment's day."""

import datetime
from decimal import Decimal as D

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from funds.models import Fund
from tests.builders import make_household, make_unit, make_user

BEFORE = [("programs", "0005_goods_value_of_goods_handouts")]
AFTER = [("programs", "0008_coop_roster_required_claim_category_fk")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_existing_members_and_claims_are_carried_over(seeded_lists):
    # Only the programs tables go back: the other apps' rows are written
    # with today's models, and the old programs rows point at them by id.
    old = _migrate(BEFORE)
    Program = old.get_model("programs", "Program")
    Cooperative = old.get_model("programs", "Cooperative")
    CoopMember = old.get_model("programs", "CoopMember")
    Claim = old.get_model("programs", "Claim")
    unit = make_unit("410105", "金水区总工会")
    user = make_user("clerk", unit, "caseworker")
    household = make_household(unit, name="王秀兰", phone="13812345678")
    fund = Fund.objects.create(unit=unit, name="互助金", year=2026, created_by=user)
    program = Program.objects.create(
        unit_id=unit.pk, name="职工医疗互助", category="mutual_medical", kind="cash"
    )
    coop = Cooperative.objects.create(
        unit_id=unit.pk,
        name="互助会",
        fund_id=fund.pk,
        program=program,
        first_premium=D("120"),
        yearly_premium=D("60"),
    )
    member = CoopMember.objects.create(
        cooperative=coop,
        household_id=household.pk,
        joined_on=datetime.date(2025, 1, 1),
        created_by_id=user.pk,
    )
    for code in ("medical", "wedding_funeral"):
        Claim.objects.create(
            member=member, category=code, amount=D("100"), reason="x", submitted_by_id=user.pk
        )

    new = _migrate(AFTER)
    member = new.get_model("programs", "CoopMember").objects.get()
    assert (member.name, member.id_number, member.unit_id, member.phone) == (
        "王秀兰",
        household.id_number,
        unit.pk,
        "13812345678",
    )
    assert member.household_id == household.pk
    claims = new.get_model("programs", "Claim").objects.select_related("category")
    assert sorted(c.category.name for c in claims) == ["婚丧嫁娶", "疾病医疗"]
    codes = new.get_model("programs", "ClaimCategory").objects.values_list("code", flat=True)
    assert set(codes) == {"school", "medical", "wedding_funeral", "other"}
    # Leave the database at the newest state for whatever runs next.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
