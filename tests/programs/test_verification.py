"""回访核实 in the services: the draw after a batch and each month, its
seed, who may verify, what each outcome opens, and the chair's closing."""

import datetime
import io
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.http import Http404
from django.utils import timezone

from accounts.models import AuditEvent
from cases import clock
from funds import services as ledger
from programs.models import (
    AidPayment,
    CaseStatus,
    SampleKind,
    VerificationCase,
    VerificationLine,
    VerificationSample,
)
from programs.selectors import verification as selectors
from programs.services import applications, conflicts, payments, verification
from tests.builders import make_user
from tests.programs.conftest import grant
from tests.programs.verification_world import amy, approved_many, paid_batch

pytestmark = pytest.mark.django_db


def drawn_ids(sample):
    return list(sample.lines.order_by("position").values_list("payment_id", flat=True))


# -- The draw after a batch -------------------------------------------------------------


def test_a_batch_is_drawn_when_it_is_paid_at_the_default_ten_percent(
    alice, dave, festival, fund, units
):
    apps = approved_many(festival, units["a"], 25, alice)
    batch = paid_batch(dave, fund, apps)
    sample = VerificationSample.objects.get(payment_batch=batch)
    assert sample.kind == SampleKind.BATCH and sample.unit == units["a"]
    assert sample.share_percent == 10
    # 10% of 25 is 2.5: rounded up.
    assert sample.size == 3 and sample.lines.count() == 3
    paid = sorted(AidPayment.objects.filter(batch=batch).values_list("pk", flat=True))
    assert sample.population == paid
    assert set(drawn_ids(sample)) <= set(paid)
    assert AuditEvent.objects.filter(action="verification.draw").count() == 1


def test_redrawing_with_the_recorded_seed_gives_the_same_lines(alice, dave, festival, fund, units):
    batch = paid_batch(dave, fund, approved_many(festival, units["a"], 40, alice))
    sample = VerificationSample.objects.get(payment_batch=batch)
    assert verification.sample_redraw(sample) == drawn_ids(sample)
    # The rule is the seed alone: any order of the population, any run.
    shuffled = list(reversed(sample.population))
    assert verification.sample_pick(shuffled, sample.seed, sample.size) == drawn_ids(sample)
    # Another seed draws other lines (40 choose 4: a clash is one in 91,390).
    assert verification.sample_pick(sample.population, "另一个种子", sample.size) != drawn_ids(
        sample
    )


def test_the_draw_rule_is_sha256_of_seed_and_id():
    """The documented rule (docs/verification.md), worked by hand."""
    import hashlib

    population = [11, 12, 13, 14, 15]
    ranked = sorted(population, key=lambda pk: hashlib.sha256(f"abc:{pk}".encode()).hexdigest())
    assert verification.sample_pick(population, "abc", 2) == ranked[:2]


def test_one_payment_is_still_drawn_and_the_share_caps_at_all(alice, dave, festival, fund, units):
    assert verification.sample_size(1, 10) == 1
    assert verification.sample_size(10, 10) == 1
    assert verification.sample_size(11, 10) == 2
    assert verification.sample_size(3, 100) == 3
    assert verification.sample_size(0, 10) == 0
    batch = paid_batch(dave, fund, approved_many(festival, units["a"], 1, alice))
    assert VerificationSample.objects.get(payment_batch=batch).lines.count() == 1


def test_a_batch_that_fails_leaves_no_sample(alice, dave, festival, fund, units):
    apps = approved_many(festival, units["a"], 3, alice)
    apps[-1].household.__class__.objects.filter(pk=apps[-1].household_id).update(bank_account="")
    with pytest.raises(ValidationError):
        paid_batch(dave, fund, apps)
    assert not VerificationSample.objects.exists() and not VerificationLine.objects.exists()


# -- The share ------------------------------------------------------------------------


def test_the_chair_sets_the_share_and_the_unions_below_follow_it(
    alice, carol, dave, festival, fund, units
):
    verification.verification_share_set(actor=carol, unit=units["a"], share_percent=50)
    assert verification.verification_share(units["a"]) == 50
    assert verification.verification_share(units["a1"]) == 50
    assert verification.verification_share(units["b"]) == 10
    batch = paid_batch(dave, fund, approved_many(festival, units["a"], 5, alice))
    sample = VerificationSample.objects.get(payment_batch=batch)
    assert sample.share_percent == 50 and sample.size == 3


def test_an_admin_may_set_the_share_a_caseworker_or_another_chair_may_not(alice, ben, frank, units):
    verification.verification_share_set(actor=frank, unit=units["city"], share_percent=20)
    assert verification.verification_share(units["a1"]) == 20
    for person in (alice, ben):
        with pytest.raises(PermissionDenied):
            verification.verification_share_set(actor=person, unit=units["a"], share_percent=30)
    assert verification.verification_share(units["a"]) == 20


@pytest.mark.parametrize("bad", [0, 101, "abc", "", None, "12.5"])
def test_a_share_outside_one_to_a_hundred_is_refused_on_its_field(carol, units, bad):
    with pytest.raises(ValidationError) as exc:
        verification.verification_share_set(actor=carol, unit=units["a"], share_percent=bad)
    assert "1 到 100" in exc.value.message_dict["share_percent"][0]
    assert verification.verification_share(units["a"]) == 10


# -- Who may verify -------------------------------------------------------------------


@pytest.fixture
def one_line(alice, carol, dave, festival, fund, household):
    """county A's household, drafted by alice, approved by carol, paid by
    dave in a batch of one: its only line."""
    app = applications.application_draft(actor=alice, household=household, program=festival)
    applications.application_decide(actor=carol, application=app, approve=True)
    app.refresh_from_db()
    paid_batch(dave, fund, [app])
    return VerificationLine.objects.get()


def test_a_caseworker_with_no_hand_in_it_verifies(one_line, units):
    verifier = amy(units["a"])
    verification.verification_record(
        actor=verifier, line=one_line, outcome="full", channel="phone", note=""
    )
    one_line.refresh_from_db()
    assert one_line.outcome == "full" and one_line.verifier == verifier
    assert VerificationSample.objects.get().done == 1
    assert not VerificationCase.objects.exists()
    assert AuditEvent.objects.filter(action="verification.record", actor=verifier).exists()


def test_the_drafter_the_approver_and_the_payer_may_not_verify(one_line, alice, carol, units):
    payer = make_user("pat", units["a"], "caseworker", full_name="潘涛")
    # The payer is also a caseworker: the role alone would let him in.
    grant(payer, units["a"], "finance")
    AidPayment.objects.update(paid_by=payer)
    for person, reason in ((alice, "起草"), (carol, "审批"), (payer, "发放")):
        with pytest.raises(PermissionDenied, match=reason):
            verification.verification_record(
                actor=person, line=one_line, outcome="full", channel="phone"
            )
    one_line.refresh_from_db()
    assert one_line.outcome == "" and one_line.verifier is None


def test_finance_an_auditor_and_another_countys_caseworker_may_not_verify(
    one_line, bob, dave, erin
):
    for person in (bob, dave, erin):
        with pytest.raises(PermissionDenied):
            verification.verification_record(
                actor=person, line=one_line, outcome="full", channel="phone"
            )
    assert not VerificationLine.objects.exclude(outcome="").exists()


def test_the_conflict_guard_is_asked_first_outside_the_transaction(one_line, units, monkeypatch):
    verifier = amy(units["a"])
    depth_before = len(connection.atomic_blocks)
    seen = []

    def guard(*, actor, application, step):
        seen.append((actor, application.pk, step, len(connection.atomic_blocks)))
        raise conflicts.ConflictOfInterest("与该户存在亲属关系，须回避。")

    monkeypatch.setattr(verification, "conflict_guard", guard)
    for call in (
        lambda: verification.verification_line_take(actor=verifier, line=one_line),
        lambda: verification.verification_record(
            actor=verifier, line=one_line, outcome="full", channel="phone"
        ),
    ):
        with pytest.raises(PermissionDenied, match="回避"):
            call()
    application_id = one_line.payment.application_id
    assert seen == [(verifier, application_id, "verify", depth_before)] * 2
    one_line.refresh_from_db()
    assert one_line.verifier is None and one_line.outcome == ""


# -- Outcomes -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "reason"),
    [(None, "实收金额"), ("0", "大于 0"), ("-5", "大于 0"), ("1000", "小于发放金额"),
     ("1200", "小于发放金额"), ("10.005", "两位小数"), ("abc", "实收金额")],
)  # fmt: skip
def test_a_partial_amount_must_be_above_nothing_and_below_the_paid_amount(
    one_line, units, amount, reason
):
    with pytest.raises(ValidationError) as exc:
        verification.verification_record(
            actor=amy(units["a"]),
            line=one_line,
            outcome="partial",
            channel="visit",
            note="户主说只收到一部分",
            amount_received=amount,
        )
    assert reason in " ".join(exc.value.message_dict["amount_received"])
    one_line.refresh_from_db()
    assert one_line.outcome == "" and not VerificationCase.objects.exists()


def test_anything_but_full_needs_a_note_and_a_channel(one_line, units):
    verifier = amy(units["a"])
    with pytest.raises(ValidationError) as exc:
        verification.verification_record(
            actor=verifier, line=one_line, outcome="none", channel="phone", note="  "
        )
    assert "note" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        verification.verification_record(
            actor=verifier, line=one_line, outcome="full", channel="email"
        )
    assert "channel" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        verification.verification_record(
            actor=verifier, line=one_line, outcome="maybe", channel="phone"
        )
    assert "outcome" in exc.value.message_dict


@pytest.mark.parametrize("outcome", ["partial", "none", "unreachable"])
def test_a_problem_opens_a_case_for_the_chair_above(one_line, units, cathy, carol, erin, outcome):
    verification.verification_record(
        actor=amy(units["a"]),
        line=one_line,
        outcome=outcome,
        channel="phone",
        note="户主称未足额收到",
        amount_received="300" if outcome == "partial" else None,
    )
    case = VerificationCase.objects.get()
    # The household is county A's: the city union above it handles the case.
    assert case.unit == units["city"] and case.status == CaseStatus.OPEN
    assert case.line.sample.problems == 1
    assert list(selectors.case_list(cathy)) == [case]
    # The auditor of the household's union sees it; the county chair, whose
    # union paid and approved, does not.
    assert list(selectors.case_list(erin)) == [case]
    with pytest.raises(Http404):
        selectors.get_case_for(carol, case.pk)
    if outcome == "partial":
        assert case.line.amount_received == D("300.00")


def test_a_household_of_the_root_union_goes_to_the_root_chair(alice, festival, units):
    city_finance = make_user("cfo", units["city"], "finance")
    city_fund = ledger.fund_create(actor=city_finance, unit=units["city"], name="市级", year=2026)
    ledger.receipt_post(
        source="other", payer_kind="unit", payer="市财政", actor=city_finance,
        fund=city_fund, amount="5000", memo="拨款",
    )  # fmt: skip
    festival.funds.add(city_fund)
    apps = approved_many(festival, units["city"], 1, alice)
    paid_batch(city_finance, city_fund, apps)
    line = VerificationLine.objects.get()
    verification.verification_record(
        actor=amy(units["city"]), line=line, outcome="unreachable", channel="phone", note="三次未接"
    )
    assert VerificationCase.objects.get().unit == units["city"]


def test_a_line_is_verified_once(one_line, units):
    verifier = amy(units["a"])
    verification.verification_record(actor=verifier, line=one_line, outcome="full", channel="visit")
    other = make_user("ann", units["a"], "caseworker", full_name="安娜")
    for person in (verifier, other):
        with pytest.raises(ValidationError, match="艾敏"):
            verification.verification_record(
                actor=person, line=one_line, outcome="none", channel="phone", note="再核"
            )
    one_line.refresh_from_db()
    assert one_line.outcome == "full" and one_line.sample.done == 1


def test_a_taken_line_is_the_takers(one_line, units):
    verifier = amy(units["a"])
    verification.verification_line_take(actor=verifier, line=one_line)
    # Taking again is harmless.
    verification.verification_line_take(actor=verifier, line=one_line)
    assert AuditEvent.objects.filter(action="verification.take").count() == 1
    other = make_user("ann", units["a"], "caseworker", full_name="安娜")
    for call in (
        lambda: verification.verification_line_take(actor=other, line=one_line),
        lambda: verification.verification_record(
            actor=other, line=one_line, outcome="full", channel="phone"
        ),
    ):
        with pytest.raises(ValidationError, match=r"已由 艾敏 于 .* 领取核实"):
            call()
    verification.verification_record(actor=verifier, line=one_line, outcome="full", channel="phone")


# -- Closing a case -------------------------------------------------------------------


@pytest.fixture
def open_case(one_line, units):
    verification.verification_record(
        actor=amy(units["a"]), line=one_line, outcome="none", channel="visit", note="未收到"
    )
    return VerificationCase.objects.get()


def test_the_chair_above_closes_the_case_with_a_resolution(open_case, cathy):
    verification.verification_case_close(
        actor=cathy, case=open_case, resolution="经查银行退票，已重新发放。"
    )
    open_case.refresh_from_db()
    assert open_case.status == CaseStatus.CLOSED and open_case.resolved_by == cathy
    assert open_case.closed_at is not None
    with pytest.raises(ValidationError, match="已办结"):
        verification.verification_case_close(actor=cathy, case=open_case, resolution="再办")
    assert list(selectors.case_list(cathy)) == []
    assert list(selectors.case_list(cathy, status="")) == [open_case]


def test_a_case_needs_a_resolution_and_the_right_chair(open_case, cathy, carol, ben, erin):
    with pytest.raises(ValidationError) as exc:
        verification.verification_case_close(actor=cathy, case=open_case, resolution="  ")
    assert "resolution" in exc.value.message_dict
    for person in (carol, ben, erin):
        with pytest.raises(PermissionDenied):
            verification.verification_case_close(actor=person, case=open_case, resolution="已核")
    open_case.refresh_from_db()
    assert open_case.status == CaseStatus.OPEN


def test_a_chair_who_approved_the_payment_may_not_close_its_case(
    alice, cathy, dave, festival, fund, household, units
):
    """Separation of duties holds for the case too: the chair above who
    approved the aid does not judge whether it arrived."""
    app = applications.application_draft(actor=alice, household=household, program=festival)
    applications.application_decide(actor=cathy, application=app, approve=True)
    app.refresh_from_db()
    paid_batch(dave, fund, [app])
    verification.verification_record(
        actor=amy(units["a"]),
        line=VerificationLine.objects.get(),
        outcome="partial",
        amount_received="100",
        channel="phone",
        note="只收到一百元",
    )
    case = VerificationCase.objects.get()
    with pytest.raises(PermissionDenied, match="不能办结"):
        verification.verification_case_close(actor=cathy, case=case, resolution="已核")
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN and case.resolution == ""


# -- The monthly draw -----------------------------------------------------------------


def _single_payments(alice, dave, festival, fund, units, count):
    apps = approved_many(festival, units["a"], count, alice, start=500)
    paid = [payments.aid_pay(actor=dave, application=a, fund=fund, method="bank") for a in apps]
    last_month = verification.previous_month()
    recorded = timezone.make_aware(datetime.datetime.combine(last_month, datetime.time(10)))
    AidPayment.objects.filter(pk__in=[p.pk for p in paid]).update(created_at=recorded)
    return paid, last_month


def test_the_month_is_drawn_once(alice, carol, dave, festival, fund, units):
    paid, month = _single_payments(alice, dave, festival, fund, units, 12)
    # A batch payment is not a single payment: it was drawn with its batch.
    paid_batch(dave, fund, approved_many(festival, units["a"], 2, alice, start=900))
    sample, drawn = verification.sample_draw_month(actor=carol, unit=units["a"], month=month)
    assert drawn and sample.kind == SampleKind.MONTH and sample.month == month
    assert sample.population == sorted(p.pk for p in paid) and sample.size == 2
    again, drawn_again = verification.sample_draw_month(actor=carol, unit=units["a"], month=month)
    assert again == sample and not drawn_again
    assert VerificationSample.objects.filter(kind=SampleKind.MONTH).count() == 1
    assert verification.sample_redraw(sample) == drawn_ids(sample)


def test_the_month_must_be_over_and_the_drawer_a_chair(alice, carol, dave, festival, fund, units):
    _single_payments(alice, dave, festival, fund, units, 3)
    with pytest.raises(ValidationError) as exc:
        verification.sample_draw_month(actor=carol, unit=units["a"], month=clock.today())
    assert "month" in exc.value.message_dict
    with pytest.raises(PermissionDenied):
        verification.sample_draw_month(
            actor=alice, unit=units["a"], month=verification.previous_month()
        )
    assert not VerificationSample.objects.exists()


def test_a_month_without_single_payments_draws_nothing(carol, units):
    sample, drawn = verification.sample_draw_month(
        actor=carol, unit=units["a"], month=verification.previous_month()
    )
    assert sample is None and not drawn


def test_the_monthly_command_draws_each_union_once(alice, dave, festival, fund, units):
    _paid, month = _single_payments(alice, dave, festival, fund, units, 30)
    out = io.StringIO()
    call_command("verification_draw", stdout=out)
    assert "金水区总工会" in out.getvalue() and "30 笔中抽查 3 户" in out.getvalue()
    sample = VerificationSample.objects.get()
    assert sample.drawn_by is None and sample.month == month
    out = io.StringIO()
    call_command("verification_draw", "--month", f"{month:%Y-%m}", stdout=out)
    assert "此前已抽样" in out.getvalue() and sample.seed in out.getvalue()
    assert VerificationSample.objects.count() == 1


def test_the_monthly_command_refuses_a_bad_month():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="月份格式"):
        call_command("verification_draw", "--month", "2026/13")


def test_a_closed_file_past_its_date_loses_what_the_verifier_typed(open_case, cathy):
    from cases.models import Household, HouseholdStatus
    from cases.services.retention import ANONYMISED, household_anonymise

    verification.verification_case_close(actor=cathy, case=open_case, resolution="已约谈王秀兰本人")
    household = open_case.line.household
    Household.objects.filter(pk=household.pk).update(
        status=HouseholdStatus.EXITED, retention_until=clock.today() - datetime.timedelta(days=1)
    )
    done = household_anonymise(actor=None, household=household)
    open_case.refresh_from_db()
    assert open_case.line.note == "" and open_case.resolution == str(ANONYMISED)
    assert open_case.line.outcome == "none" and open_case.status == CaseStatus.CLOSED
    assert done.counts["verifications"] == 1
