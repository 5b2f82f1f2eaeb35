"""`manage.py seed_demo`: a demo city union with users for every role.

Idempotent: units, users and memberships are looked up by code or username
and only created when missing; households are generated only while the demo
city has none. It creates accounts with a published password, so it refuses
to run unless DEBUG is on or `--force` is given.
"""

import datetime
import random
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.urls import reverse

from accounts.models import Membership, Role, Unit, UnitKind, User
from accounts.services import membership_grant, unit_create
from cases import clock, demo
from cases.models import (
    CaseRules,
    Cause,
    Helper,
    HelperPerson,
    HelperRole,
    Household,
    HouseholdStatus,
    LocalStandard,
    Tier,
)
from cases.services.followup import roster_person_for

DEMO_PASSWORD = "bangfu-demo-2025"  # noqa: S105  (published on purpose; guarded by DEBUG)
DEFAULT_HOUSEHOLDS = 300
DEFAULT_SEED = 2025

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


@dataclass(frozen=True)
class DemoUser:
    username: str
    full_name: str
    role: str
    unit_code: str


# One user per role, plus a caseworker in a second county: signed in as both,
# one sees that neither can reach the other's households.
USERS = [
    DemoUser("demo_caseworker", "张丽娟", Role.CASEWORKER, "410105"),
    DemoUser("demo_caseworker2", "刘建波", Role.CASEWORKER, "410103"),
    DemoUser("demo_chair", "陈红梅", Role.CHAIR, "410105"),
    DemoUser("demo_finance", "杜志伟", Role.FINANCE, "410105"),
    DemoUser("demo_auditor", "吴秀芳", Role.AUDITOR, "410100"),
    DemoUser("demo_admin", "方正", Role.ADMIN, "410100"),
]
# What the demo administrator may edit in the Django admin. Deliberately not
# a superuser: household files stay out of its reach there.
ADMIN_MODELS = [("accounts", "unit"), ("accounts", "membership"), ("accounts", "user"),
                ("cases", "tier"), ("cases", "cause")]  # fmt: skip


class Command(BaseCommand):
    help = "生成演示数据：郑州市总工会及下级工会、各角色演示账号和约 300 户困难职工档案。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="在 DEBUG=False 的环境中也执行（会创建公开的演示密码，切勿用于生产环境）",
        )
        parser.add_argument(
            "--households", type=int, default=DEFAULT_HOUSEHOLDS, help="演示档案户数（仅首次生成）"
        )
        parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="随机种子")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "当前 DEBUG=False（生产配置），拒绝创建使用公开密码的演示账号。"
                "如确需在此环境生成演示数据，请加 --force。"
            )
        with transaction.atomic():
            units = self._units()
            self._standard(units[CITY[0]])
            users = self._users(units)
            created = self._households(units, users, options["households"], options["seed"])
        self._report(units, users, created)

    def _units(self) -> dict[str, Unit]:
        units: dict[str, Unit] = {}
        city = self._unit(CITY[0], CITY[1], UnitKind.CITY, None)
        units[city.code] = city
        for code, name, grassroots in COUNTIES:
            county = self._unit(code, name, UnitKind.COUNTY, city)
            units[code] = county
            for child_code, child_name in grassroots:
                units[child_code] = self._unit(child_code, child_name, UnitKind.GRASSROOTS, county)
        return units

    def _standard(self, city: Unit) -> None:
        """A local minimum living standard, so the means test has one to use."""
        LocalStandard.objects.get_or_create(
            unit=city,
            effective_from=datetime.date(2025, 1, 1),
            defaults={"amount": Decimal("870.00"), "note": "演示数据：城市居民最低生活保障标准"},
        )

    def _unit(self, code: str, name: str, kind: str, parent: Unit | None) -> Unit:
        unit = Unit.objects.filter(code=code).first()
        if unit is None:
            return unit_create(actor=None, code=code, name=name, kind=kind, parent=parent)
        if parent is not None and not parent.covers(unit):
            self.stderr.write(f"注意：已有单位代码 {code}（{unit.name}）不在 {parent.name} 之下。")
        return unit

    def _users(self, units: dict[str, Unit]) -> dict[str, tuple[User, bool]]:
        """Each demo user, with whether the demo password still opens it."""
        users: dict[str, tuple[User, bool]] = {}
        for spec in USERS:
            user = User.objects.filter(username=spec.username).first()
            if user is None:
                user = User(username=spec.username, full_name=spec.full_name)
                user.set_password(DEMO_PASSWORD)
                user.save()
                usable = True
            else:
                usable = user.check_password(DEMO_PASSWORD)
            unit = units[spec.unit_code]
            if not Membership.objects.filter(user=user, unit=unit, role=spec.role).exists():
                membership_grant(actor=None, user=user, unit=unit, role=spec.role)
            if spec.role == Role.ADMIN:
                self._make_staff(user)
            users[spec.username] = (user, usable)
        return users

    def _make_staff(self, user: User) -> None:
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        content_types = [ContentType.objects.get_by_natural_key(*m) for m in ADMIN_MODELS]
        user.user_permissions.add(*Permission.objects.filter(content_type__in=content_types))

    def _households(
        self, units: dict[str, Unit], users: dict[str, tuple[User, bool]], count: int, seed: int
    ) -> int:
        city = units[CITY[0]]
        if count <= 0 or Household.objects.filter(unit__path__startswith=city.path).exists():
            return 0
        if not Tier.objects.exists() or not Cause.objects.exists():
            self.stderr.write("注意：困难类别或致困原因为空，生成的档案将不带类别或原因。")
        # Households are filed in the county and grassroots unions, not the city.
        targets = [u for u in units.values() if u.pk != city.pk]
        filers = {}
        for spec in USERS:
            if spec.role == Role.CASEWORKER:
                home = units[spec.unit_code]
                filers.update({u.pk: users[spec.username][0] for u in targets if home.covers(u)})
        report = demo.households_insert(count=count, units=targets, seed=seed, created_by=filers)
        self._helpers(users, seed)
        # A notice whose period is over (七确认 can be tried at once) and a
        # case waiting for 五评, in the demo caseworker's and chair's county.
        demo.intake_examples(
            worker=users["demo_caseworker"][0],
            chair=users["demo_chair"][0],
            unit=units["410105"],
        )
        return report.households

    def _helpers(self, users: dict[str, tuple[User, bool]], seed: int) -> None:
        """Pair each demo caseworker with filed households of her county, some
        of them overdue for a visit, so 我的帮扶户 and 走访逾期 have content."""
        rng = random.Random(seed)
        interval = CaseRules.current().visit_interval_months
        today = clock.today()
        rows = []
        people: dict[tuple[int, int], HelperPerson] = {}
        for spec in USERS:
            if spec.role != Role.CASEWORKER:
                continue
            user = users[spec.username][0]
            home = Unit.objects.get(code=spec.unit_code)
            filed = Household.objects.filter(
                unit__path__startswith=home.path, status=HouseholdStatus.FILED
            ).order_by("id")[:40]
            for household in filed:
                start = household.filed_on or today
                # Two in five were last seen longer ago than the visit interval.
                gap = (
                    rng.randint(interval * 31 + 5, interval * 31 + 90)
                    if rng.random() < 0.4
                    else (rng.randint(3, interval * 28))
                )
                last = max(start, today - datetime.timedelta(days=gap))
                key = (household.unit_id, user.pk)
                if key not in people:
                    people[key] = roster_person_for(unit=household.unit, user=user)
                person = people[key]
                rows.append(
                    Helper(
                        household=household,
                        person=person,
                        user=user,
                        role=HelperRole.UNION_CADRE,
                        is_first=True,
                        start_on=start,
                        last_visited_on=last,
                    )
                )
        Helper.objects.bulk_create(rows)

    def _report(
        self, units: dict[str, Unit], users: dict[str, tuple[User, bool]], created: int
    ) -> None:
        city = units[CITY[0]]
        households = Household.objects.filter(unit__path__startswith=city.path).count()
        self.stdout.write(
            self.style.SUCCESS(
                f"演示数据就绪：{len(units)} 个工会，{len(users)} 个演示账号，"
                f"{households} 户档案（本次新建 {created} 户）。"
            )
        )
        login = reverse("accounts:login")
        header = ["登录地址", "用户名", "密码", "角色", "所属工会"]
        rows = []
        for spec in USERS:
            user, usable = users[spec.username]
            password = DEMO_PASSWORD if usable else "（已修改，非演示密码）"
            role = f"{spec.role} {Role(spec.role).label}"
            rows.append([login, user.username, password, role, units[spec.unit_code].name])
        self.stdout.write("")
        self.stdout.write(_table(header, rows))
        self.stdout.write("")
        self.stdout.write(
            "demo_chair 的“待办”里有公示期已满、可确认建档的家庭和待评定的家庭；"
            "demo_admin 可进入 /admin/ 管理工会、用户、任职角色、困难类别和致困原因；"
            "以上账号仅供本机演示，切勿用于生产环境。"
        )


def _width(text: str) -> int:
    """Columns a string takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(_pad(cell, w) for cell, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)))
    return "\n".join(line.rstrip() for line in lines)
