"""`manage.py seed_demo_money`: the money demo, idempotent and consistent."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F, Q
from django.urls import reverse
from django.utils.html import escape

from accounts.models import AuditEvent, Membership, User
from cases.models import KinRegistration, KinRelative
from funds.models import Fund, LedgerEntry
from funds.services import balance_of
from programs.models import (
    AidPayment,
    Application,
    ApplicationStatus,
    ApprovalThreshold,
    Batch,
    Claim,
    ClaimVote,
    Complaint,
    ComplaintChange,
    ConflictFlag,
    Cooperative,
    CoopMember,
    Decision,
    Installment,
    Loan,
    LoanStatus,
    PaymentBatch,
    Premium,
    Program,
    Repayment,
    StandardAmount,
    VerificationCase,
    VerificationLine,
    VerificationSample,
)
from programs.selectors.money import household_money
from tests.accounts.chain_support import verify

S = ApplicationStatus
MODELS = (
    User, Membership, AuditEvent, Fund, LedgerEntry, Program, StandardAmount, ApprovalThreshold,
    Application, Decision, Batch, PaymentBatch, AidPayment, Loan, Installment, Repayment,
    Cooperative, CoopMember, Premium, Claim, ClaimVote, VerificationSample, VerificationLine,
    VerificationCase, Complaint, ComplaintChange, ConflictFlag, KinRegistration, KinRelative,
)  # fmt: skip


def _run(command, **options):
    out = io.StringIO()
    call_command(command, stdout=out, **options)
    return out.getvalue()


def _counts():
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.fixture
def seeded(settings):
    settings.DEBUG = True
    _run("seed_demo", households=160)
    return _run("seed_demo_money")


@pytest.mark.django_db
def test_second_run_creates_nothing_and_no_fund_is_negative(seeded):
    after_first = _counts()
    second = _run("seed_demo_money")
    assert _counts() == after_first
    assert "未重复生成" in second
    assert Fund.objects.count() == 4
    for fund in Fund.objects.all():
        assert balance_of(fund) >= 0, fund


@pytest.mark.django_db
def test_the_demo_data_is_hash_chained_and_verifies(seeded):
    """Everything the demo writes (files, applications, decisions, ledger,
    audit trail) went through the chains: audit_verify passes."""
    passed, output = verify()
    assert passed, output
    assert "funds.ledgerentry：0 行" not in output


@pytest.mark.django_db
def test_every_state_the_demo_users_meet(seeded):
    chair, finance = (
        User.objects.get(username="demo_chair"),
        User.objects.get(username="demo_finance"),
    )
    statuses = set(Application.objects.values_list("status", flat=True))
    assert {S.PENDING, S.PENDING_PARENT, S.APPROVED, S.REJECTED, S.PAID} <= statuses
    # Waiting for demo_chair, and approved money waiting for demo_finance.
    county = Application.objects.filter(household__unit__code__startswith="410105")
    assert county.filter(status=S.PENDING).exists()
    waiting = Application.objects.filter(status=S.APPROVED, program__funds__unit__code="410105")
    assert waiting.exists()
    # One payment reversed: its application is approved again, not paid.
    reversed_payment = AidPayment.objects.get(reversal__isnull=False)
    assert reversed_payment.application.status == S.APPROVED
    assert reversed_payment.paid_by == finance
    # Bank and cash (with a signed sheet) payments; a batch of each.
    assert AidPayment.objects.filter(method="bank", reversal__isnull=True).exists()
    cash = AidPayment.objects.filter(Q(method="cash"), reversal__isnull=True)
    assert cash.exists()
    for payment in cash.select_related("batch"):
        sheet = payment.signed_sheet or (payment.batch and payment.batch.signed_sheet)
        assert sheet and sheet.open("rb").read(8) == b"\x89PNG\r\n\x1a\n"
    assert set(PaymentBatch.objects.values_list("method", flat=True)) == {"bank", "cash"}
    # Separation of duties held for every decision and payment.
    for payment in AidPayment.objects.select_related("application"):
        app = payment.application
        assert payment.paid_by_id != app.drafted_by_id
        assert payment.paid_by_id not in set(app.decisions.values_list("actor_id", flat=True))
    assert not Decision.objects.filter(actor=F("application__drafted_by")).exists()
    assert Decision.objects.filter(actor=chair).count() > 10
    # Escalation above the county's limit went to the city chair.
    assert Decision.objects.filter(level="parent", actor__username="demo_chair_city").exists()


@pytest.mark.django_db
def test_donation_drive_loans_and_mutual_aid(seeded):
    drive = Fund.objects.get(restriction="household")
    gifts = LedgerEntry.objects.filter(fund=drive, kind="donation")
    assert gifts.count() == 5
    assert all(g.donor and g.campaign and g.receipt_number for g in gifts)
    spent = AidPayment.objects.get(fund=drive)
    assert spent.application.household_id == drive.restricted_household_id
    assert {loan.status for loan in Loan.objects.all()} == {LoanStatus.ACTIVE, LoanStatus.SETTLED}
    active = Loan.objects.get(status=LoanStatus.ACTIVE)
    view = household_money(User.objects.get(username="demo_chair"), active.household)
    (line,) = view.loans
    assert line.repaid < line.principal and line.arrears > 0
    coop = Cooperative.objects.get()
    assert coop.members.count() == 11 and coop.members.filter(household=None).count() == 3
    assert Premium.objects.filter(member__cooperative=coop).count()
    assert {c.status for c in Claim.objects.all()} == {"paid", "pending"}
    paid = Claim.objects.get(status="paid")
    assert paid.application is None and paid.entry.fund == coop.fund
    assert paid.entry.amount == paid.amount and paid.paid_on == paid.entry.occurred_on


@pytest.mark.django_db
def test_refuses_without_debug_or_before_seed_demo(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG=False"):
        _run("seed_demo_money")
    settings.DEBUG = True
    with pytest.raises(CommandError, match="seed_demo"):
        _run("seed_demo_money")
    assert Program.objects.count() == 0


@pytest.mark.django_db
def test_demo_programs_show_their_english_names_in_english(seeded, client):
    programs = list(Program.objects.all())
    assert len(programs) == 6 and all(p.name_en for p in programs)
    client.force_login(User.objects.get(username="demo_chair"))
    url = reverse("programs:application_list")
    chinese = client.get(url).content.decode()
    assert all(p.name in chinese for p in programs)
    response = client.post(reverse("set_language"), {"language": "en", "next": url})
    assert response.status_code == 302
    english = client.get(url).content.decode()
    assert all(escape(p.name_en) in english for p in programs)
    assert "Golden Autumn Education Aid" in english
