"""A household file walked end to end in a phone-sized Chromium.

alice files a household at the door, finds it again and reveals the ID
number; erin (auditor, same county) sees it masked only; bob (caseworker in
another county) cannot tell it exists; a mistyped ID number is caught on the
form.
"""

import datetime
import re

import pytest
from playwright.sync_api import Locator, Page, expect

from accounts.models import AuditEvent
from cases.models import Household
from tests.browser.helpers import assert_fits_phone
from tests.builders import make_household, make_id

pytestmark = pytest.mark.browser


def masked(number: str) -> str:
    return number[:3] + "*" * 11 + number[-4:]


def section(page: Page, heading: str) -> Locator:
    return page.locator("section").filter(has=page.get_by_role("heading", name=heading))


def fill_head(page: Page, *, unit_pk: int, id_number: str) -> None:
    """What a caseworker types for the head of household, cause and money."""
    head = section(page, "户主信息")
    head.get_by_label("所属工会").select_option(str(unit_pk))
    head.get_by_label("户主姓名").fill("王秀兰")
    head.get_by_label("身份证号").fill(id_number)
    head.get_by_label("联系电话").fill("13812345678")
    head.get_by_label("家庭住址").fill("河南省郑州市金水区文化路街道黄河社区3号楼2单元501")
    head.get_by_label("工作单位").fill("郑州纺织厂")
    head.get_by_label("就业状态").select_option(label="下岗")
    head.get_by_label("健康状况").select_option(label="慢性病")
    head.get_by_label("住房类型").select_option(label="自有住房")
    head.get_by_label("户口性质").select_option(label="城镇户口")
    head.get_by_label("婚姻状况").select_option(label="已婚")

    money = section(page, "收入与支出（近 12 个月，元）")
    money.get_by_label("家庭人口").fill("3")
    money.get_by_label("工资性收入").fill("12000")
    money.get_by_label("转移性收入").fill("2400")
    money.get_by_label("医疗刚性支出").fill("3000")

    causes = section(page, "困难类别与致困原因")
    causes.get_by_label("困难类别").select_option(label="困难")
    causes.get_by_label("主要致困原因").select_option(label="因病")
    causes.get_by_label("下岗失业").check()


def add_member(page: Page) -> Locator:
    """Click 添加家庭成员 and wait for htmx to bring the new row."""
    rows = page.get_by_role("group", name="家庭成员")
    before = rows.count()
    page.get_by_role("button", name="添加家庭成员").click()
    expect(rows).to_have_count(before + 1)
    return rows.nth(before)


def test_caseworker_files_household_on_phone_and_finds_it_again(
    page: Page, login_as, snap, alice, units
):
    neighbour = make_household(units["a1"], name="李建国")
    login_as(alice)

    # The menu hides behind ☰ on a phone.
    new_file = page.locator("header nav").get_by_role("link", name="新建档案")
    expect(new_file).to_be_hidden()
    page.get_by_label("菜单").click()
    new_file.click()
    expect(page.get_by_role("heading", name="新建困难职工家庭档案")).to_be_visible()

    head_id = make_id(datetime.date(1975, 3, 8), male=False)
    child_id = make_id(datetime.date(2011, 9, 1))
    fill_head(page, unit_pk=units["a1"].pk, id_number=head_id)

    spouse = add_member(page)
    child = add_member(page)
    spouse.get_by_label("姓名").fill("李强")
    spouse.get_by_label("与户主关系").select_option(label="配偶")
    spouse.get_by_label("年收入").fill("6000")
    spouse.get_by_label("职业").fill("保安")
    child.get_by_label("姓名").fill("李小明")
    child.get_by_label("与户主关系").select_option(label="子女")
    child.get_by_label("身份证号").fill(child_id)
    child.get_by_label("就读学校").fill("郑州市第八中学")
    child.get_by_label("学段").select_option(label="初中")
    child.get_by_label("年级").fill("初二")
    assert_fits_phone(page)
    snap(page, "form")

    page.get_by_role("button", name="保存档案").click()
    expect(page).to_have_url(re.compile(r"/households/\d+/$"))
    expect(page.get_by_role("status")).to_contain_text("已建立“王秀兰”的家庭档案。")
    expect(page.get_by_role("heading", name="王秀兰")).to_be_visible()
    expect(page.locator("#id-number")).to_contain_text(masked(head_id))
    members = section(page, "家庭成员")
    expect(members.locator("tbody tr")).to_have_count(2)
    expect(members.get_by_role("row", name="李强")).to_contain_text("配偶")
    expect(members.get_by_role("row", name="李小明")).to_contain_text("初中")
    expect(members.get_by_role("row", name="李小明")).to_contain_text(masked(child_id))
    # (12000 + 2400 − 3000) ÷ 3 ÷ 12
    expect(section(page, "困难情况")).to_contain_text("¥316.67")
    assert head_id not in page.content()
    assert child_id not in page.content()
    assert_fits_phone(page)
    snap(page, "detail")
    household = Household.objects.get(id_number=head_id)
    assert page.url.endswith(f"/households/{household.pk}/")

    # Back in the list, the full ID number finds exactly this household.
    page.get_by_label("菜单").click()
    page.locator("header nav").get_by_role("link", name="家庭档案").click()
    results = page.locator("#results tbody tr")
    expect(results).to_have_count(2)
    assert_fits_phone(page)
    snap(page, "list")
    page.get_by_label("搜索").fill(head_id)
    page.get_by_role("button", name="查询").click()
    expect(results).to_have_count(1)
    expect(results).to_contain_text("王秀兰")
    expect(results).to_contain_text(masked(head_id))
    expect(results).not_to_contain_text(neighbour.name)
    expect(page).to_have_url(re.compile(r"\?q=" + head_id))
    assert_fits_phone(page)

    results.get_by_role("link", name="王秀兰").click()
    expect(page).to_have_url(re.compile(rf"/households/{household.pk}/$"))
    assert not AuditEvent.objects.filter(action="household.reveal").exists()
    page.locator("#id-number").get_by_role("button", name="显示完整").click()
    expect(page.locator("#id-number")).to_have_text(head_id)
    reveal = AuditEvent.objects.get(action="household.reveal")
    assert (reveal.actor, reveal.object_id) == (alice, str(household.pk))
    assert reveal.changes == {"field": [None, "id_number"]}


def test_auditor_sees_the_file_masked_only(page: Page, login_as, erin, household):
    login_as(erin)
    page.goto(f"/households/{household.pk}/")
    expect(page.get_by_role("heading", name=household.name)).to_be_visible()
    expect(page.locator("#id-number")).to_have_text(masked(household.id_number))
    expect(page.get_by_role("button", name="显示完整")).to_have_count(0)
    expect(page.get_by_role("link", name="编辑档案")).to_have_count(0)
    html = page.content()
    assert household.id_number not in html
    assert household.phone not in html
    assert_fits_phone(page)


def test_caseworker_of_another_county_gets_not_found(page: Page, login_as, snap, bob, household):
    login_as(bob)
    response = page.goto(f"/households/{household.pk}/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="找不到这个页面")).to_be_visible()
    expect(page.get_by_role("link", name="返回首页")).to_be_visible()
    # Nothing on the page tells bob that the file exists.
    assert household.name not in page.content()
    assert masked(household.id_number) not in page.content()
    assert_fits_phone(page)
    snap(page, "404")


def test_mistyped_id_number_is_caught_next_to_the_field(page: Page, login_as, snap, alice, units):
    good = make_id()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    login_as(alice)
    page.goto("/households/new/")
    fill_head(page, unit_pk=units["a1"].pk, id_number=bad)
    page.get_by_role("button", name="保存档案").click()

    expect(page.get_by_role("alert")).to_contain_text("请修改下面标红的内容后再保存。")
    head = section(page, "户主信息")
    id_input = head.get_by_label("身份证号")
    message = "身份证号：身份证号校验位错误，请核对号码是否抄错。"
    field = head.locator(".field").filter(has=page.get_by_label("身份证号"))
    expect(field.locator(".errorlist")).to_have_text(message)
    expect(id_input).to_have_attribute("aria-invalid", "true")
    # A screen reader reads the message with the field, not somewhere else.
    expect(id_input).to_have_accessible_description(message)
    # What was typed survives the round trip, so only the number needs fixing.
    expect(id_input).to_have_value(bad)
    expect(head.get_by_label("户主姓名")).to_have_value("王秀兰")
    assert_fits_phone(page)
    snap(page, "form-error")
    assert not Household.objects.exists()
