"""Paying aid at the same moment from many threads, on PostgreSQL (SQLite
ignores row locks, so these run only there): one application is paid at
most once, and a fund never goes below zero."""

from decimal import Decimal as D

import pytest
from django.db import connection

from funds import services as ledger
from funds.models import EntryKind, LedgerEntry
from programs.models import AidPayment, Application, ApplicationStatus
from programs.services import applications, payments
from tests.programs.conftest import filed
from tests.race import race

S = ApplicationStatus
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL"),
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _seeded(seeded_lists):
    """Every thread commits, so the tables are truncated after each test."""


def approved(household, program, alice, carol):
    app = applications.application_draft(actor=alice, household=household, program=program)
    applications.application_decide(actor=carol, application=app, approve=True)
    return Application.objects.get(pk=app.pk)


def never_negative(fund):
    """Add the fund's rows up in the order they were written: no prefix of
    the ledger may show a negative balance."""
    running = D("0")
    for amount, direction in (
        LedgerEntry.objects.filter(fund=fund).order_by("id").values_list("amount", "direction")
    ):
        running += amount * direction
        assert running >= 0, f"the balance went to {running}"
    return running


def test_twenty_payments_of_one_application_pay_it_once(
    alice, carol, dave, household, festival, fund
):
    app = approved(household, festival, alice, carol)
    results = []
    refused = race(
        20,
        lambda i: results.append(
            payments.aid_pay(actor=dave, application=app, fund=fund, method="bank").pk
        ),
    )
    assert not refused and len(set(results)) == 1 and len(results) == 20
    assert AidPayment.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 1
    assert ledger.balance_of(fund) == D("99000.00")
    app.refresh_from_db()
    assert app.status == S.PAID


def test_twenty_applications_from_a_fund_for_ten_pay_exactly_ten(
    alice, carol, dave, festival, units
):
    small = ledger.fund_create(actor=dave, unit=units["a"], name="小额", year=2026)
    ledger.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=small,
        amount="10000",
        memo="拨款",
    )
    festival.funds.add(small)
    apps = [
        approved(filed(units["a"], name=f"户{i:02d}"), festival, alice, carol) for i in range(20)
    ]
    assert {a.amount for a in apps} == {D("1000")}
    refused = race(
        20,
        lambda i: payments.aid_pay(actor=dave, application=apps[i], fund=small, method="bank"),
    )
    assert len(refused) == 10
    assert all("资金余额不足" in " ".join(e.messages) for e in refused)
    assert AidPayment.objects.filter(fund=small).count() == 10
    assert LedgerEntry.objects.filter(fund=small, kind=EntryKind.PAYMENT).count() == 10
    assert Application.objects.filter(status=S.PAID).count() == 10
    assert Application.objects.filter(status=S.APPROVED).count() == 10
    assert ledger.balance_of(small) == D("0.00") == never_negative(small)


def test_batches_and_single_payments_at_once_neither_deadlock_nor_pay_twice(
    alice, carol, dave, festival, fund, units
):
    """Batches lock their applications before the fund, as a single payment
    does, so mixing them queues instead of deadlocking."""
    apps = [
        approved(filed(units["a"], name=f"户{i:02d}"), festival, alice, carol) for i in range(8)
    ]

    def work(i):
        if i % 2:
            payments.aid_pay(actor=dave, application=apps[i % 8], fund=fund, method="bank")
        else:
            chosen = list(reversed(apps)) if i % 4 else apps
            payments.payment_batch_create(
                actor=dave, fund=fund, method="bank", applications=chosen, title=f"批{i}"
            )

    refused = race(12, work)
    # A batch that meets a line already paid pays nothing (all or none), so
    # which batches went through depends on timing; nothing is paid twice.
    assert all("已经发放过" in " ".join(e.messages) for e in refused)
    live = {a.pk: a.payments.filter(reversal__isnull=True).count() for a in apps}
    assert set(live.values()) <= {0, 1}
    assert all(live[a.pk] == 1 for a in apps[1::2])  # every single payment went through
    paid = sum(live.values())
    assert LedgerEntry.objects.filter(fund=fund, kind=EntryKind.PAYMENT).count() == paid
    assert ledger.balance_of(fund) == D("100000") - paid * D("1000") == never_negative(fund)


def test_ten_reversals_of_one_payment_reverse_it_once(
    alice, carol, dave, household, festival, fund
):
    app = approved(household, festival, alice, carol)
    payment = payments.aid_pay(actor=dave, application=app, fund=fund, method="bank")
    refused = race(
        10,
        lambda i: payments.aid_payment_reverse(actor=dave, payment=payment, reason=f"第{i}次"),
    )
    assert len(refused) == 9
    assert LedgerEntry.objects.filter(kind=EntryKind.REVERSAL).count() == 1
    assert ledger.balance_of(fund) == D("100000.00")
    app.refresh_from_db()
    assert app.status == S.APPROVED
