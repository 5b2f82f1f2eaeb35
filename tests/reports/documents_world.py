"""Money and files for the document tests, built through the real services:
households with rare characters in their names and an illness written into
every field that holds one, a city program, a county fund with a donation
and a transfer, applications drafted by alice, approved by carol and paid
by dave (one of them reversed), a cash batch, and an intake notice."""

import datetime
import io
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal as D
from typing import Any

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader

from accounts.models import Unit, User
from cases import clock
from cases.models import (
    Cause,
    Household,
    IntakeNotice,
    Member,
    NoticeEntry,
    Tier,
    Visit,
)
from funds import services as ledger
from funds.models import EntryKind, Fund, LedgerEntry
from funds.summary import paying_for
from programs.models import (
    AidPayment,
    Application,
    ApplicationStatus,
    ApprovalThreshold,
    PaymentBatch,
    Program,
    StandardAmount,
)
from programs.services import applications as apps
from programs.services import payments
from tests.builders import make_id
from tests.programs.conftest import filed

RARE_NAMES = ("王堃", "李喆", "陈燊", "张㛃")
# A diagnosis no public output may ever show, written wherever a file keeps
# health: the note, the visit's health observation, the application's reason.
ILLNESS = "胶质母细胞瘤四期"
HEALTH_LABELS = ("重大疾病", "慢性病")
PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
TODAY = datetime.date(2026, 3, 16)


@dataclass
class World:
    fund: Fund
    program: Program
    households: list[Household]
    applications: list[Application]
    payments: list[AidPayment]
    reversed: AidPayment
    batch: PaymentBatch
    notice: IntakeNotice
    other_fund: Fund
    secrets: list[str] = field(default_factory=list)  # full IDs and phones


def build_world(units: dict[str, Unit], alice: User, carol: User, dave: User) -> World:
    clock.advance(TODAY - clock.today())
    tier = Tier.objects.order_by("sort_order").first()
    sick = Cause.objects.get(name="因病")
    fund = ledger.fund_create(actor=dave, unit=units["a"], name="送温暖专项", year=2026)
    ledger.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=fund,
        amount="100000",
        memo="区财政拨款",
        occurred_on=TODAY.replace(day=1),
        date_reason="银行回单迟到",
    )
    ledger.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=fund,
        amount="5000.50",
        memo="爱心捐款",
        donor="郑州爱心企业",
        campaign="情暖金水",
        receipt_number="JZ-0001",
        occurred_on=TODAY.replace(day=2),
        date_reason="银行回单迟到",
    )
    other_fund = ledger.fund_create(actor=dave, unit=units["a"], name="金秋助学专项", year=2026)
    ledger.transfer_post(actor=dave, source=fund, target=other_fund, amount="2000", memo="调剂")
    program = Program.objects.create(
        unit=units["city"], name="2026年春节送温暖", category="festival", kind="cash"
    )
    program.funds.add(fund)
    StandardAmount.objects.create(program=program, tier=tier, amount=D("1000"))
    ApprovalThreshold.objects.create(program=program, unit_kind="county", amount=D("2000"))

    households = []
    secrets: list[str] = []
    for n, name in enumerate(RARE_NAMES):
        phone = f"1380371{n:04d}"
        household = filed(
            units["a"] if n % 2 == 0 else units["a1"],
            name=name,
            phone=phone,
            health_status="serious",
            main_cause=sick,
            note=f"确诊{ILLNESS}，长期化疗",
            file_number=f"410105-2026-{n + 1:04d}",
        )
        member = Member.objects.create(
            household=household,
            name=name + "之子",
            relation="child",
            id_number=make_id(datetime.date(2010, 5, n + 1)),
            health_status="chronic",
        )
        Visit.objects.create(
            household=household, visitor=alice, visited_on=TODAY, seen_health=ILLNESS
        )
        secrets += [household.id_number, member.id_number, phone, household.bank_account]
        households.append(household)

    applications = []
    for household in households:
        application = apps.application_draft(
            actor=alice, household=household, program=program, reason=f"{ILLNESS}住院治疗"
        )
        apps.application_decide(
            actor=carol, application=application, approve=True, note=f"同意，{ILLNESS}属实"
        )
        application.refresh_from_db()
        applications.append(application)
    paid = [
        payments.aid_pay(actor=dave, application=a, fund=fund, method="bank")
        for a in applications[:2]
    ]
    reversed_payment = payments.aid_payment_reverse(actor=dave, payment=paid[1], reason="账号填错")
    batch = payments.payment_batch_create(
        actor=dave,
        fund=fund,
        method="cash",
        applications=applications[2:],
        title="春节现金发放第一批",
        signed_sheet=SimpleUploadedFile("签收单.pdf", PDF_BYTES, "application/pdf"),
    )
    notice = IntakeNotice.objects.create(
        unit=units["a"],
        title="2026年第一批困难职工建档公示",
        starts_on=TODAY,
        working_days=5,
        ends_on=TODAY + datetime.timedelta(days=7),
        posted_at="金水区总工会公示栏",
        created_by=alice,
    )
    for household in households:
        NoticeEntry.objects.create(notice=notice, household=household)
    return World(
        fund=fund,
        program=program,
        households=households,
        applications=applications,
        payments=[*paid, *batch.payments.all()],
        reversed=reversed_payment,
        batch=batch,
        notice=notice,
        other_fund=other_fund,
        secrets=secrets,
    )


def bulk_payments(
    fund: Fund, program: Program, household: Household, count: int, amount: str = "10.00"
) -> int:
    """`count` paid applications of 10 yuan, rows written in bulk as the
    payment service writes them one by one."""
    dave = User.objects.get(username="dave")
    value = D(amount)
    applications = Application.objects.bulk_create(
        Application(
            program=program, household=household, year=2026, status=ApplicationStatus.PAID,
            amount=value, drafted_by=dave,
        )
        for _ in range(count)
    )  # fmt: skip
    entries = LedgerEntry.objects.bulk_create(
        paying_for(LedgerEntry(
            fund=fund, kind=EntryKind.PAYMENT, direction=-1, amount=value, occurred_on=TODAY,
            memo=f"{program.name} {household.name}", household=household, actor=dave,
        ), program.pk)
        for _ in range(count)
    )  # fmt: skip
    AidPayment.objects.bulk_create(
        AidPayment(
            application=a, fund=fund, entry=e, method="bank", amount=value, paid_on=TODAY,
            paid_by=dave, account_name=household.name, bank_account=household.bank_account,
        )
        for a, e in zip(applications, entries, strict=True)
    )  # fmt: skip
    return count


# -- reading documents back -----------------------------------------------------------------


def pdf_pages(content: bytes) -> tuple[PdfReader, list[str]]:
    assert content.startswith(b"%PDF"), content[:200]
    reader = PdfReader(io.BytesIO(content))
    return reader, [page.extract_text() for page in reader.pages]


def pdf_text(content: bytes) -> str:
    return "\n".join(pdf_pages(content)[1])


def fonts_embedded(reader: PdfReader) -> set[str]:
    """The names of the fonts used, each checked to carry its font file."""
    names = set()
    for page in reader.pages:
        fonts = page["/Resources"]["/Font"]
        for ref in fonts.values():
            font = ref.get_object()
            descriptor_holder = font
            if font.get("/Subtype") == "/Type0":
                descriptor_holder = font["/DescendantFonts"][0].get_object()
            descriptor = descriptor_holder["/FontDescriptor"].get_object()
            assert any(k in descriptor for k in ("/FontFile2", "/FontFile3", "/FontFile")), (
                f"font {font.get('/BaseFont')} is not embedded"
            )
            names.add(str(font.get("/BaseFont")))
    return names


def compact(text: str) -> str:
    """Text without the spaces and line breaks a PDF layout puts in."""
    return "".join(text.split())


def workbook(content: bytes) -> Any:
    assert zipfile.is_zipfile(io.BytesIO(content))
    return openpyxl.load_workbook(io.BytesIO(content))


def sheet_rows(content: bytes) -> tuple[Any, list[tuple]]:
    ws = workbook(content).worksheets[0]
    return ws, list(ws.iter_rows(values_only=True))


def xlsx_text(content: bytes) -> str:
    _ws, rows = sheet_rows(content)
    return "\n".join(" ".join("" if v is None else str(v) for v in row) for row in rows)
