"""The city union's aid programs, with their standards per tier and the
approval limits per level, and its mutual-aid cooperative.

Each program has an English name, so the demo in English shows one.
"""

from dataclasses import dataclass, field
from decimal import Decimal as D

from cases.models import Tier
from programs.models import (
    ApprovalThreshold,
    Category,
    Cooperative,
    Kind,
    Program,
    StandardAmount,
)

from .state import MoneyDemo


@dataclass(frozen=True)
class ProgramSpec:
    name: str
    name_en: str
    category: str
    kind: str
    funds: list[str]
    # Standard amount per national tier category; approval limit per level.
    amounts: dict[str, str] = field(default_factory=dict)
    limits: dict[str, str] = field(default_factory=dict)
    window_start: str = ""
    window_end: str = ""
    cap_rule: str = ""


PROGRAMS = {
    "festival": ProgramSpec(
        "春节送温暖",
        "Spring Festival Sending Warmth",
        Category.FESTIVAL,
        Kind.CASH,
        ["city", "grant"],
        amounts={"deep": "1000", "relative": "800", "accident": "800", "edge": "500"},
        limits={"county": "2000", "grassroots": "1000"},
    ),
    "school": ProgramSpec(
        "金秋助学",
        "Golden Autumn Education Aid",
        Category.SCHOOL,
        Kind.CASH,
        ["city", "grant"],
        amounts={"deep": "3000", "relative": "2000", "accident": "2000", "edge": "1500"},
        limits={"county": "3000", "grassroots": "2000"},
        window_start="08-01",
        window_end="09-30",
        cap_rule="ten_months",
    ),
    "living": ProgramSpec(
        "困难职工生活救助",
        "Living assistance for workers in hardship",
        Category.LIVING,
        Kind.CASH,
        ["city", "grant"],
        limits={"county": "5000", "grassroots": "3000"},
        cap_rule="dibao_annual",
    ),
    "medical": ProgramSpec(
        "大病医疗救助",
        "Serious illness medical assistance",
        Category.MEDICAL,
        Kind.CASH,
        ["city", "grant", "drive"],
        limits={"county": "10000", "grassroots": "5000"},
        cap_rule="out_of_pocket",
    ),
    "loan": ProgramSpec(
        "创业无息借款",
        "Interest-free start-up loans",
        Category.LOAN,
        Kind.LOAN,
        ["grant"],
        limits={"county": "20000", "grassroots": "10000"},
    ),
    "mutual": ProgramSpec(
        "职工医疗互助",
        "Workers' medical mutual aid",
        Category.MUTUAL_MEDICAL,
        Kind.CASH,
        ["coop"],
    ),
}


def programs_ensure(demo: MoneyDemo) -> None:
    demo.programs.update({key: _program(demo, spec) for key, spec in PROGRAMS.items()})


def _program(demo: MoneyDemo, spec: ProgramSpec) -> Program:
    """The program, created when missing; what it lacks is added."""
    optional = {
        "window_start": spec.window_start,
        "window_end": spec.window_end,
        "cap_rule": spec.cap_rule,
    }
    program, _ = Program.objects.get_or_create(
        unit=demo.city,
        name=spec.name,
        defaults={
            "name_en": spec.name_en,
            "category": spec.category,
            "kind": spec.kind,
            **{k: v for k, v in optional.items() if v},
        },
    )
    if not program.name_en:  # made before programs had English names
        program.name_en = spec.name_en
        program.save(update_fields=["name_en"])
    program.funds.add(*(demo.funds[f] for f in spec.funds))
    # Standards per tier by national category, so renamed tiers still get one.
    for tier in Tier.objects.filter(is_active=True):
        amount = spec.amounts.get(tier.national_category)
        if amount is not None:
            StandardAmount.objects.get_or_create(
                program=program, tier=tier, defaults={"amount": D(amount)}
            )
    for unit_kind, limit in spec.limits.items():
        ApprovalThreshold.objects.get_or_create(
            program=program, unit_kind=unit_kind, defaults={"amount": D(limit)}
        )
    return program


def cooperative_ensure(demo: MoneyDemo) -> None:
    coop, _ = Cooperative.objects.get_or_create(
        unit=demo.city,
        name="郑州市职工医疗互助会",
        defaults={
            "fund": demo.funds["coop"],
            "program": demo.programs["mutual"],
            "first_premium": D("120"),
            "yearly_premium": D("100"),
        },
    )
    coop.committee.add(demo.chair, demo.city_chair)
    demo.coop = coop
