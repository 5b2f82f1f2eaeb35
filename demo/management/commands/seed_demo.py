"""`manage.py seed_demo`: a demo city union with users for every role.

Idempotent: units, users and memberships are looked up by code or username
and only created when missing; households are generated only while the demo
city has none. It creates accounts with a published password, so it refuses
to run unless DEBUG is on or `--force` is given.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.urls import reverse

from accounts.models import Role, Unit
from cases.models import Cause, Household, Tier
from demo.bulk import households_insert
from demo.followup import helpers_assign
from demo.intake import intake_examples
from demo.table import table
from demo.unions import CITY, COUNTY, standard_ensure, units_ensure
from demo.users import USERS, DemoUsers, login_rows, users_ensure

DEFAULT_HOUSEHOLDS = 300
DEFAULT_SEED = 2025


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
            units = units_ensure(self.stderr.write)
            standard_ensure(units[CITY[0]])
            users = users_ensure(USERS, units)
            created = self._households(units, users, options["households"], options["seed"])
        self._report(units, users, created)

    def _households(self, units: dict[str, Unit], users: DemoUsers, count: int, seed: int) -> int:
        """Files, helpers and intake examples, only while the city has none."""
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
        report = households_insert(count=count, units=targets, seed=seed, created_by=filers)
        helpers_assign(users, seed)
        # A notice whose period is over (七确认 can be tried at once) and a
        # case waiting for 五评, in the demo caseworker's and chair's county.
        intake_examples(
            worker=users["demo_caseworker"][0], chair=users["demo_chair"][0], unit=units[COUNTY]
        )
        return report.households

    def _report(self, units: dict[str, Unit], users: DemoUsers, created: int) -> None:
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
        rows = [[login, *row] for row in login_rows(USERS, users, units)]
        self.stdout.write("")
        self.stdout.write(table(header, rows))
        self.stdout.write("")
        self.stdout.write(
            "demo_chair 的“待办”里有公示期已满、可确认建档的家庭和待评定的家庭；"
            "demo_admin 可进入 /admin/ 管理工会、用户、任职角色、困难类别和致困原因；"
            "以上账号仅供本机演示，切勿用于生产环境。"
        )
