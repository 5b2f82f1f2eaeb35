"""A fund's day totals (LedgerDay), kept current with every ledger entry.

The fund page, the fund list, the payment batch form's balances and the
period summary add up LedgerDay rows instead of every entry. Here every
figure is recomputed from the ledger rows themselves, by the row-based
functions the selectors used before (kept below as the reference), and must
come out the same, before and after more money moves; on PostgreSQL two
writers posting to one fund at once are both counted."""

import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal as D
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, F, Q, Sum
from django.urls import reverse

from accounts.i18n import pick_name
from accounts.money import yuan
from cases import clock
from funds import selectors
from funds import services as ledger
from funds.models import EntryKind, Fund, LedgerDay, LedgerEntry
from funds.selectors import PeriodSummary, SummaryLine
from programs.services import payments
from programs.services.loans import add_months, loan_disburse, repayment_record
from tests.programs.conftest import filed
from tests.programs.test_loans import approved_loan
from tests.programs.test_payments import approve
from tests.race import race

JUNE_15 = dt.date(2026, 6, 15)
PROGRAM = "aid_payment__application__program"
PERIODS = [
    (None, None),
    (dt.date(2026, 6, 1), dt.date(2026, 6, 30)),
    (dt.date(2026, 6, 11), None),
    (None, dt.date(2026, 6, 10)),
    (dt.date(2026, 6, 16), dt.date(2026, 6, 16)),
]


# -- The reference: every figure from the ledger rows ----------------------------------------


def rows_day_totals() -> dict[tuple[Any, ...], tuple[int, D]]:
    """A GROUP BY of the rows, in LedgerDay's terms (what each line means
    is spelled out here again, not borrowed from funds.summary)."""
    out: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0, D(0)])
    for g in (
        LedgerEntry.objects.order_by()
        .values(
            "fund_id",
            "occurred_on",
            "kind",
            "direction",
            "source_id",
            f"{PROGRAM}_id",
            "reverses__kind",
        )
        .annotate(n=Count("pk"), total=Sum("amount"))
    ):
        kind = g["kind"]
        if kind in ("receipt", "donation"):
            line = f"source:{g['source_id']}"
        elif kind == "payment":
            program = g[f"{PROGRAM}_id"]
            line = f"program:{program}" if program else "payment"
        elif kind in ("transfer_in", "transfer_out"):
            line = kind
        else:
            line = f"reversal:{g['reverses__kind']}"
        key = (g["fund_id"], g["occurred_on"], line, g["direction"])
        out[key][0] += g["n"]
        out[key][1] += g["total"]
    return {k: (n, yuan(total)) for k, (n, total) in out.items()}


def stored_day_totals() -> dict[tuple[Any, ...], tuple[int, D]]:
    return {
        (d.fund_id, d.day, d.line, d.direction): (d.entries, yuan(d.amount))
        for d in LedgerDay.objects.all()
    }


def rows_totals(fund: Fund) -> tuple[D, D]:
    row = LedgerEntry.objects.filter(fund=fund).aggregate(
        i=Sum("amount", filter=Q(direction=1)), o=Sum("amount", filter=Q(direction=-1))
    )
    return yuan(row["i"]), yuan(row["o"])


def rows_period_summary(fund: Fund, date_from: Any, date_to: Any) -> PeriodSummary:
    """fund_period_summary as it was before LedgerDay: over every entry."""
    entries = LedgerEntry.objects.filter(fund=fund)
    opening = D("0.00")
    if date_from is not None:
        before = entries.filter(occurred_on__lt=date_from)
        opening = yuan(before.aggregate(t=Sum(F("amount") * F("direction")))["t"])
    period = entries
    if date_from is not None:
        period = period.filter(occurred_on__gte=date_from)
    if date_to is not None:
        period = period.filter(occurred_on__lte=date_to)
    grouped = (
        period.values(
            "kind",
            "direction",
            "source_id",
            "source__name",
            "source__name_en",
            "source__sort_order",
            f"{PROGRAM}_id",
            f"{PROGRAM}__name",
            f"{PROGRAM}__name_en",
            "reverses__kind",
        )
        .annotate(n=Count("pk"), total=Sum("amount"))
        .order_by()
    )
    kinds = dict(EntryKind.choices)
    buckets: dict[str, dict[Any, list[Any]]] = {g: {} for g in ("r", "p", "t", "v")}
    for g in grouped:
        kind, direction = g["kind"], g["direction"]
        if kind in ("receipt", "donation"):
            key: tuple[Any, ...] = (g["source__sort_order"] or 0, g["source_id"] or 0)
            label = pick_name(g["source__name"], g["source__name_en"]) or "（未注明来源）"
            bucket = buckets["r"]
        elif kind == "payment":
            program = g[f"{PROGRAM}_id"]
            key = (0, g[f"{PROGRAM}__name"], program) if program else (1, "", 0)
            label = (
                pick_name(g[f"{PROGRAM}__name"], g[f"{PROGRAM}__name_en"])
                if program
                else "其他支出"
            )
            bucket = buckets["p"]
        elif kind in ("transfer_in", "transfer_out"):
            key, label, bucket = (-direction,), str(kinds[kind]), buckets["t"]
        else:
            rk = g["reverses__kind"] or ""
            key, label, bucket = (-direction, rk), f"冲正{kinds.get(rk, '')}", buckets["v"]
        line = bucket.setdefault(key, [label, 0, D(0), direction])
        line[1] += g["n"]
        line[2] += g["total"]

    def lines(group: str, b: str) -> list[SummaryLine]:
        return [
            SummaryLine(group, str(label), n, yuan(amount), direction)
            for _k, (label, n, amount, direction) in sorted(buckets[b].items())
        ]

    return PeriodSummary(
        date_from, date_to, opening, lines("receipt", "r"), lines("payment", "p"),
        lines("transfer", "t"), lines("reversal", "v"),
    )  # fmt: skip


def assert_every_figure_adds_up(user: Any) -> None:
    assert stored_day_totals() == rows_day_totals()
    funds = list(Fund.objects.all())
    assert len(funds) >= 2
    for fund in funds:
        total_in, total_out = rows_totals(fund)
        totals = selectors.fund_totals(fund)
        assert (totals.total_in, totals.total_out) == (total_in, total_out)
        assert ledger.balance_of(fund) == total_in - total_out
        for date_from, date_to in PERIODS:
            summary = selectors.fund_period_summary(fund, date_from, date_to)
            assert summary == rows_period_summary(fund, date_from, date_to)
    for fund in selectors.managed_funds(user):
        assert (fund.total_in, fund.total_out) == rows_totals(fund)
        assert fund.balance == rows_totals(fund)[0] - rows_totals(fund)[1]


def on(day: dt.date) -> None:
    clock.reset()
    clock.advance(day - clock.today())


def receive(dave, fund, code, amount, day, **extra):
    return ledger.receipt_post(
        actor=dave, fund=fund, amount=amount, memo=f"{code} 收入", source=code,
        payer_kind="unit", payer=f"{code} 缴款单位", occurred_on=day,
        date_reason="" if day == clock.today() else "回单迟到", **extra,
    )  # fmt: skip


@pytest.fixture
def books(units, alice, carol, dave, festival, fund):
    """Two funds with receipts from several sources on several days, a
    donation, aid payments of the festival program (one reversed), a loan
    paid out and partly repaid, another expense, and a transfer and its
    reversal."""
    on(JUNE_15)
    other = ledger.fund_create(actor=dave, unit=units["a"], name="综合帮扶资金", year=2026)
    festival.funds.add(other)
    receive(dave, other, "enterprise", "999", dt.date(2026, 5, 31))
    receive(dave, other, "higher_grant", "15000", dt.date(2026, 6, 10))
    receive(dave, other, "higher_grant", "500.50", dt.date(2026, 6, 10))
    receive(dave, other, "admin_allocation", "8000", dt.date(2026, 6, 12))
    receive(dave, other, "donation", "300", dt.date(2026, 6, 12), donor="张三", campaign="六一")
    paid = []
    for name, source in (("甲户", other), ("乙户", other), ("丙户", fund)):
        app = approve(filed(units["a"], name=name), festival, drafter=alice, approver=carol)
        paid.append(payments.aid_pay(actor=dave, application=app, fund=source, method="bank"))
    payments.aid_payment_reverse(actor=dave, payment=paid[1], reason="账号有误")
    ledger.payment_post(actor=dave, fund=other, amount="300", memo="慰问品运费")
    out, _into = ledger.transfer_post(
        actor=dave, source=fund, target=other, amount="2000", memo="调剂"
    )
    ledger.entry_correct(actor=dave, entry=out, reason="调错了")
    ledger.transfer_post(actor=dave, source=fund, target=other, amount="1500", memo="再调剂")
    loans = selectors_program(units, fund)
    loan_app = approved_loan(alice, carol, filed(units["a"], name="丁户"), loans, amount="3000")
    loan = loan_disburse(
        actor=dave, application=loan_app, fund=fund, method="bank", term_months=3,
        first_due_on=add_months(clock.today(), 1),
    )  # fmt: skip
    repayment_record(actor=dave, loan=loan, amount="1000")
    return fund, other


def selectors_program(units, fund):
    from programs.models import Program

    program = Program.objects.create(
        unit=units["city"], name="困难职工无息借款", category="loan", kind="loan"
    )
    program.funds.add(fund)
    return program


@pytest.mark.django_db
def test_the_day_totals_and_every_figure_equal_the_rows_before_and_after_more_changes(
    dave, units, books, alice, carol, festival
):
    fund, other = books
    assert LedgerDay.objects.filter(line__startswith="program:").exists()
    assert LedgerDay.objects.filter(line="reversal:transfer_out").exists()
    assert_every_figure_adds_up(dave)

    # More money moves, on later days and on days already counted.
    on(dt.date(2026, 6, 16))
    receive(dave, other, "higher_grant", "42.42", dt.date(2026, 6, 10))
    receive(dave, fund, "donation", "88", dt.date(2026, 6, 16), campaign="端午")
    app = approve(filed(units["a"], name="戊户"), festival, drafter=alice, approver=carol)
    payment = payments.aid_pay(actor=dave, application=app, fund=other, method="bank")
    payments.aid_payment_reverse(actor=dave, payment=payment, reason="重复")
    ledger.payment_post(actor=dave, fund=fund, amount="12.34", memo="手续费")
    assert_every_figure_adds_up(dave)

    # The rebuild writes what the inserts kept, and the check finds it equal.
    before = stored_day_totals()
    call_command("ledger_summary_rebuild", stdout=io.StringIO())
    assert stored_day_totals() == before
    call_command("ledger_summary_rebuild", "--check", stdout=io.StringIO())


@pytest.mark.django_db
def test_a_refused_payment_and_a_repeated_receipt_count_nothing(dave, fund):
    before = stored_day_totals()
    with pytest.raises(Exception, match="资金余额不足"):
        ledger.payment_post(actor=dave, fund=fund, amount="999999", memo="太多")
    first = receive(dave, fund, "other", "10", clock.today(), reference="r-1")
    again = receive(dave, fund, "other", "10", clock.today(), reference="r-1")
    assert first.pk == again.pk
    after = stored_day_totals()
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    assert len(changed) == 1
    ((key, (n, amount)),) = changed.items()
    assert key[0] == fund.pk and key[3] == 1
    assert (n, amount) == (before[key][0] + 1, before[key][1] + D("10"))
    assert stored_day_totals() == rows_day_totals()


@pytest.mark.django_db
def test_the_fund_page_shows_the_figures_of_the_rows_with_a_fixed_query_count(
    as_user, dave, books, django_assert_max_num_queries
):
    _fund, other = books
    client = as_user(dave)
    url = reverse("funds:fund_detail", args=[other.pk])
    period = {"date_from": "2026-06-01", "date_to": "2026-06-30"}
    response = client.get(url, period)
    assert response.status_code == 200
    total_in, total_out = rows_totals(other)
    assert response.context["totals"].balance == total_in - total_out
    assert response.context["summary"] == rows_period_summary(
        other, dt.date(2026, 6, 1), dt.date(2026, 6, 30)
    )
    with django_assert_max_num_queries(100) as few:
        client.get(url, period)
    # Many more entries, on many days and lines: the same queries.
    for day in range(1, 15):
        receive(dave, other, "higher_grant", "1", dt.date(2026, 6, day))
        receive(dave, other, "civil_affairs", "2", dt.date(2026, 6, day))
        ledger.payment_post(actor=dave, fund=other, amount="1", memo="杂费")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url, period)
    assert response.context["summary"] == rows_period_summary(
        other, dt.date(2026, 6, 1), dt.date(2026, 6, 30)
    )


@pytest.mark.django_db
def test_the_migration_fill_equals_the_rows(dave, books):
    """What the data migration and `ledger_summary_rebuild` do from nothing."""
    LedgerDay.objects.all().delete()
    call_command("ledger_summary_rebuild", stdout=io.StringIO())
    assert stored_day_totals() == rows_day_totals()
    assert_every_figure_adds_up(dave)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_clerks_posting_to_one_fund_at_once_are_both_counted(seeded_lists, dave, units):
    fund = ledger.fund_create(actor=dave, unit=units["a"], name="并发资金", year=2026)
    # Nothing counted yet for today: both writers may try to create the row.
    refused = race(2, lambda i: receive(dave, fund, "other", f"{100 + i}", clock.today()))
    assert not refused
    # Then receipts and payments at once, on a row that exists.
    refused = race(
        6,
        lambda i: (
            receive(dave, fund, "other", "10", clock.today())
            if i % 2
            else ledger.payment_post(actor=dave, fund=fund, amount="60", memo="并发支出")
        ),
    )
    assert not refused
    assert LedgerEntry.objects.filter(fund=fund).count() == 8
    assert stored_day_totals() == rows_day_totals()
    assert ledger.balance_of(fund) == D("201") + 3 * D("10") - 3 * D("60")
    assert selectors.fund_totals(fund).balance == ledger.balance_of(fund)
