"""Realistic fake household files for demos, tests and benchmarks.

Everything is drawn from one `random.Random(seed)`, so the same seed and the
same reference day (which decides children's ages and school grades) give the
same data. ID numbers are the deliberate exception: they follow from a running
household index through a fixed bijection (`demo.people`), so files written by
separate runs, with any seeds, never share a number.

The places, employers, schools and banks are those of Zhengzhou (河南省郑州市),
where the demo city union sits.
"""

import datetime
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from accounts.models import Unit
from cases.choices import DisabilityType, HealthStatus, Relation
from cases.models import Cause, Household, HouseholdStatus, Tier
from cases.services import per_capita_monthly
from cases.services.lifecycle import add_years

from . import finances, work
from .faker import Faker
from .members import ADULT, INFANT, Members, family
from .people import Person, age_on, head_id, head_slot
from .rows import HouseholdRows, build
from .schools import NON_COMPULSORY
from .weighted import Weighted

ACCIDENT_NOTES = [
    "2023年遭遇交通事故，多次手术。",
    "工伤致手部受伤，待鉴定。",
    "家中失火，财物受损。",
]
OTHER_NOTES = ["子女学习成绩优秀。", "已申请公租房。", "需定期透析。", "愿意参加就业培训。"]
# How a union's files spread over tiers (by national category), causes and
# statuses: 特困 25%, 困难 50%, 边缘 25%; 因病 the most common cause.
TIER_WEIGHTS = {"deep": 25, "relative": 50, "edge": 25, "accident": 0}
CAUSE_WEIGHTS = {
    "因病": 34,
    "下岗失业": 22,
    "收入低": 17,
    "因残": 11,
    # Offered only when a child is in non-compulsory education (about one
    # household in five), hence the large weight.
    "因学": 55,
    "意外事故": 3,
    "自然灾害": 1,
    "其他": 3,
}
STATUSES = Weighted(
    [(HouseholdStatus.FILED, 82), (HouseholdStatus.DRAFT, 13), (HouseholdStatus.EXITED, 5)]
)
ETHNICITY = Weighted([("汉族", 975), ("回族", 20), ("满族", 3), ("蒙古族", 2)])
POLITICAL = Weighted([("masses", 85), ("cpc", 10), ("cyl", 3), ("democratic", 1)])
MODEL_WORKER = Weighted([("", 985), ("city", 10), ("provincial", 4), ("national", 1)])
INSURANCE = Weighted([("employee", 60), ("resident", 35), ("none", 5)])
NOT_MARRIED = Weighted([("single", 25), ("divorced", 45), ("widowed", 30)])
SECONDARY_COUNTS = Weighted([(0, 50), (1, 35), (2, 15)])


def tier_weights(tiers: Sequence[Tier]) -> Weighted | None:
    """Spread files over tiers by national category (特困 25%, 困难 50%,
    边缘 25%), sharing a category's weight among the tiers mapped to it."""
    per_category: dict[str, int] = {}
    for tier in tiers:
        per_category[tier.national_category] = per_category.get(tier.national_category, 0) + 1
    weighted = [
        (t, TIER_WEIGHTS.get(t.national_category, 5) / per_category[t.national_category])
        for t in tiers
        if TIER_WEIGHTS.get(t.national_category, 5) > 0
    ]
    if not weighted:
        weighted = [(t, 1) for t in tiers]
    return Weighted(weighted) if weighted else None


class DemoFaker(Faker):
    """Whole household files, spread over the given tiers and causes."""

    def __init__(
        self,
        seed: int,
        *,
        tiers: Sequence[Tier] = (),
        causes: Sequence[Cause] = (),
        today: datetime.date | None = None,
    ) -> None:
        super().__init__(seed, today=today)
        self.tiers = tier_weights(tiers)
        self.causes = list(causes)

    def household(self, index: int, unit: Unit) -> HouseholdRows:
        """The household with running index `index`, filed at `unit`."""
        slot = head_slot(index)
        male = self.rng.random() < 0.5
        head = self.person(head_id(slot, male), slot.birth, male)
        spouse, members = family(self, slot, head)
        return self._rows(index, unit, head, spouse, members)

    def _rows(
        self, index: int, unit: Unit, head: Person, spouse: Person | None, members: Members
    ) -> HouseholdRows:
        # The draws happen in this order; reordering them changes every file
        # a seed gives, and with it the demo and the benchmark data.
        rng = self.rng
        studying = any(m.school_stage in NON_COMPULSORY for m, _role in members)
        cause = self._main_cause(studying)
        cause_name = cause.name if cause else ""
        tier = self.tiers.pick(rng) if self.tiers else None
        # Who is ill, disabled or out of work follows from the main cause.
        health, disability, grade = self._health(cause_name, members)
        employment = work.employment(rng, cause_name, age_on(head.birth, self.today), head.sex)
        employer, employer_type = work.employer(rng, employment)
        money = self._money(
            category=tier.national_category if tier else "relative",
            cause=cause_name,
            health=health,
            disability=disability,
            studying=studying,
            employment=employment,
            employer_type=employer_type,
            members=members,
        )
        status = self._status(index, unit)
        bank_name, bank_branch, bank_account = self.bank()
        profile = self._profile(unit, head, spouse, members, status["status"], employment, money)
        household = build(
            Household,
            unit_id=unit.pk,
            **status,
            **profile,
            **money,
            employer=employer,
            employer_type=employer_type,
            employment_status=employment,
            health_status=health,
            disability_type=disability,
            disability_grade=grade,
            household_size=1 + len(members),
            tier_id=tier.pk if tier else None,
            main_cause_id=cause.pk if cause else None,
            bank_name=bank_name,
            bank_branch=bank_branch,
            bank_account=bank_account,
            note=self._note(cause_name),
        )
        household.per_capita_monthly_income = per_capita_monthly(household)
        secondary = self._secondary_causes(cause, studying)
        return HouseholdRows(household, [m for m, _role in members], [c.pk for c in secondary])

    def _money(
        self,
        *,
        category: str,
        cause: str,
        health: str,
        disability: str,
        studying: bool,
        employment: str,
        employer_type: str,
        members: Members,
    ) -> dict[str, Any]:
        """The file's income and expense fields, and its housing."""
        net = finances.net_income(self.rng, category, 1 + len(members))
        spent = finances.expenses(
            self.rng,
            cause=cause,
            health=health,
            disability=disability,
            studying=studying,
            members=members,
        )
        income = finances.incomes(
            self.rng,
            gross=net + spent.total,
            category=category,
            employment=employment,
            employer_type=employer_type,
            members=members,
        )
        return {
            "housing_type": spent.housing_type,
            "zero_employment": employment not in ("employed", "flexible", "migrant")
            and not any(role == ADULT for _m, role in members),
            "income_wages": Decimal(income.wages),
            "income_business": Decimal(income.business),
            "income_property": Decimal(0),
            "income_transfer": Decimal(income.transfer),
            "income_other": Decimal(income.other),
            "expense_medical": Decimal(spent.medical),
            "expense_disability": Decimal(spent.disability),
            "expense_education": Decimal(spent.education),
            "expense_housing": Decimal(spent.housing),
        }

    def _status(self, index: int, unit: Unit) -> dict[str, Any]:
        """Draft, filed or exited, with the dates that go with it."""
        rng = self.rng
        status = STATUSES.pick(rng)
        file_number = None
        filed_on = exited_on = retention_until = None
        if status != HouseholdStatus.DRAFT:
            # The sequence is a placeholder; households_insert numbers the
            # files per union and year, as the confirmation step does.
            filed_on = self.today - datetime.timedelta(days=rng.randint(30, 9 * 365))
            file_number = f"{unit.code[:24]}-{filed_on.year}-?{index}"
        if status == HouseholdStatus.EXITED and filed_on is not None:
            exited_on = filed_on + (self.today - filed_on) * rng.randint(3, 9) // 10
            retention_until = add_years(exited_on, 10)
        return {
            "status": status,
            "file_number": file_number,
            "filed_on": filed_on,
            "exited_on": exited_on,
            "exit_kind": "recovered" if exited_on else "",
            "exit_reason": "连续六个月人均收入高于当地低保标准。" if exited_on else "",
            "retention_until": retention_until,
        }

    def _profile(
        self,
        unit: Unit,
        head: Person,
        spouse: Person | None,
        members: Members,
        status: str,
        employment: str,
        money: dict[str, Any],
    ) -> dict[str, Any]:
        """The head's particulars and the household's circumstances."""
        rng = self.rng
        last_visited_on = (
            self.today - datetime.timedelta(days=rng.randint(5, 150))
            if status == HouseholdStatus.FILED
            else None
        )
        ethnicity = ETHNICITY.pick(rng)
        political_status = POLITICAL.pick(rng)
        phone = self.phone()
        address = self.address(unit.code[:6])
        model_worker_level = MODEL_WORKER.pick(rng)
        housing_area = (
            Decimal(rng.randrange(2200, 9000, 50)) / 100
            if money["housing_type"] != "none"
            else None
        )
        rural = employment == "migrant" or rng.random() < 0.15
        marital_status = "married" if spouse else NOT_MARRIED.pick(rng)
        medical_insurance = INSURANCE.pick(rng)
        has_children = any(m.relation == Relation.CHILD for m, _role in members)
        return {
            "last_visited_on": last_visited_on,
            "name": head.name,
            "id_number": head.id_number,
            "sex": head.sex,
            "birth_date": head.birth,
            "ethnicity": ethnicity,
            "political_status": political_status,
            "phone": phone,
            "address": address,
            "model_worker_level": model_worker_level,
            "housing_area": housing_area,
            "hukou_type": "rural" if rural else "urban",
            "marital_status": marital_status,
            "single_parent": spouse is None and has_children,
            "medical_insurance": medical_insurance,
        }

    def _main_cause(self, studying: bool) -> Cause | None:
        if not self.causes:
            return None
        weighted = [
            (c, 0 if c.name == "因学" and not studying else CAUSE_WEIGHTS.get(c.name, 2))
            for c in self.causes
        ]
        if not any(weight for _c, weight in weighted):
            return self.rng.choice(self.causes)
        return Weighted(weighted).pick(self.rng)  # type: ignore[no-any-return]

    def _secondary_causes(self, main: Cause | None, studying: bool) -> list[Cause]:
        count = SECONDARY_COUNTS.pick(self.rng)
        main_id = main.pk if main else None
        pool = [c for c in self.causes if c.pk != main_id and (c.name != "因学" or studying)]
        return self.rng.sample(pool, min(count, len(pool)))

    def _health(self, cause: str, members: Members) -> tuple[str, str, str]:
        """The head's (health, disability type, grade); when the illness or
        disability is a member's, that member's health is set instead."""
        rng = self.rng
        others = [m for m, role in members if role != INFANT]
        if cause == "因病":
            if rng.random() < 0.6 or not others:
                return rng.choice([HealthStatus.CHRONIC, HealthStatus.SERIOUS]), "", ""
            rng.choice(others).health_status = rng.choice(
                [HealthStatus.CHRONIC, HealthStatus.SERIOUS]
            )
        elif cause == "因残":
            kind = rng.choice([k for k in DisabilityType.values if k])
            grade = rng.choice(["1", "2", "3", "3", "4", "4"])
            if rng.random() < 0.65 or not others:
                return HealthStatus.DISABLED, kind, grade
            rng.choice(others).health_status = HealthStatus.DISABLED
            return HealthStatus.FAIR, "", ""
        roll = rng.random()
        if roll < 0.55:
            return HealthStatus.HEALTHY, "", ""
        return (HealthStatus.FAIR if roll < 0.85 else HealthStatus.CHRONIC), "", ""

    def _note(self, cause: str) -> str:
        rng = self.rng
        if cause == "意外事故":
            return rng.choice(ACCIDENT_NOTES)
        if cause == "自然灾害":
            return "2021年“7·20”特大暴雨中房屋受损。"
        return rng.choice(OTHER_NOTES) if rng.random() < 0.05 else ""
