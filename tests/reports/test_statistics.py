"""统计: the page, the PDF and the workbook against counts recomputed from
the rows themselves.

The tree: county A (alice's) with its grassroots union a1, and county B.
Households, exits, a relapse, aid payments (one reversed) and visits are
written in both counties; county B's must never appear for alice."""

import datetime as dt
import io
import re
from decimal import Decimal as D
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from accounts.models import AuditEvent, User
from cases import clock
from cases.models import Cause, Helper, Household, HouseholdStatus, StatusChange, Tier, Visit
from funds import services as ledger
from funds.models import EntryKind, LedgerEntry
from programs.models import AidPayment, Application, ApplicationStatus, Program
from programs.services.payments import aid_payment_reverse
from reports.charts import Series, bar_chart
from tests.builders import make_household, make_id, make_user, roster_person

TODAY = dt.date(2026, 6, 15)
S = HouseholdStatus


def filed(unit: Any, filed_on: dt.date, **extra: Any) -> Household:
    fields = {"status": S.FILED, "filed_on": filed_on, "id_number": make_id()}
    fields.update(extra)
    return make_household(unit, **fields)


def pay(household: Household, program: Program, fund: Any, amount: str, on: dt.date) -> AidPayment:
    """A payment as `payments.pay` writes it: application, ledger entry, payment."""
    actor = User.objects.get(username="dave")
    application = Application.objects.create(
        program=program, household=household, year=on.year, status=ApplicationStatus.PAID,
        amount=D(amount), drafted_by=actor,
    )  # fmt: skip
    entry = LedgerEntry.objects.create(
        fund=fund, kind=EntryKind.PAYMENT, direction=-1, amount=D(amount), occurred_on=on,
        memo=program.name, household=household, actor=actor,
    )  # fmt: skip
    return AidPayment.objects.create(
        application=application, fund=fund, entry=entry, method="bank", amount=D(amount),
        paid_on=on, paid_by=actor, account_name=household.name, bank_name="工行",
        bank_account="6222020200112233445",
    )  # fmt: skip


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

    fund_a = ledger.fund_create(
        actor=dave, unit=a, name="送温暖专项", source="admin_allocation", year=2026
    )
    ledger.receipt_post(actor=dave, fund=fund_a, amount="100000", memo="拨款")
    gifts = ledger.fund_create(actor=dave, unit=a, name="爱心捐款", source="donation", year=2026)
    ledger.receipt_post(actor=dave, fund=gifts, amount="50000", memo="捐款")
    fund_b = ledger.fund_create(
        actor=fay, unit=b, name="二七送温暖", source="admin_allocation", year=2026
    )
    ledger.receipt_post(actor=fay, fund=fund_b, amount="100000", memo="拨款")
    festival = Program.objects.create(
        unit=units["city"], name="春节送温暖", category="festival", kind="cash"
    )
    school = Program.objects.create(
        unit=units["city"], name="金秋助学", category="education", kind="cash"
    )
    pay(h["a_1"], festival, fund_a, "1000", dt.date(2026, 1, 20))
    pay(h["a1_1"], festival, fund_a, "800", dt.date(2026, 1, 21))
    pay(h["a1_2"], festival, gifts, "500.50", dt.date(2026, 2, 3))
    pay(h["a1_old"], school, fund_a, "3000", dt.date(2026, 5, 8))
    mistaken = pay(h["a_2"], school, fund_a, "2500", dt.date(2026, 5, 9))
    aid_payment_reverse(actor=dave, payment=mistaken, reason="账号错误")
    pay(h["a_2"], festival, fund_a, "700", dt.date(2025, 12, 28))  # before the period
    pay(h["b_1"], festival, fund_b, "9999", dt.date(2026, 1, 20))

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
    return {"h": h, "t1": t1, "t2": t2, "c1": c1, "c2": c2, "festival": festival, "school": school}


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


def test_aid_by_program_source_and_month_counts_live_payments(as_user, dave, units, world):
    html = as_user(dave).get(reverse("reports:statistics")).content.decode()
    festival_public = _cells(html, "aid_programs", "春节送温暖")
    assert festival_public["times"] == "2"  # the first row: 行政划拨
    assert festival_public["amount"] == "1,800.00"
    school = _cells(html, "aid_programs", "金秋助学")
    # The reversed 2,500 is not aid paid; December 2025 is outside the period.
    assert (school["times"], school["amount"]) == ("1", "3,000.00")
    live = AidPayment.objects.filter(
        reversal__isnull=True,
        paid_on__year=2026,
        application__household__unit__path__startswith=units["a"].path,
    )
    expected = sum(p.entry.amount for p in live)
    total = _cells(html, "aid_programs", "合计")
    assert _num(total["amount"]) == expected == D("5300.50")
    assert _num(total["times"]) == live.count() == 4
    jan = _cells(html, "aid_months", "2026年1月")
    assert (jan["times"], jan["amount"]) == ("2", "1,800.00")
    assert _cells(html, "aid_months", "合计")["amount"] == "5,300.50"
    assert _cells(html, "aid_detail", "2026年2月")["amount"] == "500.50"
    assert "捐款" in html  # the fund source column


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
    assert _cells(html, "aid_programs", "合计")["amount"] == "4,300.50"


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
    html = client.get(reverse("reports:statistics") + "?date_from=2020-01-01").content.decode()
    assert "统计期间最长 36 个月" in html
    html = client.get(reverse("reports:statistics") + "?date_from=不是日期").content.decode()
    assert "统计期间自" in html and 'id="stat-tiers"' not in html
    # A shorter period: only its months, only its payments.
    url = reverse("reports:statistics") + "?date_from=2026-01-01&date_to=2026-01-31"
    html = client.get(url).content.decode()
    assert _cells(html, "aid_months", "合计")["amount"] == "1,800.00"
    assert "2026年2月" not in html


def test_pdf_has_title_totals_and_charts(as_user, carol, world):
    response = as_user(carol).get(reverse("reports:statistics_pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join("".join(page.extract_text().split()) for page in reader.pages)
    assert "困难职工帮扶统计表" in text
    assert "金水区总工会（本级）" in text
    assert "5,300.50" in text  # the aid total
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
    assert len(wb.sheetnames) == 7
    sheet = wb["在档困难职工家庭（按工会和困难类别）"]
    assert sheet.freeze_panes == "B4"
    rows = list(sheet.iter_rows(min_row=4, values_only=True))
    total_at = next(i for i, r in enumerate(rows) if r[0] == "合计")
    data, total = rows[:total_at], rows[total_at]
    for col in range(1, len(total)):
        assert total[col] == sum(r[col] for r in data)
    assert total[-2] == 6
    aid = wb["帮扶资金发放（按项目和资金来源）"]
    rows = list(aid.iter_rows(min_row=4, values_only=True))
    total_at = next(i for i, r in enumerate(rows) if r[0] == "合计")
    assert D(str(rows[total_at][3])) == sum(D(str(r[3])) for r in rows[:total_at]) == D("5300.50")
    assert aid.cell(row=4, column=4).number_format == "#,##0.00"


def _page_queries(client: Any) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("reports:statistics")).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_households(as_user, alice, units, world):
    client = as_user(alice)
    few = _page_queries(client)
    extra = make_user("cadre", units["a1"], "caseworker")
    for i in range(30):
        h = filed(units["a1"], dt.date(2026, 1 + i % 6, 1 + i % 27), tier=world["t1"])
        Helper.objects.create(
            household=h, user=extra, role="union_cadre", is_first=True,
            start_on=dt.date(2026, 1, 2), person=roster_person(h.unit, extra),
        )  # fmt: skip
        Visit.objects.create(household=h, visitor=extra, visited_on=dt.date(2026, 3, 1 + i % 27))
        pay(h, world["school"], _fund(units), "100", TODAY)
    for i in range(5):
        make_household(units["a"], name=f"新工会{i}")  # drafts: not counted
    many = _page_queries(client)
    assert many == few
    assert few <= 16


def _fund(units: Any) -> Any:
    from funds.models import Fund

    return Fund.objects.filter(unit=units["a"], source="admin_allocation").first()


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
