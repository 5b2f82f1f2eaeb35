"""送温暖 from the caseworker's phone to the family's file: alice drafts a
batch for 20 households, carol approves it, dave pays it by bank transfer from
the county's fund; each household's page shows the aid and the fund's
balance fell by exactly the batch total."""

from decimal import Decimal as D

import pytest
from playwright.sync_api import Page, expect

from cases import clock
from cases.models import HouseholdStatus, Tier
from funds import services as ledger
from funds.models import LedgerEntry
from programs.models import ApplicationStatus, Program, StandardAmount
from tests.browser.helpers import assert_fits_phone
from tests.builders import make_household, make_id

pytestmark = pytest.mark.browser

FAMILIES = 20
STANDARD = D("800")


@pytest.fixture
def campaign(units, dave):
    tier = Tier.objects.order_by("sort_order").first()
    fund = ledger.fund_create(actor=dave, unit=units["a"], name="春节送温暖专项", year=2027)
    ledger.receipt_post(
        source="other",
        payer_kind="unit",
        payer="区总工会",
        actor=dave,
        fund=fund,
        amount="50000",
        memo="区财政拨款",
    )
    program = Program.objects.create(
        unit=units["city"], name="春节送温暖", category="festival", kind="cash"
    )
    program.funds.add(fund)
    StandardAmount.objects.create(program=program, tier=tier, amount=STANDARD)
    households = [
        make_household(
            units["a1"],
            name=f"困难户{i:02d}",
            id_number=make_id(),
            tier=tier,
            status=HouseholdStatus.FILED,
            filed_on=clock.today(),
            bank_name="中国农业银行",
            bank_account=f"62284800{i:011d}",
        )
        for i in range(FAMILIES)
    ]
    return fund, program, households


def _balance(page: Page, fund) -> str:
    page.goto(f"/funds/{fund.pk}/")
    return page.locator("#fund-balance").inner_text()


def test_festival_batch_from_draft_to_family_file(
    page: Page, login_as, second_browser, snap, alice, carol, dave, units, campaign
):
    fund, program, households = campaign
    before = ledger.balance_of(fund)

    # alice drafts the batch on her phone.
    login_as(alice)
    page.goto("/aid/batches/new/")
    assert_fits_phone(page)
    page.get_by_label("发起工会").select_option(label="金水区总工会")
    page.get_by_label("帮扶项目").select_option(label="春节送温暖（郑州市总工会）")
    expect(page.locator("#batch-count")).to_contain_text(str(FAMILIES))
    page.get_by_label("批次名称").fill("2027年春节送温暖（金水区）")
    page.get_by_role("button", name="起草批次").click()
    expect(page.locator("#batch-lines tbody tr")).to_have_count(FAMILIES)
    expect(page.locator("#batch-summary")).to_contain_text(f"{FAMILIES} 户，16000.00 元")
    snap(page, "batch-drafted")
    assert_fits_phone(page)
    page.get_by_role("button", name="提交审批").click()
    expect(page.locator("#batch-status")).to_contain_text("已提交审批")
    batch_url = page.url

    # carol approves the whole batch.
    chair = second_browser(carol)
    chair.goto(batch_url)
    chair.get_by_label("同意", exact=True).check()
    chair.get_by_role("button", name="对全部待我审批的申请").click()
    expect(chair.locator("#batch-status")).to_contain_text("已审批")
    assert_fits_phone(chair)
    assert program.applications.filter(status=ApplicationStatus.APPROVED).count() == FAMILIES

    # dave pays every line by bank transfer from the county's fund.
    finance = second_browser(dave)
    finance.goto("/aid/payments/")
    expect(finance.locator("#queue-total")).to_contain_text(f"{FAMILIES} 笔")
    for box in finance.locator("#queue input[name=applications]").all():
        box.check()
    finance.get_by_label("支出资金").select_option(value=str(fund.pk))
    finance.get_by_label("银行转账").check()
    finance.get_by_role("button", name="确认发放").click()
    expect(finance.locator(".messages")).to_contain_text("发放")
    snap(finance, "paid")
    assert_fits_phone(finance)

    total = STANDARD * FAMILIES
    after = ledger.balance_of(fund)
    assert before - after == total
    # What the fund page shows is what the ledger rows add up to.
    shown = _balance(finance, fund)
    rows = sum(e.amount * e.direction for e in LedgerEntry.objects.filter(fund=fund))
    assert f"{rows:,.2f}" in shown
    assert rows == D("50000") - total

    # Every family's file shows the aid it received.
    for household in (households[0], households[7], households[-1]):
        page.goto(f"/households/{household.pk}/")
        money = page.locator("#money")
        expect(money).to_contain_text("春节送温暖")
        expect(money).to_contain_text("800.00")
    assert_fits_phone(page)
