"""统计: the page, the PDF and the workbook against counts recomputed from
the rows themselves.

The tree: county A (alice's) with its grassroots union a1, and county B.
Households, exits, a relapse, aid payments (one reversed, one recorded
today for last year), a cash-and-goods handout, goods, loans with
repayments, mutual-aid claims, receipts from several sources and visits are
written in both counties; county B's must never appear for alice. The rows
are written directly (as the services write them), so the figures are
checked against the rows, not against the services' arithmetic."""

import datetime as dt
import io
import re
from decimal import Decimal as D
from typing import Any

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from accounts.models import AuditEvent, User
from cases import clock
from cases.models import (
    Cause,
    FileCategory,
    Helper,
    Household,
    HouseholdStatus,
    StatusChange,
    Tier,
    Visit,
)
from funds.models import EntryKind, Fund, IncomeSource, LedgerEntry
from programs.models import (
    AidPayment,
    Application,
    ApplicationStatus,
    Claim,
    ClaimCategory,
    ClaimStatus,
    Cooperative,
    CoopMember,
    Loan,
    Program,
    Repayment,
)
from reports.charts import Series, bar_chart
from tests.builders import make_household, make_id, make_user, roster_person

TODAY = dt.date(2026, 6, 15)
S = HouseholdStatus


def filed(unit: Any, filed_on: dt.date, **extra: Any) -> Household:
    fields = {"status": S.FILED, "filed_on": filed_on, "id_number": make_id()}
    fields.update(extra)
    return make_household(unit, **fields)


def _dave() -> User:
    return User.objects.get(username="dave")


def entry(
    fund: Fund, kind: str, direction: int, amount: str, on: dt.date, **extra: Any
) -> LedgerEntry:
    return LedgerEntry.objects.create(
        fund=fund, kind=kind, direction=direction, amount=D(amount), occurred_on=on,
        memo=kind, actor=_dave(), **extra,
    )  # fmt: skip


def reverse_entry(original: LedgerEntry, on: dt.date) -> LedgerEntry:
    return entry(
        original.fund, EntryKind.REVERSAL, -original.direction, str(original.amount), on,
        reverses=original,
    )  # fmt: skip


def receive(fund: Fund, source: str, amount: str, on: dt.date, **extra: Any) -> LedgerEntry:
    """A receipt naming its income source by code."""
    kind = extra.pop("kind", EntryKind.RECEIPT)
    return entry(fund, kind, 1, amount, on, source=IncomeSource.objects.get(code=source), **extra)


def pay(
    household: Household,
    program: Program,
    fund: Any,
    amount: str,
    on: dt.date,
    goods: str = "0",
) -> AidPayment:
    """A payment as `payments.pay` writes it: application, ledger entry, payment.
    `goods` is the part given as goods (the cash part is the rest)."""
    application = Application.objects.create(
        program=program, household=household, year=on.year, status=ApplicationStatus.PAID,
        amount=D(amount), goods_value=D(goods), drafted_by=_dave(),
    )  # fmt: skip
    out = entry(fund, EntryKind.PAYMENT, -1, amount, on, household=household)
    return AidPayment.objects.create(
        application=application, fund=fund, entry=out, method="bank", amount=D(amount),
        goods_value=D(goods), paid_on=on, paid_by=_dave(), account_name=household.name,
        bank_name="工行", bank_account="6222020200112233445",
    )  # fmt: skip


def reverse_payment(payment: AidPayment, on: dt.date) -> None:
    payment.reversal = reverse_entry(payment.entry, on)
    payment.reversal_reason = "账号错误"
    payment.save(update_fields=["reversal", "reversal_reason"])


def lend(household: Household, program: Program, fund: Fund, amount: str, on: dt.date) -> Loan:
    payment = pay(household, program, fund, amount, on)
    return Loan.objects.create(
        application=payment.application, payment=payment, household=household, fund=fund,
        principal=D(amount), issued_on=on, term_months=12, created_by=_dave(),
    )  # fmt: skip


def repay(loan: Loan, amount: str, on: dt.date) -> Repayment:
    back = receive(loan.fund, "other", amount, on, household=loan.household)
    return Repayment.objects.create(
        loan=loan, amount=D(amount), paid_on=on, entry=back, actor=_dave()
    )


@pytest.fixture
def world(units, alice, bob, carol, dave, erin, frank, fay):
    clock.advance(dt.timedelta(days=(TODAY - clock.today()).days))
    t1, t2 = Tier.objects.order_by("sort_order", "id")[:2]
    c1, c2 = Cause.objects.order_by("sort_order", "id")[:2]
    a, a1, b = units["a"], units["a1"], units["b"]
    h = {
        # county A's own households
        "a_1": filed(a, dt.date(2026, 2, 10), tier=t1, main_cause=c1, household_size=3),
        "a_2": filed(a, dt.date(2026, 3, 5), tier=t1, main_cause=c2, household_size=2),
        # its grassroots union a1
        "a1_1": filed(a1, dt.date(2026, 3, 20), tier=t2, main_cause=c1, household_size=4),
        "a1_2": filed(a1, dt.date(2026, 3, 21), tier=t2, main_cause=c1, household_size=1),
        "a1_old": filed(a1, dt.date(2025, 12, 1), tier=t1, main_cause=c2, household_size=5),
        # filed in January, exited in April: new in January, an exit, not in force
        "a1_gone": filed(
            a1, dt.date(2026, 1, 5), tier=t1, status=S.EXITED, exited_on=dt.date(2026, 4, 10)
        ),
        # exited in January, filed again in May: a relapse
        "a1_back": filed(
            a1, dt.date(2026, 5, 3), tier=t2, main_cause=c2, exited_on=dt.date(2026, 1, 15)
        ),
        # an intake in progress: not counted anywhere
        "a_draft": make_household(a, status=S.DRAFT, id_number=make_id()),
        # county B
        "b_1": filed(b, dt.date(2026, 2, 1), tier=t1, main_cause=c1, household_size=6),
        "b_2": filed(b, dt.date(2026, 3, 1), tier=t2, main_cause=c1),
        "b_gone": filed(b, dt.date(2026, 1, 9), status=S.EXITED, exited_on=dt.date(2026, 3, 3)),
    }
    StatusChange.objects.create(
        household=h["a1_back"], from_status=S.FILED, to_status=S.EXITED, actor=carol,
        at=dt.datetime(2026, 1, 15, 10, tzinfo=dt.UTC),
    )  # fmt: skip
    StatusChange.objects.create(
        household=h["a1_back"], from_status=S.EXITED, to_status=S.DRAFT, actor=alice,
        at=dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC),
    )  # fmt: skip
    # The exit of a1_gone came after its filing: not a relapse.
    StatusChange.objects.create(
        household=h["a1_gone"], from_status=S.FILED, to_status=S.EXITED, actor=carol,
        at=dt.datetime(2026, 4, 10, 10, tzinfo=dt.UTC),
    )  # fmt: skip

    def fund(unit: Any, name: str, year: int = 2026) -> Fund:
        return Fund.objects.create(unit=unit, name=name, year=year, created_by=dave)

    fund_a, gifts, fund_b = fund(a, "送温暖专项"), fund(a, "爱心捐款"), fund(b, "二七送温暖")
    loan_fund, coop_fund = fund(a, "无息借款资金"), fund(a, "职工医疗互助金")
    # Receipts by source, by value date; county B's never count for alice.
    receive(fund_a, "admin_allocation", "100000", dt.date(2026, 1, 5))
    receive(fund_a, "admin_allocation", "20000", dt.date(2025, 3, 1))
    receive(gifts, "donation", "50000", dt.date(2026, 1, 10), kind=EntryKind.DONATION)
    mistaken_gift = receive(gifts, "donation", "800", dt.date(2026, 3, 1), kind=EntryKind.DONATION)
    reverse_entry(mistaken_gift, dt.date(2026, 3, 5))
    receive(coop_fund, "premium", "3000", dt.date(2026, 2, 1))
    receive(coop_fund, "premium", "1200", dt.date(2025, 12, 1))
    receive(loan_fund, "higher_grant", "30000", dt.date(2025, 1, 15))
    receive(fund_b, "admin_allocation", "100000", dt.date(2026, 1, 5))

    def program(name: str, category: str, kind: str) -> Program:
        return Program.objects.create(unit=units["city"], name=name, category=category, kind=kind)

    festival = program("春节送温暖", "festival", "cash")
    school = program("金秋助学", "education", "cash")
    gift_pack = program("送温暖礼包", "festival", "cash_goods")
    rice = program("慰问米面油", "festival", "goods")
    lending = program("无息借款", "loan", "loan")
    mutual = program("医疗互助", "mutual_medical", "cash")
    pay(h["a_1"], festival, fund_a, "1000", dt.date(2026, 1, 20))
    pay(h["a1_1"], festival, fund_a, "800", dt.date(2026, 1, 21))
    pay(h["a1_2"], festival, gifts, "500.50", dt.date(2026, 2, 3))
    pay(h["a1_old"], school, fund_a, "3000", dt.date(2026, 5, 8))
    reverse_payment(pay(h["a_2"], school, fund_a, "2500", dt.date(2026, 5, 9)), TODAY)
    pay(h["a_2"], festival, fund_a, "700", dt.date(2025, 12, 28))  # before the period
    # Recorded today, paid last year: it counts in last year.
    pay(h["a1_old"], festival, fund_a, "900", dt.date(2025, 11, 3))
    # One handout of cash and goods: 400 cash, goods worth 200.
    pay(h["a_1"], gift_pack, fund_a, "600", dt.date(2026, 2, 5), goods="200")
    pay(h["a1_1"], rice, fund_a, "300", dt.date(2026, 2, 6), goods="300")
    pay(h["b_1"], festival, fund_b, "9999", dt.date(2026, 1, 20))
    # Loans: lent last year and this, repaid in both; a reversed repayment.
    old_loan = lend(h["a1_old"], lending, loan_fund, "6000", dt.date(2025, 3, 1))
    repay(old_loan, "1000", dt.date(2025, 9, 1))
    repay(old_loan, "1000", dt.date(2026, 2, 1))
    reverse_entry(repay(old_loan, "500", dt.date(2026, 3, 1)).entry, dt.date(2026, 3, 2))
    lend(h["a_2"], lending, loan_fund, "2000", dt.date(2026, 4, 1))
    # Mutual aid: claims paid from the cooperative's fund; one paid before
    # claims had entries of their own, through its aid application.
    coop = Cooperative.objects.create(
        unit=a, name="金水区职工医疗互助会", fund=coop_fund, program=mutual,
        first_premium=D("50"), yearly_premium=D("30"),
    )  # fmt: skip

    def member(name: str, unit: Any) -> CoopMember:
        return CoopMember.objects.create(
            cooperative=coop, name=name, id_number=make_id(), unit=unit,
            joined_on=dt.date(2025, 1, 1), created_by=dave,
        )  # fmt: skip

    m1, m2 = member("王强", units["a1"]), member("赵敏", a)
    medical = ClaimCategory.objects.get(code="medical")
    schooling = ClaimCategory.objects.get(code="school")

    def claim(who: CoopMember, category: Any, amount: str, paid_on: dt.date | None) -> Claim:
        paid = paid_on is not None
        return Claim.objects.create(
            member=who, category=category, amount=D(amount), reason="住院", submitted_by=alice,
            status=ClaimStatus.PAID if paid else ClaimStatus.APPROVED, paid_on=paid_on,
            entry=entry(coop_fund, EntryKind.PAYMENT, -1, amount, paid_on) if paid else None,
        )  # fmt: skip

    claim(m1, medical, "2000", dt.date(2026, 4, 1))
    reverse_entry(claim(m2, schooling, "1500", dt.date(2026, 4, 2)).entry, dt.date(2026, 4, 3))
    claim(m2, medical, "999", None)  # approved, not yet paid
    legacy = pay(h["a_2"], mutual, coop_fund, "1200", dt.date(2026, 3, 3))
    Claim.objects.create(
        member=m2, category=medical, amount=D("1200"), reason="手术", submitted_by=alice,
        status=ClaimStatus.PAID, application=legacy.application,
    )  # fmt: skip

    # Visits: interval 3 months (the default rules).
    for key in ("a_1", "a1_1", "a1_old", "b_1"):
        helper_user = alice if key != "b_1" else bob
        Helper.objects.create(
            household=h[key], user=helper_user, role="union_cadre",
            person=roster_person(h[key].unit, helper_user),
            is_first=True, start_on=dt.date(2026, 1, 2),
        )  # fmt: skip
    Visit.objects.create(household=h["a_1"], visitor=alice, visited_on=dt.date(2026, 4, 2))
    Visit.objects.create(household=h["a_1"], visitor=alice, visited_on=dt.date(2026, 5, 2))
    Visit.objects.create(household=h["a1_old"], visitor=alice, visited_on=dt.date(2025, 12, 20))
    Visit.objects.create(household=h["b_1"], visitor=bob, visited_on=dt.date(2026, 4, 2))
    return {
        "h": h, "t1": t1, "t2": t2, "c1": c1, "c2": c2, "festival": festival, "school": school,
        "fund_a": fund_a,
    }  # fmt: skip


def _cells(html: str, key: str, label: str) -> dict[str, str]:
    """The figures of one row (by its first cell) of one table on the page."""
    section = re.search(rf'<section class="card" id="stat-{key}">(.*?)</section>', html, re.S)
    assert section, key
    row = re.search(rf'<th scope="row">{re.escape(label)}</th>(.*?)</tr>', section.group(1), re.S)
    assert row, (key, label)
    return dict(re.findall(r'data-key="(\w+)">([^<]*)</td>', row.group(1)))


def _num(text: str) -> D:
    return D(text.replace(",", "") or "0")


def _in_force(path: str, **filters: Any) -> int:
    return Household.objects.filter(status=S.FILED, unit__path__startswith=path, **filters).count()


def test_households_roll_up_the_union_tree(as_user, alice, units, world):
    response = as_user(alice).get(reverse("reports:statistics"))
    assert response.status_code == 200
    html = response.content.decode()
    t1, t2 = world["t1"], world["t2"]
    a1 = _cells(html, "tiers", "郑州纺织厂工会")
    own = _cells(html, "tiers", "金水区总工会（本级）")
    total = _cells(html, "tiers", "合计")
    a_path, a1_path = units["a"].path, units["a1"].path
    assert _num(a1["households"]) == _in_force(a1_path) == 4
    assert _num(a1[f"tier_{t2.pk}"]) == _in_force(a1_path, tier=t2) == 3
    assert _num(a1["people"]) == sum(
        Household.objects.filter(status=S.FILED, unit=units["a1"]).values_list(
            "household_size", flat=True
        )
    )
    assert _num(own["households"]) == _in_force(a_path, unit=units["a"]) == 2
    # The county's total is its own households plus its grassroots union's.
    assert _num(total["households"]) == _in_force(a_path) == 6
    assert _num(total[f"tier_{t1.pk}"]) == _in_force(a_path, tier=t1)
    # The cause table adds up to the same households.
    causes = _cells(html, "causes", "合计")
    assert _num(causes["households"]) == 6
    c1 = _cells(html, "causes", world["c1"].name)
    assert _num(c1["households"]) == _in_force(a_path, main_cause=world["c1"]) == 3
    # County B is nowhere: not as a row, not in a total.
    assert "二七区总工会" not in html
    assert "9,999" not in html


def test_new_files_exits_and_relapses_per_month(as_user, alice, world):
    html = as_user(alice).get(reverse("reports:statistics")).content.decode()
    jan = _cells(html, "movements", "2026年1月")
    assert (jan["new"], jan["exits"], jan["relapses"]) == ("1", "1", "0")  # a1_gone; a1_back's exit
    mar = _cells(html, "movements", "2026年3月")
    assert (mar["new"], mar["exits"]) == ("3", "0")  # county B's March exit is not alice's
    apr = _cells(html, "movements", "2026年4月")
    assert (apr["new"], apr["exits"], apr["net"]) == ("0", "1", "-1")
    may = _cells(html, "movements", "2026年5月")
    assert (may["new"], may["relapses"]) == ("1", "1")
    total = _cells(html, "movements", "合计")
    filed_in_year = Household.objects.filter(
        unit__path__startswith=world["h"]["a_1"].unit.path, filed_on__year=2026
    ).count()
    assert _num(total["new"]) == filed_in_year == 6
    assert (total["exits"], total["relapses"]) == ("2", "1")
    assert "2026年12月" in html  # every month of the period has its row


def _table_rows(html: str, key: str) -> tuple[list[dict[str, str]], dict[str, str], str]:
    """Every data row of one table, its total row and the total row's label."""
    section = re.search(rf'<section class="card" id="stat-{key}">(.*?)</section>', html, re.S)
    assert section, key
    body = re.search(r"<tbody>(.*?)</tbody>", section.group(1), re.S)
    foot = re.search(
        r'<tfoot><tr class="total"><th scope="row">([^<]*)</th>(.*?)</tr>', section.group(1), re.S
    )
    assert body and foot, key
    rows = [
        dict(re.findall(r'data-key="(\w+)">([^<]*)</td>', row))
        for row in re.findall(r"<tr>(.*?)</tr>", body.group(1), re.S)
        if "data-key" in row
    ]
    return rows, dict(re.findall(r'data-key="(\w+)">([^<]*)</td>', foot.group(2))), foot.group(1)


def _live_handouts(path: str, year: int) -> Any:
    return AidPayment.objects.filter(
        reversal__isnull=True,
        paid_on__year=year,
        application__household__unit__path__startswith=path,
        application__claim__isnull=True,
        loan__isnull=True,
    )


def test_grants_goods_loans_and_claims_are_apart_and_never_summed(as_user, dave, units, world):
    html = as_user(dave).get(reverse("reports:statistics")).content.decode()
    # Grants: the cash part of live handouts, loans and claims left out.
    festival = _cells(html, "grants", "春节送温暖")
    assert (festival["y2026_households"], festival["y2026_times"]) == ("3", "3")
    assert festival["y2026_amount"] == "2,300.50"
    # The reversed 2,500 is not aid paid; December 2025 is outside the period.
    school = _cells(html, "grants", "金秋助学")
    assert (school["y2026_times"], school["y2026_amount"]) == ("1", "3,000.00")
    # The cash-and-goods line: its cash part here, its goods value below.
    assert _cells(html, "grants", "送温暖礼包")["y2026_amount"] == "400.00"
    assert _cells(html, "goods", "送温暖礼包")["y2026_amount"] == "200.00"
    assert _cells(html, "goods", "慰问米面油")["y2026_amount"] == "300.00"
    assert "慰问米面油" not in re.search(r'id="stat-grants">(.*?)</section>', html, re.S).group(1)
    live = _live_handouts(units["a"].path, 2026).exclude(application__program__kind="loan")
    cash = sum(p.amount - p.goods_value for p in live)
    grants = _cells(html, "grants", "小计")
    assert _num(grants["y2026_amount"]) == cash == D("5700.50")
    # Households counted once: a_1 had both a festival grant and the pack.
    assert grants["y2026_households"] == str(
        live.filter(amount__gt=F("goods_value")).values("application__household").distinct().count()
    )
    assert grants["y2026_households"] == "4"
    goods = _cells(html, "goods", "小计")
    assert _num(goods["y2026_amount"]) == sum(p.goods_value for p in live) == D("500.00")
    # Loans: lent, repaid (the reversed 500 is not), outstanding at year end.
    loans = _cells(html, "loans", "无息借款")
    assert (loans["y2026_times"], loans["y2026_lent"]) == ("1", "2,000.00")
    assert loans["y2026_repaid"] == "1,000.00"
    assert loans["y2026_outstanding"] == "6,000.00"  # 6,000 + 2,000 − 1,000 − 1,000
    # Claims: paid ones only (not the reversed, not the unpaid), the old one too.
    medical = _cells(html, "claims", "疾病医疗")
    assert (medical["y2026_households"], medical["y2026_times"]) == ("2", "2")
    assert medical["y2026_amount"] == "3,200.00"
    assert "子女入学" not in re.search(r'id="stat-claims">(.*?)</section>', html, re.S).group(1)

    # Each table has its own subtotal, the sum of its own rows; none is a
    # grand total, and no figure anywhere adds two kinds of money together.
    aid = re.search(
        r'<div class="stat-section" id="section-aid">(.*?)</div>\s*<div class="stat-section"',
        html,
        re.S,
    ).group(1)
    for key in ("grants", "goods", "loans", "claims"):
        rows, total, label = _table_rows(html, key)
        assert label == "小计"
        for column, figure in total.items():
            if column.endswith("_households"):
                continue  # counted once, checked above
            assert _num(figure) == sum(_num(r[column]) for r in rows), (key, column)
    assert "合计" not in re.sub(r"期间合计", "", aid.split("帮扶补助与实物（按月）")[0])
    figures = {_num(f) for f in re.findall(r'data-key="\w+">([^<]*)</td>', aid)}
    lent, claims = D("2000"), D("3200")
    for mixed in (cash + lent, cash + goods_total(goods), cash + claims, cash + lent + claims,
                  cash + goods_total(goods) + lent + claims):  # fmt: skip
        assert mixed not in figures


def goods_total(goods: dict[str, str]) -> D:
    return _num(goods["y2026_amount"])


def test_two_years_give_a_column_each_by_value_date(as_user, dave, world):
    url = reverse("reports:statistics") + "?date_from=2025-01-01&date_to=2026-12-31"
    html = as_user(dave).get(url).content.decode()
    festival = _cells(html, "grants", "春节送温暖")
    # 700 paid 28 December and 900 recorded today but paid 3 November 2025.
    assert (festival["y2025_times"], festival["y2025_amount"]) == ("2", "1,600.00")
    assert festival["y2026_amount"] == "2,300.50"
    assert festival["all_amount"] == "3,900.50"
    assert (festival["y2025_households"], festival["all_households"]) == ("2", "5")
    header = re.search(r'id="stat-grants">.*?<thead>(.*?)</thead>', html, re.S).group(1)
    assert "2025年户数" in header and "2026年金额" in header and "期间合计金额" in header
    loans = _cells(html, "loans", "无息借款")
    assert (loans["y2025_lent"], loans["y2025_repaid"]) == ("6,000.00", "1,000.00")
    assert loans["y2025_outstanding"] == "5,000.00"
    assert loans["y2026_outstanding"] == loans["all_outstanding"] == "6,000.00"
    assert (loans["all_lent"], loans["all_repaid"]) == ("8,000.00", "2,000.00")
    admin = _cells(html, "receipts", "行政划拨")
    assert (admin["y2025_amount"], admin["y2026_amount"]) == ("20,000.00", "100,000.00")
    premium = _cells(html, "receipts", "互助会费")
    assert (premium["y2025_amount"], premium["y2026_amount"]) == ("1,200.00", "3,000.00")
    years = _cells(html, "movements_years", "2025年")
    assert years["new"] == "1"  # a1_old, filed 1 December 2025
    assert 'id="stat-movements"' in html  # 24 months: the month tables stay


def test_a_long_range_has_year_tables_only(as_user, dave, world):
    url = reverse("reports:statistics") + "?date_from=2019-01-01&date_to=2026-12-31"
    html = as_user(dave).get(url).content.decode()
    assert 'id="stat-movements"' not in html and 'id="stat-aid_months"' not in html
    assert 'id="stat-movements_years"' in html
    assert _cells(html, "grants", "春节送温暖")["all_amount"] == "3,900.50"
    assert _cells(html, "grants", "春节送温暖")["y2019_amount"] == "0.00"
    assert "每年新建档与退出户数" in html  # the charts go by year


def test_receipts_by_source(as_user, dave, units, world):
    html = as_user(dave).get(reverse("reports:statistics")).content.decode()
    admin = _cells(html, "receipts", "行政划拨")
    assert (admin["y2026_times"], admin["y2026_amount"]) == ("1", "100,000.00")
    # The 800 received and reversed in March is subtracted from its source.
    gifts = _cells(html, "receipts", "捐款")
    assert (gifts["y2026_times"], gifts["y2026_amount"]) == ("1", "50,000.00")
    # A cooperative's premiums are a source like any other, and totalled.
    premium = _cells(html, "receipts", "互助会费")
    assert (premium["y2026_times"], premium["y2026_amount"]) == ("1", "3,000.00")
    # Loan repayments are money coming back, not income: not here.
    assert _cells(html, "receipts", "其他")["y2026_amount"] == "0.00"
    rows, total, label = _table_rows(html, "receipts")
    assert label == "收入合计"
    assert _num(total["y2026_amount"]) == sum(_num(r["y2026_amount"]) for r in rows)
    live = LedgerEntry.objects.filter(
        fund__unit__path__startswith=units["a"].path, occurred_on__year=2026,
        kind__in=["receipt", "donation"], repayment__isnull=True, reversed_by__isnull=True,
    )  # fmt: skip
    assert _num(total["y2026_amount"]) == sum(e.amount for e in live) == D("153000")


def test_funds_open_move_and_close_by_year(as_user, dave, units, world):
    url = reverse("reports:statistics") + "?date_from=2025-01-01&date_to=2026-12-31"
    html = as_user(dave).get(url).content.decode()
    rows, closing, label = _table_rows(html, "funds")
    assert label == "期末余额"
    entries = LedgerEntry.objects.filter(fund__unit__path__startswith=units["a"].path)

    def balance(until: dt.date) -> D:
        return sum((e.amount * e.direction for e in entries.filter(occurred_on__lte=until)), D(0))

    assert _num(closing["y2025_amount"]) == balance(dt.date(2025, 12, 31))
    assert _num(closing["y2026_amount"]) == _num(closing["all_amount"]) == balance(TODAY)
    assert _cells(html, "funds", "期初余额")["y2026_amount"] == closing["y2025_amount"]
    for key in ("y2025_amount", "y2026_amount", "all_amount"):
        assert _num(closing[key]) == sum(_num(r[key]) for r in rows)
    # Money of each kind on its own line: the 2026 loan, the claim paid from
    # the cooperative's fund and the one paid through its aid application.
    assert _cells(html, "funds", "借款放款")["y2026_amount"] == "-2,000.00"
    assert _cells(html, "funds", "借款还款")["y2026_amount"] == "1,500.00"  # 1,000 + 500
    assert _cells(html, "funds", "互助金支出")["y2026_amount"] == "-4,700.00"  # 2,000+1,500+1,200
    reversals = entries.filter(kind="reversal", occurred_on__year=2026)
    assert _num(_cells(html, "funds", "冲正")["y2026_amount"]) == sum(
        e.amount * e.direction for e in reversals
    )


def test_households_by_file_category(as_user, alice, units, world):
    sick, _new = FileCategory.objects.get_or_create(name="大病职工")
    single, _new = FileCategory.objects.get_or_create(name="单亲家庭")
    FileCategory.objects.create(name="已停用分类", is_active=False)
    world["h"]["a_1"].categories.add(sick, single)
    world["h"]["a1_1"].categories.add(sick)
    world["h"]["a1_gone"].categories.add(sick)  # exited: not in force
    world["h"]["b_1"].categories.add(sick)  # another county
    html = as_user(alice).get(reverse("reports:statistics")).content.decode()
    t1, t2 = world["t1"], world["t2"]
    row = _cells(html, "file_categories", "大病职工")
    assert row["households"] == "2"
    assert (row[f"tier_{t1.pk}"], row[f"tier_{t2.pk}"]) == ("1", "1")
    assert _cells(html, "file_categories", "单亲家庭")["households"] == "1"
    assert _cells(html, "file_categories", "未分类")["households"] == "4"
    assert "已停用分类" not in html
    # The last line counts each household once, not 2 + 1 + 4.
    _rows, total, label = _table_rows(html, "file_categories")
    assert label == "在档户数（不重复）"
    assert total["households"] == str(_in_force(units["a"].path)) == "6"


def test_visits_done_against_due(as_user, alice, world):
    html = as_user(alice).get(reverse("reports:statistics")).content.decode()
    own = _cells(html, "visits", "金水区总工会（本级）")
    # a_1: paired 2 January, due by 2 April, visited twice.
    assert (own["paired"], own["due"], own["done"], own["visits"]) == ("1", "1", "1", "2")
    a1 = _cells(html, "visits", "郑州纺织厂工会")
    # a1_1: paired 2 January, never visited; a1_old: last visit 20 December 2025.
    assert (a1["paired"], a1["due"], a1["done"], a1["missed"]) == ("2", "2", "0", "2")
    total = _cells(html, "visits", "合计")
    assert total["visits"] == str(
        Visit.objects.filter(
            household__unit__path__startswith=world["h"]["a_1"].unit.path,
            visited_on__year=2026,
            is_intake=False,
        ).count()
    )


def test_a_city_reader_sees_each_county_rolled_up(client, units, world):
    reader = make_user("cindy", units["city"], "auditor")
    client.force_login(reader)
    html = client.get(reverse("reports:statistics")).content.decode()
    county_a = _cells(html, "tiers", "金水区总工会")
    county_b = _cells(html, "tiers", "二七区总工会")
    assert _num(county_a["households"]) == _in_force(units["a"].path) == 6
    assert _num(county_b["households"]) == _in_force(units["b"].path) == 2
    assert _cells(html, "tiers", "合计")["households"] == "8"
    # Counts and sums only: no household's name.
    assert world["h"]["a_1"].name not in html


def test_choosing_the_grassroots_union_narrows_the_figures(as_user, alice, units, world):
    url = reverse("reports:statistics") + f"?unit={units['a1'].pk}"
    html = as_user(alice).get(url).content.decode()
    assert _cells(html, "tiers", "合计")["households"] == "4"
    # a1's grants: 800 + 500.50 + 3,000 (its rice is goods, in the goods table).
    assert _cells(html, "grants", "小计")["y2026_amount"] == "4,300.50"
    assert _cells(html, "goods", "小计")["y2026_amount"] == "300.00"


def test_another_countys_union_cannot_be_chosen(as_user, alice, units, world):
    url = reverse("reports:statistics") + f"?unit={units['b'].pk}"
    response = as_user(alice).get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "请选择您所在的工会或其下属工会" in html
    assert 'id="stat-tiers"' not in html
    pdf = as_user(alice).get(reverse("reports:statistics_pdf") + f"?unit={units['b'].pk}")
    assert pdf["Content-Type"].startswith("text/html")
    assert "二七区总工会（本级）" not in pdf.content.decode()


def test_period_defaults_to_this_year_and_bad_dates_are_explained(as_user, alice, world):
    client = as_user(alice)
    html = client.get(reverse("reports:statistics")).content.decode()
    assert 'value="2026-01-01"' in html and 'value="2026-12-31"' in html
    url = reverse("reports:statistics") + "?date_from=2026-05-01&date_to=2026-02-01"
    html = client.get(url).content.decode()
    assert "结束日期不能早于开始日期" in html
    assert 'id="stat-tiers"' not in html
    url = reverse("reports:statistics") + "?date_from=2000-01-01&date_to=2026-12-31"
    html = client.get(url).content.decode()
    assert "统计期间自：统计期间最长 20 个年度" in html
    assert 'id="stat-tiers"' not in html
    html = client.get(reverse("reports:statistics") + "?date_from=不是日期").content.decode()
    assert "统计期间自" in html and 'id="stat-tiers"' not in html
    # A shorter period: only its months, only its payments.
    url = reverse("reports:statistics") + "?date_from=2026-01-01&date_to=2026-01-31"
    html = client.get(url).content.decode()
    assert _cells(html, "aid_months", "合计")["cash"] == "1,800.00"
    assert "2026年2月" not in html


def test_pdf_has_title_totals_and_charts(as_user, carol, world):
    response = as_user(carol).get(reverse("reports:statistics_pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join("".join(page.extract_text().split()) for page in reader.pages)
    assert "困难职工帮扶统计表" in text
    assert "金水区总工会（本级）" in text
    assert "5,700.50" in text  # the grants' subtotal
    assert "二七区总工会" not in text
    # The charts are drawn (their titles and axis labels are text in the PDF).
    assert "在档户数（按困难类别）" in text
    assert "每月新建档与退出户数" in text
    assert "12月" in text
    assert AuditEvent.objects.filter(action="export.statistics", actor=carol).exists()


def test_workbook_has_a_sheet_per_table_with_totals(as_user, erin, world):
    response = as_user(erin).get(reverse("reports:statistics_xlsx"))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    assert len(wb.sheetnames) == 13
    sheet = wb["在档困难职工家庭（按工会和困难类别）"]
    assert sheet.freeze_panes == "B4"
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    total_at = next(i for i, r in enumerate(rows) if r[0] == "合计")
    data, total = rows[:total_at], rows[total_at]
    for col in range(1, len(total)):
        assert total[col] == sum(r[col] for r in data)
    assert total[-2] == 6
    grants = wb["帮扶补助（现金）"]
    rows = list(grants.iter_rows(min_row=4, values_only=True))
    total_at = next(i for i, r in enumerate(rows) if r[0] == "小计")
    assert D(str(rows[total_at][3])) == sum(D(str(r[3])) for r in rows[:total_at]) == D("5700.50")
    assert grants.cell(row=4, column=4).number_format == "#,##0.00"


def _page_tables(html: str) -> dict[str, tuple[list[str], list[list[str]]]]:
    """Every table of the page by title: its header and its rows (totals too)."""
    out = {}
    for title, table in re.findall(r"<h3>([^<]*)</h3>(.*?)</table>", html, re.S):
        header = re.findall(r'<th(?: class="num")? scope="col">([^<]*)</th>', table)
        rows = []
        for row in re.findall(r"<tr(?: class=\"total\")?>(.*?)</tr>", table, re.S):
            if 'scope="row"' not in row:
                continue
            rows.append(re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row))
        out[title] = (header, rows)
    return out


def _figure(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float | int) and not isinstance(value, bool) and value != int(value):
        return f"{D(str(value)):,.2f}"
    return str(value)


def test_workbook_and_pdf_show_the_pages_numbers(as_user, dave, world):
    query = "?date_from=2025-01-01&date_to=2026-12-31"
    client = as_user(dave)
    page = _page_tables(client.get(reverse("reports:statistics") + query).content.decode())
    assert "帮扶补助（现金）" in page and "借款（放款、收回与未还）" in page
    wb = load_workbook(io.BytesIO(client.get(reverse("reports:statistics_xlsx") + query).content))
    for title, (header, rows) in page.items():
        sheet = wb[title[:31]]
        lines = list(sheet.iter_rows(min_row=3, values_only=True))
        assert [str(v) for v in lines[0]] == header, title
        for page_row, sheet_row in zip(rows, lines[1:], strict=False):
            assert page_row[0] == sheet_row[0], title
            for text, value in zip(page_row[1:], sheet_row[1:], strict=True):
                assert _num(text) == D(str(value or 0)), (title, page_row[0])
    pdf = client.get(reverse("reports:statistics_pdf") + query)
    reader = PdfReader(io.BytesIO(pdf.content))
    box = reader.pages[0].mediabox
    assert box.width > box.height  # two years of columns: landscape
    text = "".join("".join(p.extract_text().split()) for p in reader.pages)
    for title in (
        "帮扶补助（现金）",
        "实物帮扶（折价）",
        "借款（放款、收回与未还）",
        "互助金（按互助类别）",
    ):
        header, rows = page[title]
        total = rows[-1]
        assert total[0] == "小计"
        # The subtotal line as the PDF prints it, figure by figure.
        assert "小计" + "".join(total[1:]) in text, title
    receipts = page["资金收入（按资金来源）"][1][-1]
    assert "收入合计" + "".join(receipts[1:]) in text


def _page_queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("reports:statistics")).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_households(
    as_user, alice, units, world, django_assert_max_num_queries
):
    client = as_user(alice)
    with django_assert_max_num_queries(30):
        few = _page_queries(client)
    extra = make_user("cadre", units["a1"], "caseworker")
    for i in range(30):
        h = filed(units["a1"], dt.date(2026, 1 + i % 6, 1 + i % 27), tier=world["t1"])
        Helper.objects.create(
            household=h, user=extra, role="union_cadre", is_first=True,
            start_on=dt.date(2026, 1, 2), person=roster_person(h.unit, extra),
        )  # fmt: skip
        Visit.objects.create(household=h, visitor=extra, visited_on=dt.date(2026, 3, 1 + i % 27))
        pay(h, world["school"], world["fund_a"], "100", TODAY)
    for i in range(5):
        make_household(units["a"], name=f"新工会{i}")  # drafts: not counted
    with django_assert_max_num_queries(30):
        many = _page_queries(client)
    assert many == few
    # Several years: the same queries, each with a column per year.
    url = reverse("reports:statistics") + "?date_from=2019-01-01&date_to=2026-12-31"
    with django_assert_max_num_queries(few):
        assert client.get(url).status_code == 200


def test_bar_chart_is_plain_scalable_svg():
    svg = bar_chart(
        "每月<发放>", ["1月", "2月"], [Series("新建档", [3, 0]), Series("退出", [1, 2])]
    )
    assert svg.startswith("<svg") and 'viewBox="0 0 480 260"' in svg
    assert "每月&lt;发放&gt;" in svg and "<发放>" not in svg
    assert svg.count("<rect") == 4 + 2  # the bars and the legend
    assert "新建档" in svg and "2月" in svg
    money = bar_chart("金额", ["1月"], [Series("金额", [D("123456.78")])], money=True)
    assert "12.3万" in money


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_figures_agree_on_postgresql(client, seeded_lists, units, alice, world):
    client.force_login(alice)
    html = client.get(reverse("reports:statistics")).content.decode()
    assert _cells(html, "tiers", "合计")["households"] == "6"
    assert _cells(html, "movements", "2026年5月")["relapses"] == "1"
