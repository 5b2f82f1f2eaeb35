"""Campaign batches on screen: drafting 20+ households by filter, the ones
left out and why, amending and removing lines, submitting, approving the
whole batch and rejecting single lines, and the pages' fixed query counts."""

import datetime as dt
import re
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import clock
from cases.models import Cause, HouseholdStatus, Member, Tier
from programs.models import (
    Application,
    ApprovalThreshold,
    Batch,
    BatchStatus,
    Decision,
    Program,
    StandardAmount,
)
from programs.models import ApplicationStatus as S
from programs.services import batches
from tests.programs.conftest import filed

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def school(units, tier):
    """金秋助学 at the city union: 1000 yuan for the first tier, ten months a
    student a year; county and grassroots unions approve up to 2000."""
    program = Program.objects.create(
        unit=units["city"],
        name="2026年金秋助学",
        category="school",
        kind="cash",
        cap_rule="ten_months",
    )
    StandardAmount.objects.create(program=program, tier=tier, amount=D("1000"))
    for kind in ("county", "grassroots"):
        ApprovalThreshold.objects.create(program=program, unit_kind=kind, amount=D("2000"))
    return program


def pupil(household, name="学生"):
    return Member.objects.create(
        household=household, name=name, relation="child", school_stage="senior"
    )


@pytest.fixture
def campaign(units, tier, school, alice):
    """22 households match the filter (tier, cause 因学, a child in school);
    2 of them have used 6 of their 10 months, so only 20 can be drafted.
    11 more do not match the filter at all."""
    study = Cause.objects.get(name="因学")
    other_tier = Tier.objects.exclude(pk=tier.pk).first()
    other_cause = Cause.objects.exclude(pk=study.pk).first()
    matching = []
    for i in range(22):
        h = filed(units["a" if i % 2 else "a1"], name=f"助学户{i:02d}", main_cause=study)
        pupil(h, f"学生{i:02d}")
        matching.append(h)
    for h in matching[:2]:
        Application.objects.create(
            program=school,
            household=h,
            year=clock.today().year,
            amount=D("600"),
            student=h.members.get(),
            months=6,
            drafted_by=alice,
        )
    for i in range(3):
        pupil(filed(units["a"], name=f"困难户{i}", tier=other_tier, main_cause=study))
        filed(units["a"], name=f"无在校生{i}", main_cause=study)
        pupil(filed(units["a"], name=f"其他原因{i}", main_cause=other_cause))
    for i in range(2):
        pupil(
            filed(units["a"], name=f"未建档{i}", status=HouseholdStatus.NOTICED, main_cause=study)
        )
    pupil(filed(units["b"], name="外区助学户", main_cause=study))
    return {"matching": matching, "study": study}


def criteria(units, tier, campaign, school, **extra):
    data = {
        "unit": units["a"].pk,
        "program": school.pk,
        "title": "2026年金秋助学第一批",
        "tiers": [tier.pk],
        "causes": [campaign["study"].pk],
        "in_school": "on",
    }
    data.update(extra)
    return data


def draft_batch(client, units, tier, campaign, school) -> Batch:
    response = client.post(
        reverse("programs:batch_create"), criteria(units, tier, campaign, school)
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    return Batch.objects.get()


def detail(client, batch, **params) -> str:
    return client.get(reverse("programs:batch_detail", args=[batch.pk]), params).content.decode()


def decide(client, batch, **data):
    return client.post(reverse("programs:batch_decide", args=[batch.pk]), data, follow=True)


# -- drafting by filter ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_count_preview_follows_the_filter(as_user, alice, units, tier, campaign, school):
    client = as_user(alice)
    url = reverse("programs:batch_create")
    page = client.get(url, criteria(units, tier, campaign, school), **HTMX).content.decode()
    assert "<html" not in page and "符合条件的已建档家庭 22 户" in page
    page = client.get(url, {"unit": units["a"].pk, "tiers": [tier.pk]}, **HTMX).content.decode()
    assert "符合条件的已建档家庭 28 户" in page
    page = client.get(url, {"unit": units["b"].pk}, **HTMX).content.decode()
    assert "选择发起工会" in page, "a union outside alice's units counts nothing"


@pytest.mark.django_db
def test_a_batch_drafts_every_match_and_reports_who_was_left_out(
    client, alice, units, tier, campaign, school
):
    client.force_login(alice)
    response = client.post(
        reverse("programs:batch_create"), criteria(units, tier, campaign, school), follow=True
    )
    page = response.content.decode()
    batch = Batch.objects.get()
    assert "已起草批次“2026年金秋助学第一批”：20 户。" in page
    assert "2 户未纳入本批次" in page
    lines = batch.lines.all()
    assert lines.count() == 20 and {a.status for a in lines} == {S.DRAFT}
    assert {a.months for a in lines} == {10} and all(a.student_id for a in lines)
    drafted = {a.household.name for a in lines.select_related("household")}
    assert drafted == {h.name for h in campaign["matching"][2:]}
    skipped = page.split('id="batch-skipped"')[1].split("</section>")[0]
    assert "未纳入的家庭（2 户）" in skipped
    for h in campaign["matching"][:2]:
        assert h.name in skipped
    assert skipped.count("超过助学上限：每名学生每年最多资助 10 个月") == 2
    assert "20 户，20000.00 元" in page
    # Still there when the page is opened again later.
    assert "未纳入的家庭（2 户）" in detail(client, batch)


@pytest.mark.django_db
def test_a_batch_form_refusal_names_the_field(client, alice, units, tier, campaign, school):
    client.force_login(alice)
    url = reverse("programs:batch_create")
    response = client.post(url, criteria(units, tier, campaign, school, title=" "))
    assert "批次名称：请填写批次名称。" in response.content.decode()
    response = client.post(url, criteria(units, tier, campaign, school, unit=units["b"].pk))
    assert "发起工会：" in response.content.decode()
    school.window_start, school.window_end = "08-01", "09-30"
    school.save()
    clock.advance(dt.date(2027, 1, 10) - clock.today())
    response = client.post(url, criteria(units, tier, campaign, school))
    assert "现在不在申请期内" in response.content.decode()
    assert not Batch.objects.exists() and not Application.objects.filter(batch__isnull=False)


# -- amending and removing lines -------------------------------------------------------------


@pytest.mark.django_db
def test_amending_a_line_swaps_its_row(client, alice, units, tier, campaign, school):
    client.force_login(alice)
    batch = draft_batch(client, units, tier, campaign, school)
    line = batch.lines.order_by("pk").first()
    url = reverse("programs:batch_line_amend", args=[line.pk])
    row = client.post(url, {"amount": "1500"}, **HTMX).content.decode()
    assert row.lstrip().startswith(f'<tr id="line-{line.pk}"')
    assert "金额调整理由：申请金额与补助标准 1000.00 元不同，请说明理由。" in row
    line.refresh_from_db()
    assert line.amount == D("1000")
    row = client.post(url, {"amount": "1500", "amount_reason": "高三学费"}, **HTMX).content.decode()
    assert 'value="1500.00"' in row and "errorlist" not in row
    assert '<dd id="batch-totals" hx-swap-oob="true"><strong>20 户，20500.00 元' in row
    line.refresh_from_db()
    assert (line.amount, line.amount_reason) == (D("1500"), "高三学费")
    assert "20 户，20500.00 元" in detail(client, batch)
    # Without htmx: back to the batch page with the message.
    response = client.post(url, {"amount": "abc"}, follow=True)
    assert "申请金额（元）：金额格式不正确。" in response.content.decode()


@pytest.mark.django_db
def test_removing_a_line_withdraws_it(client, alice, units, tier, campaign, school):
    client.force_login(alice)
    batch = draft_batch(client, units, tier, campaign, school)
    line = batch.lines.order_by("pk").first()
    row = client.post(
        reverse("programs:batch_line_remove", args=[line.pk]), {}, **HTMX
    ).content.decode()
    assert "已撤回" in row and "line-amend" not in row
    line.refresh_from_db()
    assert line.status == S.WITHDRAWN
    assert "19 户，19000.00 元" in detail(client, batch)


# -- submitting and deciding ------------------------------------------------------------------


@pytest.mark.django_db
def test_after_submitting_lines_cannot_be_amended(client, alice, units, tier, campaign, school):
    client.force_login(alice)
    batch = draft_batch(client, units, tier, campaign, school)
    response = client.post(reverse("programs:batch_submit", args=[batch.pk]), follow=True)
    assert "已提交批次“2026年金秋助学第一批”，等待工会主席审批。" in response.content.decode()
    batch.refresh_from_db()
    assert batch.status == BatchStatus.SUBMITTED
    assert set(batch.lines.values_list("status", flat=True)) == {S.PENDING}
    page = detail(client, batch)
    assert "line-amend" not in page and 'id="batch-submit"' not in page
    line = batch.lines.first()
    response = client.post(
        reverse("programs:batch_line_amend", args=[line.pk]),
        {"amount": "1", "amount_reason": "x"},
        follow=True,
    )
    assert "只有尚未提交的申请可以修改金额。" in response.content.decode()
    remove = reverse("programs:batch_line_remove", args=[line.pk])
    assert client.post(remove, {}, **HTMX)["HX-Refresh"] == "true"
    response = client.post(remove, {}, follow=True)
    assert "批次已提交，不能再移除" in response.content.decode()
    line.refresh_from_db()
    assert (line.amount, line.status) == (D("1000"), S.PENDING)


@pytest.mark.django_db
def test_the_chair_approves_the_whole_batch_and_the_parent_chair_the_rest(
    client, alice, carol, cathy, units, tier, campaign, school
):
    client.force_login(alice)
    batch = draft_batch(client, units, tier, campaign, school)
    big = batch.lines.order_by("pk").first()
    client.post(
        reverse("programs:batch_line_amend", args=[big.pk]),
        {"amount": "2600", "amount_reason": "两名子女"},
    )
    client.post(reverse("programs:batch_submit", args=[batch.pk]))

    client.force_login(carol)
    page = detail(client, batch)
    assert 'id="batch-decide-form"' in page
    assert page.count('name="lines"') == 20
    page = decide(client, batch, decision="approve", scope="all").content.decode()
    assert "已同意 20 条申请。" in page
    statuses = dict(batch.lines.values_list("pk", "status"))
    assert statuses.pop(big.pk) == S.PENDING_PARENT
    assert set(statuses.values()) == {S.APPROVED}
    assert 'id="batch-decide-form"' not in page, "nothing left for carol"
    batch.refresh_from_db()
    assert batch.status == BatchStatus.SUBMITTED

    client.force_login(cathy)
    page = decide(client, batch, decision="approve", scope="all").content.decode()
    assert "已同意 1 条申请。" in page
    big.refresh_from_db()
    assert big.status == S.APPROVED
    batch.refresh_from_db()
    assert batch.status == BatchStatus.DECIDED
    assert "已批准 20（21600.00 元）" in detail(client, batch)


@pytest.mark.django_db
def test_the_chair_rejects_single_lines_with_a_note(
    client, alice, carol, units, tier, campaign, school
):
    client.force_login(alice)
    batch = draft_batch(client, units, tier, campaign, school)
    client.post(reverse("programs:batch_submit", args=[batch.pk]))
    first, second = batch.lines.order_by("pk")[:2]
    client.force_login(carol)
    ticked = {"scope": "ticked", "lines": [first.pk, second.pk]}
    response = decide(client, batch, decision="reject", note="", **ticked)
    assert "不同意时须填写理由" in response.content.decode()
    response = decide(client, batch, decision="reject", note="", scope="ticked")
    assert "请先勾选要审批的申请" in response.content.decode()
    assert not Decision.objects.exists()

    page = decide(client, batch, decision="reject", note="已享受其他助学", **ticked)
    assert "已不同意 2 条申请。" in page.content.decode()
    assert set(
        batch.lines.filter(pk__in=[first.pk, second.pk]).values_list("status", flat=True)
    ) == {S.REJECTED}
    assert batch.lines.filter(status=S.PENDING).count() == 18
    decide(client, batch, decision="approve", scope="all")
    assert batch.lines.filter(status=S.APPROVED).count() == 18
    assert first.decisions.get().note == "已享受其他助学"
    assert "未批准 2" in detail(client, batch)


@pytest.mark.django_db
def test_a_batch_drafted_by_the_chair_cannot_be_decided_by_her(
    client, carol, ben, units, tier, campaign, school
):
    client.force_login(carol)
    batch = draft_batch(client, units, tier, campaign, school)
    client.post(reverse("programs:batch_submit", args=[batch.pk]))
    assert 'id="batch-decide-form"' not in detail(client, batch)
    response = client.post(
        reverse("programs:batch_decide", args=[batch.pk]), {"decision": "approve", "scope": "all"}
    )
    assert response.status_code == 403
    assert "申请人（经办人）不能审批自己起草的申请" in response.content.decode()
    client.force_login(ben)
    response = client.post(
        reverse("programs:batch_decide", args=[batch.pk]), {"decision": "approve", "scope": "all"}
    )
    assert response.status_code == 404
    assert not Decision.objects.exists()
    assert set(batch.lines.values_list("status", flat=True)) == {S.PENDING}


@pytest.mark.django_db
def test_candidates_match_a_secondary_cause_too(units, tier, school):
    study = Cause.objects.get(name="因学")
    h = filed(units["a"], main_cause=Cause.objects.exclude(pk=study.pk).first())
    assert not batches.batch_candidates(unit=units["a"], causes=[study]).exists()
    h.secondary_causes.add(study)
    assert list(batches.batch_candidates(unit=units["a"], causes=[study])) == [h]


# -- fixed query counts ------------------------------------------------------------------------


def _lines(batch, program, user, units, start, n):
    households = [filed(units["a1"], name=f"批量户{start + i:03d}") for i in range(n)]
    Application.objects.bulk_create(
        Application(
            program=program,
            household=h,
            batch=batch,
            year=2026,
            amount=D("1000"),
            standard_amount=D("1000"),
            status=S.PENDING,
            drafted_by=user,
        )
        for h in households
    )


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["alice", "carol"])
def test_the_batch_page_costs_a_fixed_number_of_queries(
    client, alice, carol, units, festival, who, django_assert_max_num_queries
):
    batch = Batch.objects.create(
        unit=units["a"],
        program=festival,
        title="春节送温暖",
        year=2026,
        status=BatchStatus.SUBMITTED,
        created_by=alice,
        criteria={"skipped": []},
    )
    _lines(batch, festival, alice, units, 0, 10)
    client.force_login({"alice": alice, "carol": carol}[who])
    url = reverse("programs:batch_detail", args=[batch.pk])
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    _lines(batch, festival, alice, units, 10, 60)
    with django_assert_max_num_queries(12), CaptureQueriesContext(connection) as many:
        response = client.get(url, {"page": "1"})
    assert len(response.context["rows"]) == 50
    assert "70 户，70000.00 元" in response.content.decode()
    assert len(few) == len(many), "10 and 70 lines cost the same"


@pytest.mark.django_db
def test_the_batch_list_costs_a_fixed_number_of_queries(
    client, alice, units, festival, django_assert_max_num_queries
):
    def make(n):
        for i in range(n):
            b = Batch.objects.create(
                unit=units["a"], program=festival, title=f"批次{i}", year=2026, created_by=alice
            )
            _lines(b, festival, alice, units, 100 * i + n, 2)

    client.force_login(alice)
    make(3)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("programs:batch_list"))
    make(28)
    with django_assert_max_num_queries(8), CaptureQueriesContext(connection) as many:
        response = client.get(reverse("programs:batch_list"))
    assert len(response.context["rows"]) == 25
    assert re.search(r"<td[^>]*>2</td>\s*<td[^>]*>2000.00</td>", response.content.decode())
    assert len(few) == len(many)
