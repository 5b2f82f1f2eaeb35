"""The demo's funds and the money that came into them: the city's
allocation, grants to the county, a donation drive for one sick child and
the mutual-aid fund. Receipts carry idempotency references."""

import datetime
from typing import Any

from accounts.models import Unit, User
from cases.models import Household, Member
from funds import services as ledger
from funds.models import Fund, PayerKind, Restriction

from ..clock import on_day
from .state import MoneyDemo

day = datetime.date
DRIVE = "情暖金水·爱心助医募捐"
WELL_WISHER = "爱心人士（不愿具名）"


def funds_ensure(demo: MoneyDemo) -> None:
    """Each fund created when missing, with its receipts; picks the sick
    child's household the drive is for."""
    demo.funds["city"] = _city_fund(demo)
    demo.funds["grant"] = _grant(demo)
    demo.sick = _sick_child(demo.pool)
    demo.funds["drive"] = _drive(demo, demo.sick)
    demo.funds["coop"] = _coop_fund(demo)


def _city_fund(demo: MoneyDemo) -> Fund:
    y = demo.year
    fund = _fund(demo, demo.city_finance, demo.city, "市总工会困难职工帮扶资金")
    _receipt(
        demo.city_finance,
        fund,
        "city-1",
        "500000",
        f"郑州市财政行政划拨{y}年度困难职工帮扶资金",
        day(y, 1, 6),
        source="admin_allocation",
        payer="郑州市财政局",
        receipt_number=f"ZZCZ-{y}-0012",
    )
    return fund


def _grant(demo: MoneyDemo) -> Fund:
    y = demo.year
    grant = _fund(demo, demo.finance, demo.county, "市总下拨帮扶资金")
    _receipt(
        demo.finance,
        grant,
        "grant-1",
        "200000",
        f"郑州市总工会拨付{y}年度帮扶资金",
        day(y, 1, 10),
        source="higher_grant",
        payer="郑州市总工会",
        receipt_number=f"ZZGH-{y}-0031",
    )
    _receipt(
        demo.finance,
        grant,
        "grant-2",
        "100000",
        f"郑州市总工会拨付{y}年金秋助学配套资金",
        day(y, 7, 20),
        source="higher_grant",
        payer="郑州市总工会",
        receipt_number=f"ZZGH-{y}-0207",
    )
    return grant


def _drive(demo: MoneyDemo, sick: Household) -> Fund:
    """A drive restricted to one household, with five donors."""
    y = demo.year
    drive = _fund(
        demo,
        demo.finance,
        demo.county,
        f"情暖金水·{sick.name}家孩子治病爱心募捐",
        restriction=Restriction.HOUSEHOLD,
        restricted_household=sick,
    )
    donors = [
        ("金水区环境卫生管理处全体职工", "12600", day(y, 3, 2)),
        ("河南省建设集团第一分公司", "10000", day(y, 3, 4)),
        ("金水区商贸流通行业联合工会会员", "6850.50", day(y, 3, 6)),
        ("郑州市慈善总会金水分会", "5000", day(y, 3, 9)),
        (WELL_WISHER, "2000", day(y, 3, 11)),
    ]
    for i, (donor, amount, when) in enumerate(donors, start=1):
        # Companies and their staff give as units, a well-wisher as a person.
        person = donor == WELL_WISHER
        _receipt(
            demo.finance,
            drive,
            f"drive-{i}",
            amount,
            f"{DRIVE}：{donor}捐款",
            when,
            source="individual" if person else "donation",
            payer=donor,
            payer_kind=PayerKind.PERSON if person else PayerKind.UNIT,
            donor=donor,
            campaign=DRIVE,
            receipt_number=f"JSJZ-{demo.year}-{i:04d}",
        )
    return drive


def _coop_fund(demo: MoneyDemo) -> Fund:
    fund = _fund(demo, demo.city_finance, demo.city, "职工医疗互助金")
    _receipt(
        demo.city_finance,
        fund,
        "coop-1",
        "30000",
        "市总工会拨付职工医疗互助启动资金",
        day(demo.year, 1, 3),
        source="admin_allocation",
        payer="郑州市总工会",
        receipt_number=f"ZZGH-{demo.year}-0002",
    )
    return fund


def _sick_child(pool: list[Household]) -> Household:
    """The household the donation drive is for: one with a child."""
    with_child = set(
        Member.objects.filter(
            household__in=pool, relation="child", birth_date__isnull=False
        ).values_list("household_id", flat=True)
    )
    for household in pool:
        if household.pk in with_child:
            return household
    return pool[0]


def _fund(demo: MoneyDemo, actor: User, unit: Unit, name: str, **extra: Any) -> Fund:
    fund = Fund.objects.filter(unit=unit, name=name).order_by("-year").first()
    if fund is None:
        fund = ledger.fund_create(actor=actor, unit=unit, name=name, year=demo.year, **extra)
    return fund


def _receipt(
    actor: User,
    fund: Fund,
    key: str,
    amount: str,
    memo: str,
    when: datetime.date,
    *,
    source: str,
    payer: str,
    payer_kind: str = PayerKind.UNIT,
    **extra: Any,
) -> None:
    # Recorded on the day the money arrived, as a clerk would.
    with on_day(when):
        ledger.receipt_post(
            actor=actor,
            fund=fund,
            amount=amount,
            memo=memo,
            source=source,
            payer_kind=payer_kind,
            payer=payer,
            occurred_on=when,
            reference=f"demo-money:{key}",
            **extra,
        )
