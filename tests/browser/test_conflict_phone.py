"""回避 on a phone: a chair registers her relative on 回避登记, then opens an
application for that relative's household and is told to recuse instead of
being offered the decision; the parent union's chair finds it in 回避转办."""

from decimal import Decimal as D

import pytest
from playwright.sync_api import expect

from cases import clock
from cases.models import HouseholdStatus, Tier
from programs.models import Program, StandardAmount
from programs.services import applications
from tests.browser.helpers import assert_fits_phone
from tests.builders import make_household, make_unit, make_user

pytestmark = pytest.mark.browser


def test_a_chair_registers_kin_and_is_told_to_recuse(page, login_as, snap, second_browser):
    city = make_unit("410100", "郑州市总工会", kind="city")
    county = make_unit("410105", "金水区总工会", parent=city)
    alice = make_user("alice", county, "caseworker", full_name="张丽")
    carol = make_user("carol", county, "chair", full_name="陈红")
    cathy = make_user("cathy", city, "chair", full_name="曹慧")
    tier = Tier.objects.order_by("sort_order").first()
    household = make_household(
        county, name="王秀兰", status=HouseholdStatus.FILED, filed_on=clock.today()
    )
    program = Program.objects.create(unit=city, name="春节送温暖", category="festival", kind="cash")
    StandardAmount.objects.create(program=program, tier=tier, amount=D("1000"))
    app = applications.application_draft(actor=alice, household=household, program=program)

    login_as(carol)
    page.goto("/kin/")
    expect(page.get_by_text("您尚未登记本人身份证号")).to_be_visible()
    page.locator("#id_rel-relation").select_option("spouse")
    page.locator("#id_rel-name").fill("王秀兰")
    page.locator("#id_rel-id_number").fill(household.id_number)
    page.get_by_role("button", name="添加亲属").click()
    expect(page.get_by_text("已登记该亲属")).to_be_visible()
    expect(page.locator("#kin-relatives")).to_contain_text(household.id_number[-4:])
    expect(page.locator("#kin-relatives")).not_to_contain_text(household.id_number)
    assert_fits_phone(page)
    snap(page, "kin-mine")

    page.goto(f"/aid/applications/{app.pk}/")
    expect(page.locator("#recusal-notice")).to_contain_text("配偶 王秀兰")
    expect(page.locator("#decide-form")).to_have_count(0)
    assert_fits_phone(page)
    page.get_by_role("button", name="回避，转其他主席审批").click()
    expect(page.locator("#recusal-notice")).to_contain_text("您已回避")
    snap(page, "recused")

    other = second_browser(cathy)
    other.goto("/aid/conflicts/escalated/")
    expect(other.locator("#conflict-escalations")).to_contain_text("王秀兰")
    assert_fits_phone(other)
