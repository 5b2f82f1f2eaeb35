"""A visit at the door with no signal.

alice opens 我的帮扶户 and the visit form while the phone has a network; in
the old block the signal goes. She fills in the visit with a photo and saves:
it stays on the phone as 待上传. Reloaded without a network, the page and the
draft are still there. When the network returns the draft goes up on its own:
one visit, with its photo made smaller on the phone. A draft the server
refuses stays with the reason; a draft sent twice is one visit; signing out
with a draft asks first, and the next person on the phone never sees it.
"""

import io
import time

import pytest
from PIL import Image
from playwright.sync_api import FilePayload, Page, expect

from cases import clock
from cases.models import Household, HouseholdStatus, Visit
from tests.browser.helpers import assert_fits_phone, helper_scene
from tests.builders import make_user

pytestmark = pytest.mark.browser


def camera_png(size=(2400, 1800)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (180, 40, 40)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def paired(transactional_db):
    alice, household, county = helper_scene()
    carol = make_user("carol", county, "caseworker", full_name="陈红")
    yield alice, carol, household
    clock.reset()


def wait_for(check, message: str, timeout: float = 10.0) -> None:
    """The server side of an upload the page started on its own."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(message)


def open_while_online(page: Page, household: Household) -> None:
    """我的帮扶户, then the visit form: the pages a visit needs, kept by the
    service worker as they are opened."""
    page.goto("/my-households/")
    expect(page.get_by_role("heading", name="我的帮扶户")).to_be_visible()
    page.evaluate("() => navigator.serviceWorker.ready.then(() => true)")
    form_url = f"/households/{household.pk}/visits/new/"
    # Opened once more under the worker's control, so that it keeps them.
    page.goto("/my-households/")
    page.goto(form_url)
    expect(page.get_by_role("heading", name="记录走访")).to_be_visible()
    page.wait_for_function(
        """(path) => caches.open("pages").then((c) => c.keys())
             .then((keys) => keys.some((r) => new URL(r.url).pathname === path))""",
        arg=form_url,
    )


def fill_visit(page: Page, needs: str, photo: bool = True) -> None:
    page.get_by_label("入户走访").check()
    page.get_by_label("知道姓名").check()
    page.get_by_label("知道住址").check()
    page.get_by_label("发现的需求").fill(needs)
    if photo:
        shot: FilePayload = {"name": "camera.png", "mimeType": "image/png", "buffer": camera_png()}
        page.locator('input[type="file"]').set_input_files(shot)


def save_offline(page: Page) -> None:
    page.get_by_role("button", name="保存走访").click()
    expect(page.get_by_text("已保存在本机，列为待上传")).to_be_visible()
    expect(page.locator("#pending-badge")).to_have_text("待上传 1")


def test_a_visit_saved_offline_goes_up_once_with_its_photo(page: Page, login_as, paired, snap):
    alice, _carol, household = paired
    login_as(alice)
    open_while_online(page, household)

    page.context.set_offline(True)
    expect(page.locator("#offline-note")).to_be_visible()
    fill_visit(page, "屋顶漏雨，需要维修")
    save_offline(page)
    assert not Visit.objects.filter(household=household).exists()

    page.reload()  # still without a network: the kept page and the draft
    expect(page.get_by_role("heading", name="记录走访")).to_be_visible()
    drafts = page.locator("[data-draft-list] .draft")
    expect(drafts).to_have_count(1)
    expect(drafts.first).to_contain_text("王秀兰")
    expect(drafts.first).to_contain_text("屋顶漏雨，需要维修")
    expect(drafts.first).to_contain_text("照片 1 张")
    expect(page.locator("#pending-badge")).to_have_text("待上传 1")
    assert_fits_phone(page)
    snap(page, "draft-offline")

    page.goto("/households/")  # not kept for offline use: says so
    expect(page.get_by_role("heading", name="当前离线")).to_be_visible()
    page.goto("/visits/drafts/")  # 待上传, kept
    expect(page.locator("#visit-drafts .draft")).to_have_count(1)
    assert not Visit.objects.filter(household=household).exists()

    page.context.set_offline(False)
    expect(page.locator("#visit-drafts .draft")).to_have_count(0)
    expect(page.get_by_text("已上传 1 条走访记录。")).to_be_visible()
    expect(page.locator("#pending-badge")).to_be_hidden()
    wait_for(lambda: Visit.objects.filter(household=household).count() == 1, "no visit")
    time.sleep(1)  # background sync may send it too: still one visit
    visit = Visit.objects.get(household=household)
    assert visit.needs == "屋顶漏雨，需要维修" and visit.knows_name and visit.knows_address
    assert visit.client_key is not None
    photo = visit.photos.get()
    with photo.file.open("rb") as f, Image.open(f) as image:
        assert image.format == "JPEG"
        assert max(image.size) == 1600, image.size

    page.goto(f"/households/{household.pk}/")
    expect(page.locator("#followup").get_by_text("屋顶漏雨，需要维修")).to_be_visible()


def test_a_refused_draft_stays_with_its_reason_and_only_its_owner_sees_it(
    page: Page, login_as, paired, snap
):
    alice, carol, household = paired
    login_as(alice)
    open_while_online(page, household)
    page.context.set_offline(True)
    fill_visit(page, "联系医疗互助", photo=False)
    save_offline(page)

    # While the phone had no signal the household left the programme.
    Household.objects.filter(pk=household.pk).update(status=HouseholdStatus.EXITED)
    page.context.set_offline(False)
    page.goto("/visits/drafts/")
    draft = page.locator("#visit-drafts .draft")
    expect(draft).to_have_count(1)
    expect(draft.get_by_role("alert")).to_contain_text("只有已建档的家庭")
    expect(draft.get_by_text("未被接受")).to_be_visible()
    page.get_by_role("button", name="全部上传").click()  # tried again: still refused, still kept
    expect(draft.get_by_role("alert")).to_contain_text("只有已建档的家庭")
    assert_fits_phone(page)
    snap(page, "draft-refused")
    page.reload()
    expect(draft).to_have_count(1)
    assert not Visit.objects.exists()

    # Signing out with a draft not sent asks first.
    asked: list[str] = []

    def answer(dialog):
        asked.append(dialog.message)
        dialog.dismiss() if len(asked) == 1 else dialog.accept()

    page.on("dialog", answer)
    page.get_by_label("菜单").click()
    page.get_by_role("button", name="退出登录").click()
    assert asked and "1 条走访草稿未上传" in asked[0]
    expect(page.locator("#pending-badge")).to_be_visible()  # still signed in
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url("**/accounts/login/**")

    # The next person on this phone sees nothing of it.
    login_as(carol)
    page.goto("/visits/drafts/")
    expect(page.get_by_text("这部手机上没有待上传的走访。")).to_be_visible()
    expect(page.locator("#visit-drafts .draft")).to_have_count(0)
    expect(page.locator("#pending-badge")).to_be_hidden()
    kept = page.evaluate("() => caches.open('pages').then((c) => c.keys()).then((k) => k.length)")
    assert kept <= 1, "alice's kept pages were forgotten (only carol's 待上传 page)"

    # alice back: her draft is there, reason and all; she deletes it.
    page.get_by_label("菜单").click()
    page.get_by_role("button", name="退出登录").click()
    login_as(alice)
    page.goto("/visits/drafts/")
    expect(draft).to_have_count(1)
    expect(draft.get_by_role("alert")).to_contain_text("只有已建档的家庭")
    draft.get_by_role("button", name="删除").click()
    expect(draft).to_have_count(0)


def test_a_draft_sent_twice_at_once_is_one_visit(page: Page, login_as, paired):
    alice, _carol, household = paired
    login_as(alice)
    open_while_online(page, household)
    page.context.set_offline(True)
    fill_visit(page, "送去慰问金")
    save_offline(page)

    page.context.set_offline(False)  # the page sends it on its own...
    # ...while, as from a second tab, the same draft goes up twice more.
    answers = page.evaluate(
        """async () => {
          const user = document.body.dataset.user;
          const drafts = await VisitDrafts.list(user);
          const d = drafts[0] || null;
          if (!d) return [];
          const csrf = document.cookie.match(/csrftoken=([^;]+)/)[1];
          const post = () => {
            const f = new FormData();
            d.fields.forEach(([k, v]) => f.append(k, v));
            d.photos.forEach((p) => f.append("photos", new File([p.blob], p.name, {type: p.type})));
            f.append("client_key", d.key);
            f.append("owner", d.owner);
            return fetch(d.uploadUrl, {method: "POST", body: f, headers: {"X-CSRFToken": csrf}})
              .then((r) => r.json());
          };
          return Promise.all([post(), post()]);
        }"""
    )
    expect(page.locator("#pending-badge")).to_be_hidden()
    wait_for(lambda: Visit.objects.filter(household=household).exists(), "no visit")
    time.sleep(1)
    assert Visit.objects.filter(household=household).count() == 1
    visit = Visit.objects.get(household=household)
    assert visit.photos.count() == 1
    assert all(a["ok"] and a["visit"] == visit.pk for a in answers)


def test_a_draft_is_edited_before_it_goes_up(page: Page, login_as, paired):
    alice, _carol, household = paired
    login_as(alice)
    open_while_online(page, household)
    page.context.set_offline(True)
    fill_visit(page, "需要轮椅")
    save_offline(page)

    page.goto("/visits/drafts/")
    draft = page.locator("#visit-drafts .draft")
    expect(draft).to_contain_text("入户走访")
    draft.get_by_role("link", name="修改").click()
    expect(page.get_by_role("heading", name="修改待上传的走访")).to_be_visible()
    expect(page.get_by_label("发现的需求")).to_have_value("需要轮椅")
    expect(page.get_by_label("知道住址")).to_be_checked()
    page.get_by_label("发现的需求").fill("需要轮椅和护理床")
    page.get_by_label("知道住址").uncheck()
    page.get_by_label("电话走访").check()
    page.locator("#draft-photos input[type=checkbox]").uncheck()  # the photo is not kept
    page.get_by_role("button", name="保存走访").click()
    expect(page.get_by_text("已保存在本机，列为待上传")).to_be_visible()
    expect(page.locator("#pending-badge")).to_have_text("待上传 1")

    page.goto("/visits/drafts/")
    expect(draft).to_contain_text("需要轮椅和护理床")
    expect(draft).to_contain_text("照片 0 张")
    page.context.set_offline(False)
    expect(draft).to_have_count(0)
    wait_for(lambda: Visit.objects.filter(household=household).exists(), "no visit")
    visit = Visit.objects.get(household=household)
    assert visit.needs == "需要轮椅和护理床" and visit.kind == "phone"
    assert visit.knows_name and not visit.knows_address
    assert not visit.photos.exists()


def test_an_online_save_whose_answer_is_lost_is_sent_again(page: Page, login_as, paired):
    """A weak signal: the phone shows a network, but the visit form's POST
    never arrives. The copy kept on the phone goes up on the next page."""
    alice, _carol, household = paired
    login_as(alice)
    form_url = f"/households/{household.pk}/visits/new/"
    page.goto(form_url)
    fill_visit(page, "信号时有时无")

    def lose_post(route):
        if route.request.method == "POST":
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route(f"**{form_url}", lose_post)
    page.get_by_role("button", name="保存走访").click()
    page.wait_for_timeout(1500)
    assert not Visit.objects.exists()
    page.unroute(f"**{form_url}")

    page.goto("/visits/drafts/")
    wait_for(lambda: Visit.objects.filter(household=household).exists(), "the copy was not sent")
    expect(page.locator("#visit-drafts .draft")).to_have_count(0)
    visit = Visit.objects.get(household=household)
    assert visit.needs == "信号时有时无" and visit.photos.count() == 1

    # An ordinary online save leaves nothing behind on the phone.
    page.goto(form_url)
    fill_visit(page, "第二次走访", photo=False)
    page.get_by_role("button", name="保存走访").click()
    expect(page.get_by_text("走访记录已保存。")).to_be_visible()
    page.wait_for_timeout(1000)
    expect(page.locator("#pending-badge")).to_be_hidden()
    assert Visit.objects.filter(household=household).count() == 2
    left = page.evaluate("() => VisitDrafts.list(document.body.dataset.user).then((d) => d.length)")
    assert left == 0
