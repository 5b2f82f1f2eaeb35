"""Where a fund's money came from, and the dates things happened, as the
fund page, the 资金收支明细 PDF and its workbook show them (one selector:
funds.selectors.fund_period_summary), and the Beijing date of a payment made
just after midnight on every screen and document."""

import datetime as dt
import re
from decimal import Decimal as D
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import clock
from funds import services as ledger
from funds.models import EntryKind, LedgerEntry
from funds.selectors import fund_period_summary
from programs.models import PaymentBatch
from programs.services import payments
from tests.programs.conftest import filed
from tests.programs.test_payments import approve
from tests.reports.documents_world import compact, pdf_text, sheet_rows

JUNE_15 = dt.date(2026, 6, 15)
PERIOD = {"date_from": "2026-06-01", "date_to": "2026-06-30"}
# Source code, name, amounts received in June (value dates inside the period).
JUNE_RECEIPTS = [
    ("admin_allocation", "行政划拨", ["30000", "20000"]),
    ("higher_grant", "上级拨款", ["15000"]),
    ("donation", "捐款", ["5000.50"]),
    ("premium", "互助会费", ["1200"]),
]


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
def mixed(units, alice, carol, dave, festival):
    """A fund fed by four sources in June (and one in May, before the
    period), paying two aid payments of the festival program (one reversed)
    and one other expense."""
    on(JUNE_15)
    mixed = ledger.fund_create(actor=dave, unit=units["a"], name="综合帮扶资金", year=2026)
    festival.funds.add(mixed)
    receive(dave, mixed, "enterprise", "999", dt.date(2026, 5, 31))
    for code, _name, amounts in JUNE_RECEIPTS:
        for i, amount in enumerate(amounts):
            receive(dave, mixed, code, amount, dt.date(2026, 6, 10 + i), donor="")
    paid = []
    for name in ("甲户", "乙户"):
        app = approve(filed(units["a"], name=name), festival, drafter=alice, approver=carol)
        paid.append(payments.aid_pay(actor=dave, application=app, fund=mixed, method="bank"))
    payments.aid_payment_reverse(actor=dave, payment=paid[1], reason="账号有误")
    ledger.payment_post(actor=dave, fund=mixed, amount="300", memo="慰问品运费")
    return mixed


def _june_receipts_total() -> D:
    return sum((D(a) for _c, _n, amounts in JUNE_RECEIPTS for a in amounts), D("0"))


@pytest.mark.django_db
def test_a_fund_fed_by_four_sources_shows_each_on_the_page_the_pdf_and_the_workbook(
    as_user, dave, mixed
):
    client = as_user(dave)
    # What the ledger itself holds for June's receipts, by source.
    june = LedgerEntry.objects.filter(
        fund=mixed, kind__in=[EntryKind.RECEIPT, EntryKind.DONATION],
        occurred_on__range=(dt.date(2026, 6, 1), dt.date(2026, 6, 30)),
    )  # fmt: skip
    by_source = {
        name: (len(amounts), sum((D(a) for a in amounts), D("0")))
        for _code, name, amounts in JUNE_RECEIPTS
    }
    assert sum(t for _n, t in by_source.values()) == sum(e.amount for e in june)
    assert sum(t for _n, t in by_source.values()) == _june_receipts_total() == D("71200.50")

    page = client.get(reverse("funds:fund_detail", args=[mixed.pk]), PERIOD)
    body = page.content.decode()
    table = body[body.index('id="period-summary"') :]
    table = compact(re.sub(r"<[^>]+>", " ", table[: table.index("</table>")]))
    for name, (count, total) in by_source.items():
        assert f"{name}{count}{total:,.2f}" in table, name
    assert f"收入小计5{_june_receipts_total():,.2f}" in table
    assert "企业注资" not in table  # May's receipt is in the opening balance
    assert "期初余额999.00" in table
    assert "2026年春节送温暖2−2,000.00" in table and "其他支出1−300.00" in table
    assert "冲正支出1+1,000.00" in table
    closing = D("999") + _june_receipts_total() - D("2000") - D("300") + D("1000")
    assert f"期末余额{closing:,.2f}" in table and closing == ledger.balance_of(mixed)

    url = reverse("reports:fund_statement", args=[mixed.pk])
    flat = compact(pdf_text(client.get(url, PERIOD).content))
    for name, (count, total) in by_source.items():
        assert f"收入·{name}（{count}笔）{total:,.2f}" in flat, name
    assert "支出·2026年春节送温暖（2笔）2,000.00" in flat
    assert f"期初余额999.00+本期收入{_june_receipts_total() + 1000:,.2f}" in flat

    _ws, rows = sheet_rows(client.get(url, {**PERIOD, "format": "xlsx"}).content)
    header = list(rows[2])
    c_in = header.index("收入")
    lines = {r[0]: r for r in rows if isinstance(r[0], str) and r[0].startswith("收入·")}
    assert len(lines) == 4
    for name, (count, total) in by_source.items():
        assert D(str(lines[f"收入·{name}（{count} 笔）"][c_in])) == total
    assert sum(D(str(r[c_in])) for r in lines.values()) == _june_receipts_total()
    # The same figures the page showed, from the same selector.
    summary = fund_period_summary(mixed, dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    assert [(x.label, x.count, x.amount) for x in summary.receipts] == [
        (name, count, total) for name, (count, total) in by_source.items()
    ]


@pytest.mark.django_db
def test_the_period_summary_uses_the_value_date_and_closes_on_the_next_opening(
    dave, mixed, django_assert_num_queries
):
    # Recorded on 15 June, worth 31 May: May's, not June's.
    may = LedgerEntry.objects.get(fund=mixed, source__code="enterprise")
    assert may.created_at.date() >= dt.date(2026, 6, 14) and may.occurred_on.month == 5
    with django_assert_num_queries(2):
        june = fund_period_summary(mixed, dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    may_summary = fund_period_summary(mixed, dt.date(2026, 5, 1), dt.date(2026, 5, 31))
    assert [x.label for x in may_summary.receipts] == ["企业注资"]
    assert may_summary.closing == june.opening == D("999.00")
    # The edges belong to the period: 10 June is its first receipt day.
    tenth = fund_period_summary(mixed, dt.date(2026, 6, 10), dt.date(2026, 6, 10))
    assert [(x.label, x.amount) for x in tenth.receipts] == [
        ("行政划拨", D("30000.00")),
        ("上级拨款", D("15000.00")),
        ("捐款", D("5000.50")),
        ("互助会费", D("1200.00")),
    ]
    after = fund_period_summary(mixed, dt.date(2026, 6, 11), dt.date(2026, 6, 30))
    assert after.opening == tenth.closing and after.closing == june.closing
    assert june.closing == ledger.balance_of(mixed)
    # Nothing after the period counts: July opens where June closed.
    july = fund_period_summary(mixed, dt.date(2026, 7, 1), None)
    assert july.opening == june.closing and july.lines == []


# -- A batch paid at 00:30 Beijing time ------------------------------------------------------


@pytest.mark.django_db
def test_a_batch_made_at_half_past_midnight_shows_the_beijing_date_everywhere(
    as_user,
    alice,
    carol,
    dave,
    units,
    fund,
    festival,
):
    instant = dt.datetime(2026, 6, 15, 16, 30, tzinfo=dt.UTC)  # 00:30 on 16 June in Beijing
    clock.reset()
    clock.advance(instant - timezone.now())
    assert clock.today() == dt.date(2026, 6, 16)
    app = approve(filed(units["a"], name="王秀兰"), festival, drafter=alice, approver=carol)
    client = as_user(dave)
    # The rows' own timestamps come from the real clock: made at that moment
    # (the ledger refuses an UPDATE, so they cannot be moved afterwards).
    clock.reset()  # the patched clock itself stands at that moment
    with mock.patch("django.utils.timezone.now", return_value=instant):
        assert clock.today() == dt.date(2026, 6, 16)
        response = client.post(
            reverse("programs:payment_batch_create"),
            {"applications": [app.pk], "fund": fund.pk, "method": "bank",
             "paid_on": clock.today().isoformat()},
        )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    batch = PaymentBatch.objects.get()
    payment = batch.payments.get()
    assert payment.paid_on == payment.entry.occurred_on == dt.date(2026, 6, 16)
    assert batch.created_at == payment.entry.created_at == instant

    detail = client.get(reverse("programs:payment_batch_detail", args=[batch.pk])).content
    detail = detail.decode()
    assert "2026-06-16 00:30" in detail and "2026-06-15" not in detail
    assert re.search(rf'id="payment-{payment.pk}-paid-on">2026-06-16', detail)
    listing = client.get(reverse("programs:payment_batch_list")).content.decode()
    assert "2026-06-16 00:30" in listing and "2026-06-15" not in listing
    ledger_page = client.get(reverse("funds:fund_detail", args=[fund.pk])).content.decode()
    row = ledger_page[ledger_page.index(f'id="entry-{payment.entry_id}"') :]
    row = row[: row.index("</tr>")]
    assert "2026-06-16" in row and "2026-06-16 00:30" in row and "2026-06-15" not in row

    url = reverse("reports:fund_disbursements", args=[fund.pk])
    flat = compact(pdf_text(client.get(url).content))
    assert "2026-06-16" in flat and "2026-06-15" not in flat
    _ws, rows = sheet_rows(client.get(url, {"format": "xlsx"}).content)
    dates = {c.date() if isinstance(c, dt.datetime) else c for r in rows[3:] for c in r[:3]}
    assert dt.date(2026, 6, 16) in dates and dt.date(2026, 6, 15) not in dates
