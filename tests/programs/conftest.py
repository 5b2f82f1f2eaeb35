"""Money fixtures: a 送温暖 program, a funded fund, filed households.

county A's caseworker alice drafts, its chair carol approves, its finance
officer dave pays; the city chair cathy is the parent union's chair for
households of county A (and the chair of a county for households of a1)."""

from decimal import Decimal as D

import pytest

from accounts.models import Membership
from cases import clock
from cases.models import HouseholdStatus, Tier
from funds import services as ledger
from programs.models import ApprovalThreshold, Program, StandardAmount
from tests.builders import make_household, make_id, make_user


@pytest.fixture
def cathy(units):
    """Chair of the city union: the parent chair for county A's households."""
    return make_user("cathy", units["city"], "chair", full_name="曹慧")


@pytest.fixture
def tier():
    return Tier.objects.order_by("sort_order").first()


@pytest.fixture
def fund(dave, units):
    fund = ledger.fund_create(actor=dave, unit=units["a"], name="送温暖专项", year=2026)
    ledger.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=fund,
        amount="100000",
        memo="区财政拨款",
    )
    return fund


@pytest.fixture
def festival(units, fund, tier):
    """节日送温暖: 1000 yuan for the first tier; county A approves up to 2000."""
    program = Program.objects.create(
        unit=units["city"], name="2026年春节送温暖", category="festival", kind="cash"
    )
    program.funds.add(fund)
    StandardAmount.objects.create(program=program, tier=tier, amount=D("1000"))
    ApprovalThreshold.objects.create(program=program, unit_kind="county", amount=D("2000"))
    return program


def filed(unit, **overrides):
    """A household with a file in force, its bank card registered."""
    fields = {
        "status": HouseholdStatus.FILED,
        "filed_on": clock.today(),
        "bank_name": "中国工商银行",
        "bank_account": "6222020200112233445",
        "id_number": make_id(),
    }
    fields.update(overrides)
    return make_household(unit, **fields)


@pytest.fixture
def household(units):
    return filed(units["a"])


def grant(user, unit, role):
    return Membership.objects.create(user=user, unit=unit, role=role)
