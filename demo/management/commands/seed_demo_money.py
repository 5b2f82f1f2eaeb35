"""`manage.py seed_demo_money`: the money side of the demo city union.

Run after `seed_demo`. Creates the programs of 郑州市总工会 (送温暖, 金秋助学,
生活救助, 医疗救助, 无息借款, 职工医疗互助), funds with their receipts and a
donation drive for one sick child, a mutual-aid cooperative, and a year of
activity in 金水区: campaign batches, single applications in every state,
bank and cash payments, one reversal, two loans (one in arrears) and
mutual-aid premiums and claims; payment verification (回访) with open and
settled problems, complaints (one overdue, one about a named cadre) and a
chair who registers a relative and recuses (回避) from that household's
application (`demo.money`).

Every application, decision, payment, repayment and premium goes through
the services, so the separation of duties, the caps, the locks and the
audit trail hold for demo data as for real work. The clock is moved to the
day each step would happen (送温暖 in January, 金秋助学 in August).

Idempotent: users, funds, programs and the cooperative are looked up and
created only when missing, receipts carry idempotency references, and the
activity is generated only while the demo programs have no application.
Like `seed_demo` it creates accounts with a published password, so it
refuses to run unless DEBUG is on or `--force` is given.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import Unit, User
from cases import clock
from demo.money.funds import funds_ensure
from demo.money.programs import cooperative_ensure, programs_ensure
from demo.money.state import MoneyDemo, S, demo_year
from demo.money.year import households_pool, year_done, year_of_work
from demo.table import table
from demo.unions import CITY, COUNTY
from demo.users import MONEY_USERS, DemoUsers, login_rows, users_ensure
from funds import services as ledger
from programs.models import Application, Batch, Loan


class Command(BaseCommand):
    help = (
        "生成帮扶资金演示数据：市总工会帮扶项目、资金与捐款、各状态的帮扶申请、"
        "银行与现金发放、冲正、无息借款和职工医疗互助（先运行 seed_demo）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--force",
            action="store_true",
            help="在 DEBUG=False 的环境中也执行（会创建公开的演示密码，切勿用于生产环境）",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "当前 DEBUG=False（生产配置），拒绝创建使用公开密码的演示账号。"
                "如确需在此环境生成演示数据，请加 --force。"
            )
        names = ["demo_caseworker", "demo_chair", "demo_finance"]
        found = {u.username: u for u in User.objects.filter(username__in=names)}
        units = {u.code: u for u in Unit.objects.filter(code__in=[CITY[0], COUNTY])}
        if len(found) < len(names) or len(units) < 2:
            raise CommandError("未找到演示工会或演示账号，请先运行 manage.py seed_demo。")
        with transaction.atomic():
            extra = users_ensure(MONEY_USERS, units)
            demo = MoneyDemo(
                year=demo_year(clock.today()),
                city=units[CITY[0]],
                county=units[COUNTY],
                worker=found["demo_caseworker"],
                chair=found["demo_chair"],
                finance=found["demo_finance"],
                city_chair=extra["demo_chair_city"][0],
                city_finance=extra["demo_finance_city"][0],
                verifier=extra["demo_verifier"][0],
            )
            demo.pool = households_pool(demo)
            funds_ensure(demo)
            programs_ensure(demo)
            cooperative_ensure(demo)
            created = not year_done(demo)
            if created:
                year_of_work(demo)
                self.stdout.write(
                    f"已生成 {demo.year} 年度帮扶资金演示业务（截至 {clock.today():%Y-%m-%d}）。"
                )
        self._report(demo, extra, units, created)

    def _report(
        self, demo: MoneyDemo, extra: DemoUsers, units: dict[str, Unit], created: bool
    ) -> None:
        programs = list(demo.programs.values())
        counts = {
            label: Application.objects.filter(program__in=programs, status=status).count()
            for status, label in S.choices
        }
        members = demo.coop.members.count() if demo.coop else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"帮扶资金演示数据就绪：{len(programs)} 个帮扶项目，"
                f"{Batch.objects.filter(program__in=programs).count()} 个批次，"
                f"{Loan.objects.filter(application__program__in=programs).count()} 笔借款，"
                f"{members} 户互助会员"
                + ("（本次新建）。" if created else "（已存在，未重复生成）。")
            )
        )
        self.stdout.write(
            "帮扶申请：" + "，".join(f"{label} {n}" for label, n in counts.items() if n)
        )
        self.stdout.write("")
        self.stdout.write(table(["所属工会", "资金", "来源", "余额（元）"], self._fund_rows(demo)))
        self.stdout.write("")
        self.stdout.write("新增演示账号：")
        header = ["用户名", "密码", "角色", "所属工会"]
        self.stdout.write(table(header, login_rows(MONEY_USERS, extra, units)))
        self.stdout.write("")
        self.stdout.write(
            "demo_chair 有待审批的申请；demo_chair_city 审批超过区级限额的申请并参加互助表决；"
            "demo_finance 有已批准待发放的申请（含一笔银行退票已冲正的）；"
            "在家庭档案页的“帮扶资金”中可看到每户的申请、到账和年度上限。"
        )

    def _fund_rows(self, demo: MoneyDemo) -> list[list[str]]:
        """Each fund with where its money came from and its balance."""
        return [
            [
                f.unit.name,
                f.name,
                "、".join(
                    f.entries.filter(source__isnull=False)
                    .order_by("source__sort_order")
                    .values_list("source__name", flat=True)
                    .distinct()
                ),
                f"{ledger.balance_of(f):,.2f}",
            ]
            for f in demo.funds.values()
        ]
