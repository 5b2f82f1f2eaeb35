"""The caseworker's and chair's application screens: drafting with a preview,
every refusal on the field it concerns, approval up two levels, separation
of duties against crafted requests, the lists' fixed query counts."""

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
    AidPayment,
    Application,
    ApprovalThreshold,
    Decision,
    Program,
    StandardAmount,
)
from programs.models import ApplicationStatus as S
from programs.services import applications, payments
from tests.builders import make_user
from tests.programs.conftest import filed

HTMX = {"HTTP_HX_REQUEST": "true"}


def on_day(day: dt.date) -> None:
    clock.reset()
    clock.advance(day - clock.today())


def create_url(household):
    return reverse("programs:application_create", args=[household.pk])


def detail_url(app):
    return reverse("programs:application_detail", args=[app.pk])


def decide_url(app):
    return reverse("programs:application_decide", args=[app.pk])


def field_errors(page: str, name: str) -> str:
    """The text of one field's error list, as the form shows it."""
    match = re.search(rf'<ul class="errorlist" id="id_{name}_error">(.*?)</ul>', page, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)) if match else ""


def make_program(units, tier, *, amount="1000", **kw) -> Program:
    fields = {"unit": units["city"], "name": "帮扶项目", "category": "other", "kind": "cash"}
    fields.update(kw)
    p = Program.objects.create(**fields)
    StandardAmount.objects.create(program=p, tier=tier, amount=D(amount))
    return p


def prior(program, household, user, amount, **kw) -> Application:
    """An application earlier this year that counts against the caps."""
    fields = {"year": clock.today().year, "amount": D(amount), "drafted_by": user}
    fields.update(kw)
    return Application.objects.create(program=program, household=household, **fields)


# -- the form and its preview ----------------------------------------------------------


@pytest.mark.django_db
def test_the_form_offers_programs_open_now_for_the_households_union(
    as_user, alice, units, household, festival, tier
):
    on_day(dt.date(2026, 7, 15))
    make_program(units, tier, name="金秋助学", window_start="08-01", window_end="09-30")
    make_program(units, tier, name="二七区慰问", unit=units["b"])
    make_program(units, tier, name="已停用项目", is_active=False)
    page = as_user(alice).get(create_url(household)).content.decode()
    assert festival.name in page
    for absent in ("金秋助学", "二七区慰问", "已停用项目"):
        assert absent not in page
    assert "选择项目后显示补助标准" in page


@pytest.mark.django_db
def test_choosing_a_program_previews_standard_cap_threshold_and_fields(
    as_user, alice, units, household, festival, tier, standard
):
    client = as_user(alice)
    response = client.get(create_url(household), {"program": festival.pk}, **HTMX)
    page = response.content.decode()
    assert "<html" not in page, "htmx gets the fragment only"
    assert f"“{tier.name}”家庭 1000.00 元" in page
    assert 'name="amount" value="1000.00"' in page
    assert "不设上限" in page and "本级审批限额 2000.00 元" in page
    assert 'name="out_of_pocket"' not in page and 'name="months"' not in page
    assert "尚未申请" in page

    living = make_program(
        units, tier, name="生活救助", amount="2000", category="living", cap_rule="dibao_annual"
    )
    prior(living, household, alice, "6000")
    page = client.get(create_url(household), {"program": living.pk}, **HTMX).content.decode()
    assert "上限 28800.00 元" in page and "本年已申请 6000.00 元" in page
    assert "尚可申请 22800.00 元" in page
    assert "已申请 1 次，合计 6000.00 元" in page

    medical = make_program(units, tier, name="大病救助", cap_rule="out_of_pocket")
    page = client.get(create_url(household), {"program": medical.pk}, **HTMX).content.decode()
    assert 'name="out_of_pocket"' in page and 'name="months"' not in page

    Member.objects.create(
        household=household, name="王小明", relation="child", school_stage="junior"
    )
    school = make_program(units, tier, name="助学", cap_rule="ten_months")
    page = client.get(create_url(household), {"program": school.pk}, **HTMX).content.decode()
    assert 'name="student"' in page and 'name="months"' in page
    assert "王小明：本年已资助 0 个月，尚可 10 个月" in page


@pytest.mark.django_db
def test_a_full_page_with_a_program_in_the_url_works_without_htmx(
    as_user, alice, household, festival
):
    page = as_user(alice).get(create_url(household), {"program": festival.pk}).content.decode()
    assert "<html" in page and 'name="amount" value="1000.00"' in page


# -- drafting and deciding ---------------------------------------------------------


@pytest.mark.django_db
def test_drafted_at_the_standard_and_approved_by_the_chair(
    client, alice, carol, household, festival
):
    client.force_login(alice)
    response = client.post(create_url(household), {"program": festival.pk, "amount": ""})
    app = Application.objects.get(household=household)
    assert response["Location"] == detail_url(app)
    assert (app.status, app.amount, app.standard_amount) == (S.PENDING, D("1000"), D("1000"))
    page = client.get(detail_url(app)).content.decode()
    assert "已提交“2026年春节送温暖”申请" in page and "待审批" in page
    assert 'id="decide-form"' not in page, "the drafter is not offered the decision"
    assert 'id="withdraw"' in page

    client.force_login(carol)
    page = client.get(detail_url(app)).content.decode()
    assert 'id="decide-form"' in page
    response = client.post(decide_url(app), {"decision": "approve", "note": "同意"}, follow=True)
    page = response.content.decode()
    assert "现为“已批准”" in page
    trail = page.split('id="approval-trail"')[1].split("</section>")[0]
    assert "本级工会" in trail and "同意" in trail and "陈红" in trail
    app.refresh_from_db()
    assert app.status == S.APPROVED


@pytest.mark.django_db
def test_a_changed_amount_needs_a_reason_on_that_field(client, alice, household, festival):
    client.force_login(alice)
    response = client.post(create_url(household), {"program": festival.pk, "amount": "1200"})
    assert response.status_code == 200
    errors = field_errors(response.content.decode(), "amount_reason")
    assert "申请金额与补助标准 1000.00 元不同，请说明理由" in errors
    assert not Application.objects.exists()
    response = client.post(
        create_url(household),
        {"program": festival.pk, "amount": "1200", "amount_reason": "家中老人住院"},
    )
    assert response.status_code == 302
    app = Application.objects.get()
    assert (app.amount, app.amount_reason) == (D("1200"), "家中老人住院")


@pytest.mark.django_db
def test_above_the_threshold_the_parent_chair_approves_last(
    client, alice, carol, cathy, household, festival
):
    client.force_login(alice)
    client.post(
        create_url(household),
        {"program": festival.pk, "amount": "2500", "amount_reason": "重病住院"},
    )
    app = Application.objects.get()
    assert app.needs_parent

    client.force_login(carol)
    page = client.post(decide_url(app), {"decision": "approve"}, follow=True).content.decode()
    assert "现为“待上级审批”" in page
    assert 'id="decide-form"' not in page, "carol has decided her level"
    app.refresh_from_db()
    assert app.status == S.PENDING_PARENT

    client.force_login(cathy)
    listed = client.get(reverse("programs:application_list")).content.decode()
    assert detail_url(app) in listed, "待我审批 of the parent union's chair"
    page = client.post(decide_url(app), {"decision": "approve"}, follow=True).content.decode()
    assert "现为“已批准”" in page
    assert list(app.decisions.values_list("level", "actor__username")) == [
        ("unit", "carol"),
        ("parent", "cathy"),
    ]


@pytest.mark.django_db
def test_below_the_threshold_the_unit_chairs_approval_is_final(
    client, alice, carol, cathy, household, festival
):
    client.force_login(alice)
    client.post(
        create_url(household),
        {"program": festival.pk, "amount": "2000", "amount_reason": "两位病人"},
    )
    app = Application.objects.get()
    client.force_login(carol)
    client.post(decide_url(app), {"decision": "approve"})
    app.refresh_from_db()
    assert (app.status, app.needs_parent) == (S.APPROVED, False)
    client.force_login(cathy)
    assert detail_url(app) not in client.get(reverse("programs:application_list")).content.decode()


@pytest.mark.django_db
def test_rejecting_needs_a_note(client, alice, carol, household, festival):
    app = applications.application_draft(actor=alice, household=household, program=festival)
    client.force_login(carol)
    response = client.post(decide_url(app), {"decision": "reject", "note": " "})
    assert response.status_code == 200
    assert "不同意时须填写理由" in field_errors(response.content.decode(), "note")
    app.refresh_from_db()
    assert app.status == S.PENDING and not app.decisions.exists()
    response = client.post(decide_url(app), {"decision": "reject", "note": "收入已超标准"})
    app.refresh_from_db()
    assert app.status == S.REJECTED
    page = client.get(detail_url(app)).content.decode()
    assert "收入已超标准" in page and "未批准" in page


# -- separation of duties, against crafted requests -----------------------------------------


def _unchanged(app, status, decisions):
    app.refresh_from_db()
    assert app.status == status
    assert Decision.objects.filter(application=app).count() == decisions


@pytest.mark.django_db
def test_the_drafter_cannot_decide_even_by_a_crafted_post(client, carol, household, festival):
    client.force_login(carol)
    client.post(create_url(household), {"program": festival.pk})
    app = Application.objects.get()
    assert app.drafted_by == carol
    assert 'id="decide-form"' not in client.get(detail_url(app)).content.decode()
    response = client.post(decide_url(app), {"decision": "approve"})
    assert response.status_code == 403
    assert "申请人（经办人）不能审批自己起草的申请" in response.content.decode()
    _unchanged(app, S.PENDING, 0)


@pytest.mark.django_db
def test_one_chair_cannot_decide_both_levels(client, alice, carol, units, festival):
    """In a grassroots union of county A, carol chairs the parent union too."""
    household = filed(units["a1"])
    ApprovalThreshold.objects.create(program=festival, unit_kind="grassroots", amount=D("500"))
    app = applications.application_draft(actor=alice, household=household, program=festival)
    assert app.needs_parent
    client.force_login(carol)
    client.post(decide_url(app), {"decision": "approve"})
    _unchanged(app, S.PENDING_PARENT, 1)
    page = client.get(detail_url(app)).content.decode()
    assert 'id="decide-form"' not in page
    assert detail_url(app) not in client.get(reverse("programs:application_list")).content.decode()
    response = client.post(decide_url(app), {"decision": "approve"})
    assert response.status_code == 403
    assert "同一人不能在两级重复审批" in response.content.decode()
    _unchanged(app, S.PENDING_PARENT, 1)


@pytest.mark.django_db
def test_the_unit_chair_cannot_take_the_parent_level(client, alice, carol, household, festival):
    app = applications.application_draft(
        actor=alice, household=household, program=festival, amount="2500", amount_reason="重病"
    )
    client.force_login(carol)
    client.post(decide_url(app), {"decision": "approve"})
    response = client.post(decide_url(app), {"decision": "approve"})
    assert response.status_code == 403
    assert "须由上级工会主席审批" in response.content.decode()
    _unchanged(app, S.PENDING_PARENT, 1)


@pytest.mark.django_db
def test_a_chair_of_another_county_gets_404(client, alice, ben, household, festival):
    app = applications.application_draft(actor=alice, household=household, program=festival)
    client.force_login(ben)
    assert client.post(decide_url(app), {"decision": "approve"}).status_code == 404
    assert client.get(detail_url(app)).status_code == 404
    _unchanged(app, S.PENDING, 0)


@pytest.mark.django_db
def test_a_caseworker_cannot_decide(client, alice, household, festival, units):
    bea = filed(units["a"], name="吴秀英")
    app = applications.application_draft(actor=alice, household=bea, program=festival)
    client.force_login(alice)
    assert client.post(decide_url(app), {"decision": "approve"}).status_code == 403
    _unchanged(app, S.PENDING, 0)


# -- caps, windows, eligibility: refused on the field, nothing saved --------------------------


def _refused(client, household, data, field, message):
    response = client.post(create_url(household), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in field_errors(page, field), page[:4000]
    return page


@pytest.mark.django_db
def test_living_aid_is_capped_at_the_local_dibao_annual_total(client, alice, units, tier, standard):
    household = filed(units["a"], household_size=3)  # 800 × 12 × 3 = 28800
    living = make_program(
        units, tier, name="生活救助", amount="5000", category="living", cap_rule="dibao_annual"
    )
    prior(living, household, alice, "25000")
    client.force_login(alice)
    _refused(
        client,
        household,
        {"program": living.pk},
        "amount",
        "超过年度生活救助上限：当地低保年标准合计 28800.00 元，"
        "本年已申请 25000.00 元，本次最多 3800.00 元。",
    )
    assert Application.objects.count() == 1
    response = client.post(
        create_url(household),
        {"program": living.pk, "amount": "3800", "amount_reason": "补足年度上限"},
    )
    assert response.status_code == 302
    assert Application.objects.count() == 2


@pytest.mark.django_db
def test_medical_aid_is_capped_at_the_out_of_pocket_cost(client, alice, units, tier, household):
    medical = make_program(
        units, tier, name="大病救助", amount="4000", category="medical", cap_rule="out_of_pocket"
    )
    client.force_login(alice)
    _refused(
        client,
        household,
        {"program": medical.pk},
        "out_of_pocket",
        "医疗救助须填写个人自付医疗费用。",
    )
    _refused(
        client,
        household,
        {"program": medical.pk, "out_of_pocket": "3000"},
        "amount",
        "超过医疗救助上限：本年个人自付医疗费用合计 3000.00 元，已申请 0.00 元，"
        "本次最多 3000.00 元。",
    )
    assert not Application.objects.exists()
    client.post(
        create_url(household),
        {
            "program": medical.pk,
            "out_of_pocket": "3000",
            "amount": "3000",
            "amount_reason": "按自付费用",
        },
    )
    assert Application.objects.get().out_of_pocket == D("3000")


@pytest.mark.django_db
def test_school_aid_is_capped_at_ten_months_per_student(client, alice, units, tier, household):
    pupil = Member.objects.create(
        household=household, name="王小明", relation="child", school_stage="junior"
    )
    school = make_program(units, tier, name="金秋助学", category="school", cap_rule="ten_months")
    prior(school, household, alice, "600", student=pupil, months=6)
    client.force_login(alice)
    _refused(
        client,
        household,
        {"program": school.pk, "student": pupil.pk, "months": "5"},
        "months",
        "超过助学上限：每名学生每年最多资助 10 个月，王小明 本年已资助 6 个月。",
    )
    _refused(
        client,
        household,
        {"program": school.pk, "student": pupil.pk, "months": "11"},
        "months",
        "资助月数应在 1 至 10 之间。",
    )
    _refused(
        client,
        household,
        {"program": school.pk, "months": "4"},
        "student",
        "请选择本家庭在读的受助学生。",
    )
    assert Application.objects.count() == 1
    client.post(create_url(household), {"program": school.pk, "student": pupil.pk, "months": "4"})
    assert Application.objects.filter(months=4, student=pupil).exists()


@pytest.mark.django_db
def test_a_fixed_cap_per_household_and_year(client, alice, units, tier, household):
    fixed = make_program(units, tier, name="意外救助", cap_rule="fixed", cap_amount=D("3000"))
    prior(fixed, household, alice, "2000")
    prior(fixed, household, alice, "5000", status=S.REJECTED)  # does not count
    client.force_login(alice)
    _refused(
        client,
        household,
        {"program": fixed.pk, "amount": "1500", "amount_reason": "重大变故"},
        "amount",
        "超过本项目年度上限 3000.00 元：本年已申请 2000.00 元，本次最多 1000.00 元。",
    )
    assert Application.objects.count() == 2


@pytest.mark.django_db
def test_outside_the_window_the_program_field_says_when_it_opens(
    client, alice, units, tier, household
):
    school = make_program(units, tier, name="金秋助学", window_start="08-01", window_end="09-30")
    client.force_login(alice)
    on_day(dt.date(2026, 7, 15))
    _refused(
        client,
        household,
        {"program": school.pk},
        "program",
        "“金秋助学”的申请时间为每年 08-01 至 09-30，现在不在申请期内。",
    )
    assert not Application.objects.exists()
    on_day(dt.date(2026, 8, 1))
    assert client.post(create_url(household), {"program": school.pk}).status_code == 302
    assert Application.objects.get().year == 2026


@pytest.mark.django_db
def test_a_window_across_the_new_year(client, alice, units, tier, household):
    winter = make_program(units, tier, name="春节送温暖", window_start="12-01", window_end="02-28")
    client.force_login(alice)
    on_day(dt.date(2026, 11, 30))
    _refused(client, household, {"program": winter.pk}, "program", "每年 12-01 至 02-28")
    on_day(dt.date(2027, 1, 20))
    assert "春节送温暖" in client.get(create_url(household)).content.decode()
    assert client.post(create_url(household), {"program": winter.pk}).status_code == 302
    assert Application.objects.get().year == 2027
    on_day(dt.date(2027, 3, 1))
    _refused(client, household, {"program": winter.pk}, "program", "现在不在申请期内")


@pytest.mark.django_db
def test_eligibility_refusals(client, alice, units, tier, household):
    other_tier = Tier.objects.exclude(pk=tier.pk).first()
    for_others = make_program(units, tier, name="边缘户慰问")
    for_others.eligible_tiers.add(other_tier)
    client.force_login(alice)
    _refused(
        client,
        household,
        {"program": for_others.pk},
        "program",
        f"该项目不适用于“{tier.name}”家庭。",
    )
    other_cause = Cause.objects.exclude(pk=household.main_cause_id).first()
    by_cause = make_program(units, tier, name="因灾救助")
    by_cause.eligible_causes.add(other_cause)
    _refused(
        client,
        household,
        {"program": by_cause.pk},
        "program",
        "该家庭的致困原因不在本项目的适用范围内。",
    )
    household.secondary_causes.add(other_cause)  # a secondary cause qualifies too
    assert client.post(create_url(household), {"program": by_cause.pk}).status_code == 302
    assert Application.objects.count() == 1


@pytest.mark.django_db
def test_a_household_not_yet_filed_cannot_apply(client, alice, units, festival):
    draft = filed(units["a"], status=HouseholdStatus.NOTICED, filed_on=None)
    client.force_login(alice)
    page = client.get(create_url(draft)).content.decode()
    assert "只有已建档的家庭可以申请帮扶" in page
    response = client.post(create_url(draft), {"program": festival.pk})
    assert response.status_code == 200
    assert "只有已建档的家庭可以申请帮扶。" in response.content.decode()
    assert not Application.objects.exists()


@pytest.mark.django_db
def test_a_program_of_another_county_is_refused(client, alice, units, tier, household):
    theirs = make_program(units, tier, name="二七区慰问", unit=units["b"])
    client.force_login(alice)
    _refused(client, household, {"program": theirs.pk}, "program", "不面向该家庭所在的工会")
    assert not Application.objects.exists()


# -- withdraw ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_withdrawing_needs_a_reason_and_only_while_waiting(
    client, alice, carol, household, festival
):
    app = applications.application_draft(actor=alice, household=household, program=festival)
    client.force_login(alice)
    url = reverse("programs:application_withdraw", args=[app.pk])
    response = client.post(url, {"reason": ""})
    assert "请填写撤回理由" in field_errors(response.content.decode(), "reason")
    app.refresh_from_db()
    assert app.status == S.PENDING
    response = client.post(url, {"reason": "已获其他救助"}, follow=True)
    assert "已撤回该申请" in response.content.decode()
    app.refresh_from_db()
    assert app.status == S.WITHDRAWN
    approved = applications.application_draft(
        actor=alice, household=household, program=festival, amount="500", amount_reason="补差"
    )
    applications.application_decide(actor=carol, application=approved, approve=True)
    page = client.get(detail_url(approved)).content.decode()
    assert 'id="withdraw"' not in page
    response = client.post(
        reverse("programs:application_withdraw", args=[approved.pk]), {"reason": "x"}
    )
    assert "该申请已审批，不能撤回。" in response.content.decode()
    approved.refresh_from_db()
    assert approved.status == S.APPROVED


# -- detail: masked data, payments -------------------------------------------------------------


@pytest.mark.django_db
def test_detail_masks_personal_numbers_and_lists_payments(
    client, alice, carol, dave, household, festival, fund
):
    app = applications.application_draft(actor=alice, household=household, program=festival)
    applications.application_decide(actor=carol, application=app, approve=True)
    payment = payments.aid_pay(actor=dave, application=app, fund=fund, method="bank")
    client.force_login(alice)
    page = client.get(detail_url(app)).content.decode()
    assert household.id_number not in page and household.id_number[-4:] in page
    assert household.bank_account not in page and "6222" in page
    rows = page.split('id="application-payments"')[1].split("</section>")[0]
    assert fund.name in rows and "银行转账" in rows and "1000.00" in rows and "已发放" in rows
    payments.aid_payment_reverse(actor=dave, payment=payment, reason="账号错误")
    page = client.get(detail_url(app)).content.decode()
    assert "已冲正" in page and "账号错误" in page
    assert AidPayment.objects.count() == 1


# -- the list ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_chairs_default_list_is_what_waits_for_her(
    as_user, alice, bob, carol, cathy, units, festival
):
    applications.application_draft(
        actor=alice, household=filed(units["a"], name="待批户"), program=festival
    )
    applications.application_draft(
        actor=carol, household=filed(units["a"], name="主席起草户"), program=festival
    )
    decided = applications.application_draft(
        actor=alice, household=filed(units["a"], name="已批户"), program=festival
    )
    applications.application_decide(actor=carol, application=decided, approve=True)
    upward = applications.application_draft(
        actor=alice,
        household=filed(units["a"], name="上报户"),
        program=festival,
        amount="3000",
        amount_reason="重病",
    )
    applications.application_decide(actor=carol, application=upward, approve=True)
    applications.application_draft(
        actor=bob, household=filed(units["b"], name="外区户"), program=festival
    )

    def names(user, **params):
        response = as_user(user).get(reverse("programs:application_list"), params)
        return {a.household.name for a in response.context["rows"]}

    assert names(carol) == {"待批户"}
    assert names(carol, view="all") == {"待批户", "主席起草户", "已批户", "上报户"}
    assert names(carol, view="all", status="approved") == {"已批户"}
    # The city chair: the escalated one, and county-level ones she also covers.
    assert "上报户" in names(cathy) and "已批户" not in names(cathy)
    assert names(alice) == {"待批户", "主席起草户", "已批户", "上报户"}
    assert names(bob) == {"外区户"}
    assert names(alice, unit=units["b"].pk) == set()
    assert names(alice, program=festival.pk, status="pending") == {"待批户", "主席起草户"}
    page = as_user(carol).get(reverse("programs:application_list")).content.decode()
    assert 'id="tab-mine"' in page and "待我审批" in page


def _bulk(program, household, user, n):
    Application.objects.bulk_create(
        Application(
            program=program,
            household=household,
            year=2026,
            amount=D("100"),
            drafted_by=user,
            status=S.PENDING,
        )
        for _ in range(n)
    )


@pytest.mark.django_db
@pytest.mark.parametrize("who, params", [("alice", {}), ("carol", {}), ("carol", {"page": "2"})])
def test_the_list_costs_a_fixed_number_of_queries(
    client, alice, carol, units, festival, who, params, django_assert_max_num_queries
):
    user = {"alice": alice, "carol": carol}[who]
    households = [filed(units["a1"], name=f"户{i}") for i in range(3)]
    client.force_login(user)
    url = reverse("programs:application_list")
    for h in households:
        _bulk(festival, h, alice, 10)
    with CaptureQueriesContext(connection) as few:
        client.get(url, params)
    for h in households:
        _bulk(festival, h, alice, 60)
    with django_assert_max_num_queries(12), CaptureQueriesContext(connection) as many:
        response = client.get(url, params)
    assert len(response.context["rows"]) == 25
    assert response.context["page"].paginator.count == 210
    assert len(few) == len(many), "30 and 210 applications cost the same"


@pytest.mark.django_db
def test_waiting_for_the_parent_union_shows_to_its_chair(as_user, alice, carol, units, festival):
    """A grassroots union's chair approves above her limit: the county chair
    (carol, covering the parent union) finds it in 待我审批; the grassroots
    chair, who has decided it, no longer does."""
    gina = make_user("gina", units["a1"], "chair", full_name="葛娜")
    ApprovalThreshold.objects.create(program=festival, unit_kind="grassroots", amount=D("500"))
    app = applications.application_draft(
        actor=alice, household=filed(units["a1"], name="基层户"), program=festival
    )

    def mine(user):
        response = as_user(user).get(reverse("programs:application_list"))
        return [a.pk for a in response.context["rows"]]

    assert mine(gina) == [app.pk] and mine(carol) == [app.pk], "the unit level: either chair"
    applications.application_decide(actor=gina, application=app, approve=True)
    assert mine(gina) == [] and mine(carol) == [app.pk]
    page = as_user(carol).get(detail_url(app)).content.decode()
    assert "上级工会审批" in page and 'id="decide-form"' in page
