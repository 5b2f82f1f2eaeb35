"""A generated household's money: a per-capita income inside its tier's
band, rigid expenses that follow from the main cause, and the gross split
over kinds and earners so that the file adds up the way the means test
reads it."""

import random
from dataclasses import dataclass
from decimal import Decimal

from cases.choices import HealthStatus

from .members import ADULT, ELDER, IDLE, Members
from .weighted import Weighted
from .work import ADULT_JOBS

# Zhengzhou's urban minimum living standard is roughly this many yuan per
# person per month; tiers are drawn as multiples of it, like the means test.
LOCAL_STANDARD = 800
# Per-capita income as a multiple of the local standard, per national tier.
TIER_BANDS = {
    "deep": (0.35, 1.0),
    "relative": (1.0, 2.0),
    "edge": (2.0, 2.6),
    "accident": (1.0, 2.5),
}
HOUSING = Weighted([("owned", 45), ("public_rent", 10), ("private_rent", 20), ("low_rent", 15),
                    ("borrowed", 7), ("none", 3)])  # fmt: skip


@dataclass
class Expenses:
    medical: int = 0
    disability: int = 0
    education: int = 0
    housing: int = 0
    housing_type: str = ""

    @property
    def total(self) -> int:
        return self.medical + self.disability + self.education + self.housing


@dataclass
class Incomes:
    wages: int = 0
    business: int = 0
    transfer: int = 0
    other: int = 0


def net_income(rng: random.Random, category: str, size: int) -> int:
    """A year's income after rigid expenses, inside the tier's band."""
    return round(LOCAL_STANDARD * rng.uniform(*TIER_BANDS[category]) * size * 12)


def expenses(
    rng: random.Random,
    *,
    cause: str,
    health: str,
    disability: str,
    studying: bool,
    members: Members,
) -> Expenses:
    spent = Expenses()
    if cause in ("因病", "意外事故") or health == HealthStatus.SERIOUS:
        spent.medical = rng.randrange(6000, 60001, 100)
    elif health != HealthStatus.HEALTHY or any(
        m.health_status != HealthStatus.HEALTHY for m, _role in members
    ):
        spent.medical = rng.randrange(0, 8001, 100)
    if disability:
        spent.disability = rng.randrange(1200, 12001, 100)
    if studying:
        spent.education = rng.randrange(4000, 16001, 500)
    spent.housing_type = str(HOUSING.pick(rng))
    if spent.housing_type == "private_rent":
        spent.housing = rng.randrange(6000, 18001, 600)
    return spent


def incomes(
    rng: random.Random,
    *,
    gross: int,
    category: str,
    employment: str,
    employer_type: str,
    members: Members,
) -> Incomes:
    """Split `gross` over the elders' pensions, relief, the other adults'
    wages and, what is left, the head's own income. Sets each member's
    annual income (and an occupation where they have none)."""
    income = Incomes(transfer=_pensions(rng, gross, members))
    if category == "deep" and rng.random() < 0.5:
        income.transfer += (gross - income.transfer) // 3  # 低保金
    rest = _wages_of_others(rng, gross - income.transfer, income, members)
    _head_income(rest, employment, employer_type, income)
    return income


def _pensions(rng: random.Random, gross: int, members: Members) -> int:
    transfer = 0
    for member, role in members:
        if role == ELDER:
            pension = rng.randrange(2400, 30001, 100) if member.occupation == "退休" else 2040
            member.annual_income = Decimal(min(pension, (gross - transfer) // 3))
            transfer += int(member.annual_income)
    return transfer


def _wages_of_others(rng: random.Random, rest: int, income: Incomes, members: Members) -> int:
    """Each other adult earns a share of what is left; returns the rest."""
    for member, role in members:
        if role == ADULT and rest > 0:
            share = round(rest * rng.uniform(0.2, 0.6))
            member.annual_income = Decimal(share)
            if not member.occupation:
                member.occupation = rng.choice(ADULT_JOBS[:-1])
            income.wages, rest = income.wages + share, rest - share
        elif role == IDLE and not member.occupation:
            member.occupation = rng.choice(["待业", "家务"])
    return rest


def _head_income(rest: int, employment: str, employer_type: str, income: Incomes) -> None:
    """What is left is the head's own income, of the kind their work gives."""
    if employment == "retired":
        income.transfer += rest  # pension
    elif employment in ("laid_off", "unemployed"):
        relief = rest * 3 // 5  # 失业保险金 and temporary relief
        income.transfer += relief
        income.other = rest - relief  # odd jobs
    elif employment == "flexible" or employer_type == "self":
        income.business = rest * 2 // 3
        income.wages += rest - income.business
    else:
        income.wages += rest
