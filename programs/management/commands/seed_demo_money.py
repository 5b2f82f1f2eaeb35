"""`manage.py seed_demo_money`: the money side of the demo city union.

Run after `seed_demo`. Creates the programs of 郑州市总工会 (送温暖, 金秋助学,
生活救助, 医疗救助, 无息借款, 职工医疗互助), funds with their receipts and a
donation drive for one sick child, a mutual-aid cooperative, and a year of
activity in 金水区: campaign batches, single applications in every state,
bank and cash payments, one reversal, two loans (one in arrears) and
mutual-aid premiums and claims.

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

import datetime
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal as D
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from accounts.models import Membership, Role, Unit, User
from accounts.services import membership_grant
from cases import clock, idnumber
from cases.management.commands.seed_demo import CITY, DEMO_PASSWORD, DemoUser, _table
from cases.models import Household, HouseholdStatus, Member, Tier
from cases.services.lifecycle import noncash_help_record
from funds import services as ledger
from funds.models import Fund, PayerKind, Restriction

from ...models import (
    AidPayment,
    Application,
    ApplicationStatus,
    ApprovalThreshold,
    Batch,
    Category,
    Cooperative,
    CoopMember,
    Kind,
    Loan,
    PaymentMethod,
    PremiumKind,
    Program,
    StandardAmount,
)
from ...services import applications, batches, loans, mutual, payments

S = ApplicationStatus
COUNTY = "410105"  # 金水区总工会: where the demo caseworker, chair and finance work
SANITATION = "410105001"  # 金水区环境卫生管理处工会: the 送温暖 batch
BUILDERS = "410105002"  # 河南省建设集团第一分公司工会: 金秋助学 paid in cash
MIN_HOUSEHOLDS = 20

# The city union's chair approves above the county's limits (and sits on the
# mutual-aid committee); its finance officer keeps the city's funds.
USERS = [
    DemoUser("demo_chair_city", "高建华", Role.CHAIR, CITY[0]),
    DemoUser("demo_finance_city", "孙丽萍", Role.FINANCE, CITY[0]),
]


def _png_sheet() -> bytes:
    """A small grey PNG standing in for a photographed signed sheet: a ruled
    table with a scribble in the signature column. Built by hand so the demo
    needs no imaging library."""
    width, height = 240, 160
    rows = []
    for y in range(height):
        row = bytearray()
        for x in range(width):
            ruled = y % 20 == 0 or x in (0, 60, 160, 239) or y == height - 1
            scribble = 170 < x < 230 and y % 20 > 4 and abs((x * 7 + y * 3) % 23 - 11) < 2
            row.append(40 if ruled or scribble else 245)
        rows.append(b"\x00" + bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


SHEET = _png_sheet()


def _sheet(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"{name}.png", SHEET, content_type="image/png")


@contextmanager
def on_day(day: datetime.date) -> Iterator[None]:
    """Do what follows as if it were `day`: dates, windows and the ledger."""
    with clock.travel(day - clock.today()):
        yield


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
        self.units = units
        self.worker = found["demo_caseworker"]
        self.chair = found["demo_chair"]
        self.finance = found["demo_finance"]
        today = clock.today()
        # The demo year is the latest one whose 金秋助学 round is over.
        self.year = today.year if today >= datetime.date(today.year, 9, 10) else today.year - 1
        with transaction.atomic():
            self.extra = self._users()
            self.city_chair = self.extra["demo_chair_city"][0]
            self.city_finance = self.extra["demo_finance_city"][0]
            self.pool = self._households()
            self.funds = self._funds()
            self.programs = self._programs()
            self.coop = self._cooperative()
            created = not Application.objects.filter(program__in=self.programs.values()).exists()
            if created:
                self._activity()
        self._report(created)

    # -- users -------------------------------------------------------------------

    def _users(self) -> dict[str, tuple[User, bool]]:
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
            unit = self.units[spec.unit_code]
            if not Membership.objects.filter(user=user, unit=unit, role=spec.role).exists():
                membership_grant(actor=None, user=user, unit=unit, role=spec.role)
            users[spec.username] = (user, usable)
        return users

    def _households(self) -> list[Household]:
        """金水区's filed households, filed before the demo year began."""
        county = self.units[COUNTY]
        filed = Household.objects.filter(
            unit__path__startswith=county.path, status=HouseholdStatus.FILED
        ).select_related("unit", "tier")
        pool = list(filed.filter(filed_on__lt=datetime.date(self.year, 1, 1)).order_by("id"))
        if len(pool) < MIN_HOUSEHOLDS:
            pool = list(filed.order_by("id"))
        if len(pool) < MIN_HOUSEHOLDS:
            raise CommandError(
                f"金水区总工会已建档家庭不足 {MIN_HOUSEHOLDS} 户，"
                "请先运行 manage.py seed_demo（默认生成 300 户）。"
            )
        return pool

    # -- funds -------------------------------------------------------------------

    def _fund(self, actor: User, unit: Unit, name: str, **extra: Any) -> Fund:
        fund = Fund.objects.filter(unit=unit, name=name).order_by("-year").first()
        if fund is None:
            fund = ledger.fund_create(actor=actor, unit=unit, name=name, year=self.year, **extra)
        return fund

    def _receipt(
        self,
        actor: User,
        fund: Fund,
        key: str,
        amount: str,
        memo: str,
        day: datetime.date,
        *,
        source: str,
        payer: str,
        payer_kind: str = PayerKind.UNIT,
        **extra: Any,
    ) -> None:
        # Recorded on the day the money arrived, as a clerk would.
        with on_day(day):
            ledger.receipt_post(
                actor=actor,
                fund=fund,
                amount=amount,
                memo=memo,
                source=source,
                payer_kind=payer_kind,
                payer=payer,
                occurred_on=day,
                reference=f"demo-money:{key}",
                **extra,
            )

    def _sick_child(self) -> Household:
        """The household the donation drive is for: one with a child."""
        with_child = set(
            Member.objects.filter(
                household__in=self.pool, relation="child", birth_date__isnull=False
            ).values_list("household_id", flat=True)
        )
        for household in self.pool:
            if household.pk in with_child:
                return household
        return self.pool[0]

    def _funds(self) -> dict[str, Fund]:
        y = self.year
        city, county = self.units[CITY[0]], self.units[COUNTY]
        day = datetime.date
        city_fund = self._fund(self.city_finance, city, "市总工会困难职工帮扶资金")
        self._receipt(
            self.city_finance,
            city_fund,
            "city-1",
            "500000",
            f"郑州市财政行政划拨{y}年度困难职工帮扶资金",
            day(y, 1, 6),
            source="admin_allocation",
            payer="郑州市财政局",
            receipt_number=f"ZZCZ-{y}-0012",
        )
        grant = self._fund(self.finance, county, "市总下拨帮扶资金")
        self._receipt(
            self.finance,
            grant,
            "grant-1",
            "200000",
            f"郑州市总工会拨付{y}年度帮扶资金",
            day(y, 1, 10),
            source="higher_grant",
            payer="郑州市总工会",
            receipt_number=f"ZZGH-{y}-0031",
        )
        self._receipt(
            self.finance,
            grant,
            "grant-2",
            "100000",
            f"郑州市总工会拨付{y}年金秋助学配套资金",
            day(y, 7, 20),
            source="higher_grant",
            payer="郑州市总工会",
            receipt_number=f"ZZGH-{y}-0207",
        )
        self.sick = self._sick_child()
        drive = self._fund(
            self.finance,
            county,
            f"情暖金水·{self.sick.name}家孩子治病爱心募捐",
            restriction=Restriction.HOUSEHOLD,
            restricted_household=self.sick,
        )
        campaign = "情暖金水·爱心助医募捐"
        donors = [
            ("金水区环境卫生管理处全体职工", "12600", day(y, 3, 2)),
            ("河南省建设集团第一分公司", "10000", day(y, 3, 4)),
            ("金水区商贸流通行业联合工会会员", "6850.50", day(y, 3, 6)),
            ("郑州市慈善总会金水分会", "5000", day(y, 3, 9)),
            ("爱心人士（不愿具名）", "2000", day(y, 3, 11)),
        ]
        for i, (donor, amount, when) in enumerate(donors, start=1):
            self._receipt(
                self.finance,
                drive,
                f"drive-{i}",
                amount,
                f"{campaign}：{donor}捐款",
                when,
                # Companies and their staff give as units, a well-wisher as a person.
                source="individual" if "爱心人士" in donor else "donation",
                payer=donor,
                payer_kind=PayerKind.PERSON if "爱心人士" in donor else PayerKind.UNIT,
                donor=donor,
                campaign=campaign,
                receipt_number=f"JSJZ-{y}-{i:04d}",
            )
        coop_fund = self._fund(self.city_finance, city, "职工医疗互助金")
        self._receipt(
            self.city_finance,
            coop_fund,
            "coop-1",
            "30000",
            "市总工会拨付职工医疗互助启动资金",
            day(y, 1, 3),
            source="admin_allocation",
            payer="郑州市总工会",
            receipt_number=f"ZZGH-{y}-0002",
        )
        return {"city": city_fund, "grant": grant, "drive": drive, "coop": coop_fund}

    # -- programs ------------------------------------------------------------------

    def _program(
        self,
        name: str,
        category: str,
        kind: str,
        funds: list[str],
        amounts: dict[str, str] | None = None,
        limits: dict[str, str] | None = None,
        **fields: Any,
    ) -> Program:
        program, _ = Program.objects.get_or_create(
            unit=self.units[CITY[0]],
            name=name,
            defaults={"category": category, "kind": kind, **fields},
        )
        program.funds.add(*(self.funds[f] for f in funds))
        # Standards per tier by national category, so renamed tiers still get one.
        for tier in Tier.objects.filter(is_active=True):
            amount = (amounts or {}).get(tier.national_category)
            if amount is not None:
                StandardAmount.objects.get_or_create(
                    program=program, tier=tier, defaults={"amount": D(amount)}
                )
        for unit_kind, amount in (limits or {}).items():
            ApprovalThreshold.objects.get_or_create(
                program=program, unit_kind=unit_kind, defaults={"amount": D(amount)}
            )
        return program

    def _programs(self) -> dict[str, Program]:
        cash = Kind.CASH
        return {
            "festival": self._program(
                "春节送温暖",
                Category.FESTIVAL,
                cash,
                ["city", "grant"],
                amounts={"deep": "1000", "relative": "800", "accident": "800", "edge": "500"},
                limits={"county": "2000", "grassroots": "1000"},
            ),
            "school": self._program(
                "金秋助学",
                Category.SCHOOL,
                cash,
                ["city", "grant"],
                amounts={"deep": "3000", "relative": "2000", "accident": "2000", "edge": "1500"},
                limits={"county": "3000", "grassroots": "2000"},
                window_start="08-01",
                window_end="09-30",
                cap_rule="ten_months",
            ),
            "living": self._program(
                "困难职工生活救助",
                Category.LIVING,
                cash,
                ["city", "grant"],
                limits={"county": "5000", "grassroots": "3000"},
                cap_rule="dibao_annual",
            ),
            "medical": self._program(
                "大病医疗救助",
                Category.MEDICAL,
                cash,
                ["city", "grant", "drive"],
                limits={"county": "10000", "grassroots": "5000"},
                cap_rule="out_of_pocket",
            ),
            "loan": self._program(
                "创业无息借款",
                Category.LOAN,
                Kind.LOAN,
                ["grant"],
                limits={"county": "20000", "grassroots": "10000"},
            ),
            "mutual": self._program("职工医疗互助", Category.MUTUAL_MEDICAL, cash, ["coop"]),
        }

    def _cooperative(self) -> Cooperative:
        coop, _ = Cooperative.objects.get_or_create(
            unit=self.units[CITY[0]],
            name="郑州市职工医疗互助会",
            defaults={
                "fund": self.funds["coop"],
                "program": self.programs["mutual"],
                "first_premium": D("120"),
                "yearly_premium": D("100"),
            },
        )
        coop.committee.add(self.chair, self.city_chair)
        return coop

    # -- a year of activity ------------------------------------------------------------

    def _take(self) -> Household:
        """A household no other demo application has used yet."""
        return self.pool.pop(0)

    def _draft(
        self, household: Household, program: str, amount: str, reason: str, **fields: Any
    ) -> Application:
        program_obj = self.programs[program]
        standard = next(
            (a.amount for a in program_obj.amounts.all() if a.tier_id == household.tier_id), None
        )
        if standard is not None and D(amount) != standard:
            fields.setdefault("amount_reason", "按家庭实际困难程度调整")
        return applications.application_draft(
            actor=self.worker,
            household=household,
            program=program_obj,
            amount=amount,
            reason=reason,
            **fields,
        )

    def _approve(self, application: Application, note: str = "") -> Application:
        """The county chair decides; above its limit the city chair as well."""
        application = applications.application_decide(
            actor=self.chair, application=application, approve=True, note=note
        )
        if application.status == S.PENDING_PARENT:
            application = applications.application_decide(
                actor=self.city_chair, application=application, approve=True, note="同意"
            )
        return application

    def _pay(
        self,
        application: Application,
        fund: str,
        *,
        by: User | None = None,
        method: str = PaymentMethod.BANK,
    ) -> AidPayment:
        sheet = _sheet("现金发放签收表") if method != PaymentMethod.BANK else None
        return payments.aid_pay(
            actor=by or self.finance,
            application=application,
            fund=self.funds[fund],
            method=method,
            signed_sheet=sheet,
        )

    def _activity(self) -> None:
        y = self.year
        self.pool = [h for h in self.pool if h.pk != self.sick.pk]
        self._festival(y)
        self._living_and_medical(y)
        self._loans(y)
        self._mutual(y)
        self._school(y)
        self._now()
        self.stdout.write(f"已生成 {y} 年度帮扶资金演示业务（截至 {clock.today():%Y-%m-%d}）。")

    def _festival(self, y: int) -> None:
        with on_day(datetime.date(y, 1, 15)):
            batch, _skipped = batches.batch_create(
                actor=self.worker,
                unit=Unit.objects.get(code=SANITATION),
                program=self.programs["festival"],
                title=f"{y}年春节送温暖（环卫处工会）",
            )
            batches.batch_submit(actor=self.worker, batch=batch)
        with on_day(datetime.date(y, 1, 17)):
            batches.batch_decide(actor=self.chair, batch=batch, approve=True, note="同意")
            if batch.lines.filter(status=S.PENDING_PARENT).exists():
                batches.batch_decide(actor=self.city_chair, batch=batch, approve=True, note="同意")
        with on_day(datetime.date(y, 1, 20)):
            approved = list(batch.lines.filter(status=S.APPROVED).order_by("pk"))
            payments.payment_batch_create(
                actor=self.finance,
                fund=self.funds["grant"],
                method=PaymentMethod.BANK,
                applications=approved,
                title=f"{y}年春节送温暖银行代发（环卫处工会）",
            )
        # Those households are taken: the single applications below use others.
        taken = set(batch.lines.values_list("household_id", flat=True))
        rest = [h for h in self.pool if h.pk not in taken]
        if len(rest) >= MIN_HOUSEHOLDS - 4:
            self.pool = rest

    def _living_and_medical(self, y: int) -> None:
        day = datetime.date
        with on_day(day(y, 3, 10)):
            living = [
                self._draft(
                    self._take(), "living", "3000", "妻子长期患病无业，家庭收入低于低保标准"
                ),
                self._draft(self._take(), "living", "2400", "下岗后灵活就业收入不稳定，子女在读"),
                self._draft(self._take(), "living", "3600", "本人残疾，老人常年卧床需照护"),
            ]
            living = [self._approve(a) for a in living]
        with on_day(day(y, 3, 15)):
            self._pay(living[0], "grant")
            self._pay(living[1], "grant")
            self._pay(living[2], "grant", method=PaymentMethod.CASH)
        with on_day(day(y, 4, 20)):
            sick = self._draft(
                self.sick,
                "medical",
                "20000",
                "女儿住院治疗，医保报销后个人自付费用较高，社会爱心捐款定向救助",
                out_of_pocket="86000",
            )
            sick = self._approve(sick, note="情况属实，同意救助")
        with on_day(day(y, 4, 25)):
            self._pay(sick, "drive")
        with on_day(day(y, 5, 12)):
            other = self._draft(
                self._take(),
                "medical",
                "6000",
                "本人手术住院，医保报销后自付部分",
                out_of_pocket="15000",
            )
            other = self._approve(other)
        with on_day(day(y, 5, 18)):
            self._pay(other, "grant")

    def _loans(self, y: int) -> None:
        day = datetime.date
        with on_day(day(y, 1, 22)):
            small = self._approve(
                self._draft(self._take(), "loan", "8000", "购置缝纫设备，承接服装来料加工")
            )
        with on_day(day(y, 2, 1)):
            settled = loans.loan_disburse(
                actor=self.finance,
                application=small,
                fund=self.funds["grant"],
                method=PaymentMethod.BANK,
                term_months=4,
                first_due_on=day(y, 3, 1),
            )
        with on_day(day(y, 3, 25)):
            big = self._approve(
                self._draft(self._take(), "loan", "30000", "开办社区早餐店，购置设备及首月房租")
            )
        with on_day(day(y, 4, 1)):
            active = loans.loan_disburse(
                actor=self.finance,
                application=big,
                fund=self.funds["grant"],
                method=PaymentMethod.BANK,
                term_months=12,
                first_due_on=day(y, 5, 1),
            )
        # Each repayment recorded on the day it was paid, as a clerk would.
        for month in (3, 4, 5, 6):
            with on_day(day(y, month, 1)):
                loans.repayment_record(
                    actor=self.finance, loan=settled, amount="2000", paid_on=day(y, month, 1)
                )
        # Three months repaid, then nothing: the rest falls into arrears.
        for paid_on in (day(y, 5, 1), day(y, 6, 2), day(y, 7, 3)):
            with on_day(paid_on):
                loans.repayment_record(
                    actor=self.finance, loan=active, amount="2500", paid_on=paid_on
                )

    def _mutual(self, y: int) -> None:
        day = datetime.date
        members: list[CoopMember] = []
        with on_day(day(y, 1, 5)):
            for household in self.pool[:8]:
                members.append(
                    mutual.member_enroll(
                        actor=self.worker, cooperative=self.coop, household=household
                    )
                )
            # Most members are ordinary union members without a household
            # file: they are on the roster only.
            for i, name in enumerate(("周建华", "吴丽娟", "郑国强")):
                members.append(
                    mutual.member_add(
                        actor=self.worker,
                        cooperative=self.coop,
                        name=name,
                        id_number=idnumber.make(COUNTY, day(1978 + i, 3, 1 + i), 200 + i),
                        unit=self.units[COUNTY],
                        phone=f"139{i:04d}5678",
                    )
                )
        with on_day(day(y, 1, 8)):
            for member in members:
                mutual.premium_record(
                    actor=self.city_finance, member=member, kind=PremiumKind.FIRST, year=y
                )
        with on_day(day(y, 6, 10)):
            claim = mutual.claim_submit(
                actor=self.worker,
                member=members[0],
                category="medical",
                amount="2000",
                reason="住院手术，医保报销后自付 6800 元",
            )
            mutual.claim_vote(actor=self.chair, claim=claim, approve=True, note="符合互助条件")
            mutual.claim_vote(actor=self.city_chair, claim=claim, approve=True)
        with on_day(day(y, 6, 15)):
            # Paid straight from the cooperative's fund by finance who did
            # not vote on it.
            mutual.claim_pay(actor=self.city_finance, claim=claim)
        with on_day(day(y, 9, 5)):
            waiting = mutual.claim_submit(
                actor=self.worker,
                member=members[1],
                category="school",
                amount="800",
                reason="女儿考入郑州大学，入学费用困难",
            )
            mutual.claim_vote(actor=self.chair, claim=waiting, approve=True, note="同意")

    def _school(self, y: int) -> None:
        day = datetime.date
        with on_day(day(y, 8, 20)):
            batch, _skipped = batches.batch_create(
                actor=self.worker,
                unit=self.units[COUNTY],
                program=self.programs["school"],
                title=f"{y}年金秋助学（金水区）",
                in_school=True,
            )
            batches.batch_submit(actor=self.worker, batch=batch)
        with on_day(day(y, 8, 28)):
            batches.batch_decide(actor=self.chair, batch=batch, approve=True, note="同意")
            if batch.lines.filter(status=S.PENDING_PARENT).exists():
                batches.batch_decide(actor=self.city_chair, batch=batch, approve=True, note="同意")
        approved = list(
            batch.lines.filter(status=S.APPROVED).select_related("household__unit").order_by("pk")
        )
        cash = [a for a in approved if a.household.unit.code == BUILDERS]
        bank = [a for a in approved if a.household.unit.code != BUILDERS]
        with on_day(day(y, 9, 6)):
            if cash:
                payments.payment_batch_create(
                    actor=self.finance,
                    fund=self.funds["grant"],
                    method=PaymentMethod.CASH,
                    applications=cash,
                    title=f"{y}年金秋助学现金发放（建设集团一分公司工会）",
                    signed_sheet=_sheet("金秋助学签收表"),
                )
            if bank:
                payments.payment_batch_create(
                    actor=self.city_finance,
                    fund=self.funds["city"],
                    method=PaymentMethod.BANK,
                    applications=bank,
                    title=f"{y}年金秋助学银行代发（金水区）",
                )
        taken = {a.household_id for a in approved}
        rest = [h for h in self.pool if h.pk not in taken]
        if len(rest) >= 8:
            self.pool = rest

    def _now(self) -> None:
        """Work waiting today: for the chair, the city chair and finance."""
        # Waiting for demo_chair.
        self._draft(self._take(), "living", "2000", "冬季取暖及生活开支困难")
        self._draft(
            self._take(), "medical", "4000", "慢性病长期服药，自付部分", out_of_pocket="9000"
        )
        # Approved, waiting for demo_finance to pay.
        self._approve(self._draft(self._take(), "living", "2500", "家庭主要劳动力因工伤停工"))
        returned = self._approve(
            self._draft(self._take(), "living", "1800", "子女就学开支大，收入低于低保标准")
        )
        payment = self._pay(returned, "grant")
        payments.aid_payment_reverse(
            actor=self.finance,
            payment=payment,
            reason="银行退票：收款账户已销户，待核实新账户后重新发放",
        )
        # Above the county's limit: approved by demo_chair, waiting for the city chair.
        escalated = self._draft(
            self._take(), "medical", "15000", "本人肿瘤手术及后续治疗", out_of_pocket="42000"
        )
        applications.application_decide(
            actor=self.chair, application=escalated, approve=True, note="情况属实，报市总审批"
        )
        refused = self._draft(self._take(), "living", "3000", "申请生活救助")
        applications.application_decide(
            actor=self.chair,
            application=refused,
            approve=False,
            note="核查发现家庭人均收入已超过当地低保标准两倍，不符合生活救助条件",
        )
        for household, kind, text in [
            (self.sick, "policy", "协助申请城乡居民大病保险二次报销"),
            (self.pool[0], "job", "推荐到金水区环卫处公益性岗位"),
            (self.pool[0], "training", "参加市总工会职工技能培训（育婴师）"),
        ]:
            noncash_help_record(
                actor=self.worker,
                household=household,
                kind=kind,
                given_on=clock.today(),
                description=text,
            )

    # -- report ------------------------------------------------------------------------

    def _report(self, created: bool) -> None:
        programs = list(self.programs.values())
        counts = {
            label: Application.objects.filter(program__in=programs, status=status).count()
            for status, label in S.choices
        }
        self.stdout.write(
            self.style.SUCCESS(
                f"帮扶资金演示数据就绪：{len(programs)} 个帮扶项目，"
                f"{Batch.objects.filter(program__in=programs).count()} 个批次，"
                f"{Loan.objects.filter(application__program__in=programs).count()} 笔借款，"
                f"{self.coop.members.count()} 户互助会员"
                + ("（本次新建）。" if created else "（已存在，未重复生成）。")
            )
        )
        self.stdout.write(
            "帮扶申请：" + "，".join(f"{label} {n}" for label, n in counts.items() if n)
        )
        self.stdout.write("")
        rows = [
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
            for f in self.funds.values()
        ]
        self.stdout.write(_table(["所属工会", "资金", "来源", "余额（元）"], rows))
        self.stdout.write("")
        header = ["用户名", "密码", "角色", "所属工会"]
        table = []
        for spec in USERS:
            user, usable = self.extra[spec.username]
            password = DEMO_PASSWORD if usable else "（已修改，非演示密码）"
            role = f"{spec.role} {Role(spec.role).label}"
            table.append([user.username, password, role, self.units[spec.unit_code].name])
        self.stdout.write("新增演示账号：")
        self.stdout.write(_table(header, table))
        self.stdout.write("")
        self.stdout.write(
            "demo_chair 有待审批的申请；demo_chair_city 审批超过区级限额的申请并参加互助表决；"
            "demo_finance 有已批准待发放的申请（含一笔银行退票已冲正的）；"
            "在家庭档案页的“帮扶资金”中可看到每户的申请、到账和年度上限。"
        )
