"""The demo city union, its county and grassroots unions, and the local
minimum living standard the means test reads."""

import datetime
from collections.abc import Callable
from decimal import Decimal

from accounts.models import Unit, UnitKind
from accounts.services import unit_create
from cases.models import LocalStandard

CITY = ("410100", "郑州市总工会")
# County unions and their grassroots unions; the codes follow the district
# area codes, so generated addresses land in the right district.
COUNTIES: list[tuple[str, str, list[tuple[str, str]]]] = [
    ("410105", "金水区总工会", [
        ("410105001", "金水区环境卫生管理处工会"),
        ("410105002", "河南省建设集团第一分公司工会"),
        ("410105003", "金水区商贸流通行业联合工会"),
    ]),
    ("410103", "二七区总工会", [
        ("410103001", "郑州二七纺织机械厂工会"),
        ("410103002", "二七区德化街商圈联合工会"),
    ]),
    ("410102", "中原区总工会", [
        ("410102001", "郑州国棉三厂工会"),
        ("410102002", "郑州煤矿机械集团工会"),
        ("410102003", "中原区物业服务行业联合工会"),
    ]),
    ("410104", "管城回族区总工会", [
        ("410104001", "郑州公交集团第三分公司工会"),
        ("410104002", "管城回族区快递物流行业联合工会"),
    ]),
]  # fmt: skip
# 金水区总工会: where the demo caseworker, chair and finance work.
COUNTY = "410105"

Warn = Callable[[str], object]


def units_ensure(warn: Warn) -> dict[str, Unit]:
    """The demo unions by code, each created only when its code is unused."""
    units: dict[str, Unit] = {}
    city = _unit(CITY[0], CITY[1], UnitKind.CITY, None, warn)
    units[city.code] = city
    for code, name, grassroots in COUNTIES:
        county = _unit(code, name, UnitKind.COUNTY, city, warn)
        units[code] = county
        for child_code, child_name in grassroots:
            units[child_code] = _unit(child_code, child_name, UnitKind.GRASSROOTS, county, warn)
    return units


def _unit(code: str, name: str, kind: str, parent: Unit | None, warn: Warn) -> Unit:
    unit = Unit.objects.filter(code=code).first()
    if unit is None:
        return unit_create(actor=None, code=code, name=name, kind=kind, parent=parent)
    if parent is not None and not parent.covers(unit):
        warn(f"注意：已有单位代码 {code}（{unit.name}）不在 {parent.name} 之下。")
    return unit


def standard_ensure(city: Unit) -> None:
    """A local minimum living standard, so the means test has one to use."""
    LocalStandard.objects.get_or_create(
        unit=city,
        effective_from=datetime.date(2025, 1, 1),
        defaults={"amount": Decimal("870.00"), "note": "演示数据：城市居民最低生活保障标准"},
    )
