"""Keeping files alive: annual review and its sample, monthly incomes and the
exit rule, exits and retention, re-filing, non-cash help."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import AuditEvent
from cases import clock
from cases.models import (
    ExitKind,
    Helper,
    Household,
    LocalStandard,
    MonthlyIncome,
    NonCashHelp,
    ReviewItem,
    ReviewOutcome,
    StatusChange,
)
from cases.models import HouseholdStatus as S
from cases.services import intake, lifecycle
from cases.views.lifecycle import panel_context
from tests.builders import make_household, make_user, roster_person


def filed(unit, **overrides):
    overrides.setdefault("filed_on", dt.date(2020, 1, 1))
    return make_household(unit, status=S.FILED, **overrides)


def record(actor, household, month, per_capita, size=1):
    year, mon = month
    return lifecycle.monthly_income_record(
        actor=actor,
        household=household,
        month=dt.date(year, mon, 1),
        household_income=D(per_capita) * size,
        household_size=size,
    )


def months(start, count):
    year, mon = start
    for _ in range(count):
        yield year, mon
        year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)


def sampled_ids(review):
    return set(
        ReviewItem.objects.filter(round=review, sampled=True).values_list("household_id", flat=True)
    )


def flagged(household):
    household.refresh_from_db()
    return household.exit_flagged_on is not None


# -- 年审: the sample ----------------------------------------------------------------


def test_sample_size_rounds_up():
    assert lifecycle.sample_size(10, 30) == 3
    assert lifecycle.sample_size(7, 30) == 3  # 2.1 households → 3
    assert lifecycle.sample_size(3, 30) == 1
    assert lifecycle.sample_size(1, 30) == 1
    assert lifecycle.sample_size(0, 30) == 0
    assert lifecycle.sample_size(5, 100) == 5


@pytest.mark.django_db
@pytest.mark.parametrize(("count", "expected"), [(10, 3), (7, 3)])
def test_sample_is_reproducible_from_its_seed(units, carol, count, expected):
    households = [filed(units["a1"]) for _ in range(count)]
    review = lifecycle.review_round_start(actor=carol, unit=units["a"], year=2025, seed=20250101)
    marked = set(
        ReviewItem.objects.filter(round=review, sampled=True).values_list("household_id", flat=True)
    )
    assert len(marked) == expected
    assert ReviewItem.objects.filter(round=review).count() == count
    assert review.seed == 20250101
    # Drawn again from what is stored: the same households.
    assert lifecycle.review_sample(review) == marked
    # Another year's round over the same households with the same seed: the same sample.
    again = lifecycle.review_round_start(actor=carol, unit=units["a"], year=2024, seed=20250101)
    assert lifecycle.review_sample(again) == marked
    assert {h.pk for h in households} >= marked


@pytest.mark.django_db
def test_a_different_seed_draws_a_different_sample(units):
    ids = list(range(1, 21))
    assert lifecycle.draw_sample(ids, 30, 1) == lifecycle.draw_sample(reversed(ids), 30, 1)
    assert lifecycle.draw_sample(ids, 30, 1) != lifecycle.draw_sample(ids, 30, 2)


@pytest.mark.django_db
def test_a_seed_is_generated_and_kept_when_none_is_given(units, carol):
    for _ in range(6):
        filed(units["a1"])
    review = lifecycle.review_round_start(actor=carol, unit=units["a"], year=2025)
    review.refresh_from_db()
    marked = set(
        ReviewItem.objects.filter(round=review, sampled=True).values_list("household_id", flat=True)
    )
    assert len(marked) == 2
    assert lifecycle.review_sample(review) == marked


@pytest.mark.django_db
def test_one_round_per_unit_and_year(units, carol):
    filed(units["a1"])
    lifecycle.review_round_start(actor=carol, unit=units["a"], year=2025, seed=1)
    with pytest.raises(ValidationError, match="2025 年度的年审已经发起"):
        lifecycle.review_round_start(actor=carol, unit=units["a"], year=2025, seed=2)
    # A unit below has nothing left to review that year: no file is reviewed twice.
    with pytest.raises(ValidationError, match="没有需要 2025 年度年审"):
        lifecycle.review_round_start(actor=carol, unit=units["a1"], year=2025, seed=3)


@pytest.mark.django_db
def test_round_covers_filed_households_of_the_subtree_only(units, carol, alice):
    mine = filed(units["a1"], name="王秀兰")
    make_household(units["a1"], name="未建档", status=S.DRAFT)
    filed(units["b"], name="赵铁柱")
    review = lifecycle.review_round_start(actor=carol, unit=units["a"], year=2025, seed=5)
    assert list(ReviewItem.objects.filter(round=review).values_list("household_id", flat=True)) == [
        mine.pk
    ]
    assert AuditEvent.objects.filter(action="review.start", unit=units["a"]).exists()


@pytest.mark.django_db
def test_only_a_chair_of_the_unit_starts_a_round(units, alice, ben):
    filed(units["a1"])
    with pytest.raises(PermissionDenied):
        lifecycle.review_round_start(actor=alice, unit=units["a"], year=2025)
    with pytest.raises(PermissionDenied):
        lifecycle.review_round_start(actor=ben, unit=units["a"], year=2025)


@pytest.mark.django_db
def test_review_outcomes(units, carol, alice, bob):
    for _ in range(10):
        filed(units["a1"])
    review = lifecycle.review_round_start(actor=carol, unit=units["a"], year=2025, seed=9)
    sampled = ReviewItem.objects.filter(round=review, sampled=True).first()
    plain = ReviewItem.objects.filter(round=review, sampled=False).first()
    with pytest.raises(ValidationError) as err:
        lifecycle.review_item_record(
            actor=alice, item=sampled, outcome="unchanged", notes="", checked_on=None
        )
    assert "实地复核" in str(err.value.message_dict["checked_on"])
    with pytest.raises(ValidationError) as err:
        lifecycle.review_item_record(
            actor=alice, item=plain, outcome="updated", notes=" ", checked_on=None
        )
    assert "notes" in err.value.message_dict
    with pytest.raises(PermissionDenied):
        lifecycle.review_item_record(
            actor=bob, item=plain, outcome="unchanged", notes="", checked_on=None
        )
    lifecycle.review_item_record(
        actor=alice, item=plain, outcome="unchanged", notes="", checked_on=None
    )
    lifecycle.review_item_record(
        actor=alice, item=sampled, outcome="exit", notes="已再就业", checked_on=clock.today()
    )
    plain.refresh_from_db()
    sampled.refresh_from_db()
    assert plain.outcome == ReviewOutcome.UNCHANGED and plain.checked_on == clock.today()
    assert plain.checked_by == alice
    assert sampled.outcome == ReviewOutcome.EXIT and sampled.notes == "已再就业"


# -- Monthly incomes and the six-month rule -----------------------------------------


@pytest.mark.django_db
def test_five_months_above_do_not_flag_six_do(units, alice, standard):
    h = filed(units["a1"])
    for month in months((2024, 1), 5):
        record(alice, h, month, "900")
    assert not flagged(h)
    record(alice, h, (2024, 6), "900")
    assert flagged(h)
    assert h.exit_flagged_on == clock.today()
    assert AuditEvent.objects.filter(action="household.exit_flag", object_id=str(h.pk)).exists()


@pytest.mark.django_db
def test_a_month_at_the_standard_resets_the_run(units, alice, standard):
    h = filed(units["a1"])
    for month in months((2024, 1), 3):
        record(alice, h, month, "900")
    record(alice, h, (2024, 4), "800")  # exactly the standard: not above
    for month in months((2024, 5), 5):
        record(alice, h, month, "900")
    assert not flagged(h)
    record(alice, h, (2024, 10), "900")
    assert flagged(h)


@pytest.mark.django_db
def test_a_missing_month_breaks_the_run(units, alice, standard):
    h = filed(units["a1"])
    for month in [(2024, 1), (2024, 2), (2024, 3), (2024, 5), (2024, 6), (2024, 7)]:
        record(alice, h, month, "900")
    assert not flagged(h)  # six months above, but April was never recorded
    record(alice, h, (2024, 4), "900")  # filled in late: now seven in a row
    assert flagged(h)


@pytest.mark.django_db
def test_the_standard_in_force_each_month_is_used(units, alice, standard):
    h = filed(units["a1"])
    # Raised from 800 to 1,000 during April: April is judged by the new standard.
    LocalStandard.objects.create(
        unit=units["a"], amount=D("1000"), effective_from=dt.date(2024, 4, 15)
    )
    for month in months((2024, 1), 6):
        record(alice, h, month, "900")
    rows = dict(MonthlyIncome.objects.filter(household=h).values_list("month", "standard"))
    assert rows[dt.date(2024, 3, 1)] == D("800") and rows[dt.date(2024, 4, 1)] == D("1000")
    assert not flagged(h)  # 900 was above 800 but not above 1,000
    h2 = filed(units["a1"])
    for month in months((2024, 1), 6):
        record(alice, h2, month, "1000.01")
    assert flagged(h2)  # above both standards throughout


@pytest.mark.django_db
def test_per_capita_divides_by_household_size(units, alice, standard):
    h = filed(units["a1"])
    income = record(alice, h, (2024, 1), "850", size=3)
    assert income.household_income == D("2550.00") and income.per_capita == D("850.00")
    assert income.above_standard and income.standard == D("800")


@pytest.mark.django_db
def test_re_recording_a_month_replaces_it_and_can_end_the_flag(units, alice, standard):
    h = filed(units["a1"])
    for month in months((2024, 1), 6):
        record(alice, h, month, "900")
    assert flagged(h)
    record(alice, h, (2024, 6), "700")  # a typo corrected: June was below
    assert MonthlyIncome.objects.filter(household=h).count() == 6
    assert MonthlyIncome.objects.get(household=h, month=dt.date(2024, 6, 1)).per_capita == D("700")
    assert not flagged(h)
    event = AuditEvent.objects.filter(action="income.replace", object_id=str(h.pk)).get()
    assert event.changes["income"] == ["900.00/1", "700.00/1"]


@pytest.mark.django_db
def test_income_is_refused_for_unfiled_households_and_future_months(units, alice, standard):
    draft = make_household(units["a1"], status=S.DRAFT)
    with pytest.raises(ValidationError, match="只有已建档的家庭"):
        record(alice, draft, (2024, 1), "900")
    h = filed(units["a1"])
    next_month = clock.today().replace(day=28) + dt.timedelta(days=5)
    with pytest.raises(ValidationError) as err:
        record(alice, h, (next_month.year, next_month.month), "900")
    assert "month" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        record(alice, h, (2019, 12), "900")  # before the filing
    assert "month" in err.value.message_dict
    assert not MonthlyIncome.objects.exists()


@pytest.mark.django_db
def test_a_chair_dismisses_the_flag_and_the_run_starts_again(units, alice, carol, standard):
    h = filed(units["a1"])
    for month in months((2024, 1), 6):
        record(alice, h, month, "900")
    with pytest.raises(PermissionDenied):
        lifecycle.exit_flag_dismiss(actor=alice, household=h, reason="临时收入")
    with pytest.raises(ValidationError):
        lifecycle.exit_flag_dismiss(actor=carol, household=h, reason="  ")
    assert flagged(h)
    lifecycle.exit_flag_dismiss(actor=carol, household=h, reason="收入来自一次性补偿")
    assert not flagged(h)
    for month in months((2024, 7), 5):
        record(alice, h, month, "900")
    assert not flagged(h)  # the dismissed run does not count again
    record(alice, h, (2024, 12), "900")
    assert flagged(h)  # six new months above
    with pytest.raises(ValidationError, match="没有待处理的脱困提示"):
        lifecycle.exit_flag_dismiss(actor=carol, household=filed(units["a1"]), reason="无")


# -- Exits, retention, re-filing ------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ExitKind.values)
def test_every_exit_kind_needs_a_reason(units, carol, kind):
    h = filed(units["a1"])
    with pytest.raises(ValidationError) as err:
        lifecycle.household_exit(
            actor=carol, household=h, kind=kind, reason="", exited_on=clock.today()
        )
    assert "reason" in err.value.message_dict
    h.refresh_from_db()
    assert h.status == S.FILED
    lifecycle.household_exit(
        actor=carol, household=h, kind=kind, reason="经核实", exited_on=clock.today()
    )
    h.refresh_from_db()
    assert h.status == S.EXITED and h.exit_kind == kind and h.exit_reason == "经核实"
    change = StatusChange.objects.filter(household=h).last()
    assert (change.from_status, change.to_status) == (S.FILED, S.EXITED)
    assert str(ExitKind(kind).label) in change.reason and change.actor == carol


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("exited_on", "kept_until"),
    [
        (dt.date(2024, 3, 15), dt.date(2034, 3, 15)),
        (dt.date(2024, 2, 29), dt.date(2034, 2, 28)),
    ],
)
def test_retention_is_ten_years_after_closure(units, carol, exited_on, kept_until):
    h = filed(units["a1"])
    lifecycle.household_exit(
        actor=carol, household=h, kind="died", reason="户主病故", exited_on=exited_on
    )
    h.refresh_from_db()
    assert h.retention_until == kept_until


@pytest.mark.django_db
def test_exit_checks(units, alice, carol):
    h = filed(units["a1"], filed_on=dt.date(2023, 5, 1))
    with pytest.raises(PermissionDenied):
        lifecycle.household_exit(
            actor=alice, household=h, kind="moved", reason="迁出", exited_on=clock.today()
        )
    with pytest.raises(ValidationError) as err:
        lifecycle.household_exit(
            actor=carol, household=h, kind="moved", reason="迁出", exited_on=dt.date(2023, 4, 1)
        )
    assert "exited_on" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        lifecycle.household_exit(
            actor=carol, household=h, kind="gone", reason="迁出", exited_on=clock.today()
        )
    assert "kind" in err.value.message_dict
    draft = make_household(units["a1"], status=S.DRAFT)
    with pytest.raises(intake.IllegalTransition):
        lifecycle.household_exit(
            actor=carol, household=draft, kind="moved", reason="迁出", exited_on=clock.today()
        )
    h.refresh_from_db()
    assert h.status == S.FILED


@pytest.mark.django_db
def test_exit_ends_helper_assignments(units, alice, carol):
    h = filed(units["a1"])
    Helper.objects.create(
        household=h,
        person=roster_person(h.unit, alice),
        user=alice,
        role="union_cadre",
        start_on=dt.date(2021, 1, 1),
    )
    lifecycle.household_exit(
        actor=carol, household=h, kind="moved", reason="迁出", exited_on=dt.date(2024, 6, 30)
    )
    assert list(Helper.objects.values_list("end_on", flat=True)) == [dt.date(2024, 6, 30)]


@pytest.mark.django_db
def test_refiling_after_exit_keeps_history_and_the_old_exit(units, alice, carol, client):
    h = filed(units["a1"])
    StatusChange.objects.create(
        household=h, from_status=S.NOTICED, to_status=S.FILED, actor=carol, at=clock.now()
    )
    lifecycle.household_exit(
        actor=carol, household=h, kind="recovered", reason="再就业", exited_on=dt.date(2024, 5, 6)
    )
    intake.case_reopen(actor=alice, household=h, reason="再次因病致困")
    h.refresh_from_db()
    assert h.status == S.DRAFT
    steps = list(StatusChange.objects.filter(household=h).values_list("from_status", "to_status"))
    assert steps == [(S.NOTICED, S.FILED), (S.FILED, S.EXITED), (S.EXITED, S.DRAFT)]
    assert h.exited_on == dt.date(2024, 5, 6) and h.exit_kind == "recovered"
    client.force_login(alice)
    page = client.get(reverse("cases:household_detail", args=[h.pk])).content.decode()
    assert "曾于 2024-05-06 退出" in page and "再就业" in page


# -- Non-cash help ---------------------------------------------------------------------


@pytest.mark.django_db
def test_noncash_help_only_on_filed_households(units, alice, bob):
    draft = make_household(units["a1"], status=S.DRAFT)
    with pytest.raises(ValidationError, match="只有已建档的家庭"):
        lifecycle.noncash_help_record(
            actor=alice, household=draft, kind="job", given_on=clock.today(),
            description="公益岗位", outcome="",
        )  # fmt: skip
    h = filed(units["a1"])
    with pytest.raises(PermissionDenied):
        lifecycle.noncash_help_record(
            actor=bob, household=h, kind="job", given_on=clock.today(),
            description="公益岗位", outcome="",
        )  # fmt: skip
    with pytest.raises(ValidationError) as err:
        lifecycle.noncash_help_record(
            actor=alice, household=h, kind="legal", given_on=dt.date(2019, 1, 1),
            description="劳动争议代理", outcome="",
        )  # fmt: skip
    assert "given_on" in err.value.message_dict
    help = lifecycle.noncash_help_record(
        actor=alice, household=h, kind="legal", given_on=clock.today(),
        description="劳动争议代理", outcome="追回欠薪 8000 元",
    )  # fmt: skip
    assert help.given_by == alice
    assert NonCashHelp.objects.filter(household=h).count() == 1
    assert not NonCashHelp.objects.filter(household=draft).exists()


# -- Pages -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_caseworker_cannot_exit_and_other_county_sees_nothing(
    client, units, alice, bob, ben, carol
):
    h = filed(units["a1"])
    url = reverse("cases:household_exit", args=[h.pk])
    data = {"kind": "moved", "exited_on": clock.today().isoformat(), "reason": "迁出"}
    # A caseworker holds no chair's role anywhere: refused outright.
    for caseworker in (alice, bob):
        client.force_login(caseworker)
        assert client.post(url, data).status_code == 403
    # A chair of another county does not learn the household exists.
    client.force_login(ben)
    assert client.post(url, data).status_code == 404
    h.refresh_from_db()
    assert h.status == S.FILED
    client.force_login(carol)
    response = client.post(url, data, follow=True)
    h.refresh_from_db()
    assert h.status == S.EXITED
    page = response.content.decode()
    assert f"档案保存至 {h.retention_until:%Y-%m-%d}" in page


@pytest.mark.django_db
def test_exit_form_names_the_missing_reason(client, units, carol):
    h = filed(units["a1"])
    client.force_login(carol)
    url = reverse("cases:household_exit", args=[h.pk])
    response = client.post(url, {"kind": "moved", "exited_on": clock.today().isoformat()})
    assert response.status_code == 200
    assert "退出原因：退出须填写原因。" in response.content.decode()
    response = client.post(
        url, {"kind": "moved", "exited_on": "2019-01-01", "reason": "迁出"}
    )  # before the filing on 2020-01-01
    assert "退出日期不能早于建档日期" in response.content.decode()
    h.refresh_from_db()
    assert h.status == S.FILED


@pytest.mark.django_db
def test_flag_on_the_household_page_offers_the_chair_confirm_and_dismiss(
    client, units, alice, carol, standard
):
    h = filed(units["a1"])
    for month in months((2024, 1), 6):
        record(alice, h, month, "900")
    client.force_login(carol)
    page = client.get(reverse("cases:household_detail", args=[h.pk])).content.decode()
    assert "脱困提示" in page and "当前已连续 6 个月高于低保标准" in page
    assert f"{reverse('cases:household_exit', args=[h.pk])}?kind=recovered" in page
    assert reverse("cases:exit_flag_dismiss", args=[h.pk]) in page
    exit_page = client.get(reverse("cases:household_exit", args=[h.pk]) + "?kind=recovered")
    assert '<option value="recovered" selected>' in exit_page.content.decode()
    client.force_login(alice)
    page = client.get(reverse("cases:household_detail", args=[h.pk])).content.decode()
    assert "待工会主席确认或否决" in page
    assert reverse("cases:exit_flag_dismiss", args=[h.pk]) not in page


@pytest.mark.django_db
def test_income_form_refuses_bad_input_with_a_named_field(client, units, alice, standard):
    h = filed(units["a1"])
    client.force_login(alice)
    url = reverse("cases:income_record", args=[h.pk])
    response = client.post(
        url, {"month": "2024-01", "household_income": "-5", "household_size": "0"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "家庭月收入（元）：" in page and "家庭人口：" in page
    response = client.post(
        url, {"month": "2019-06", "household_income": "900", "household_size": "1"}
    )
    assert "月份：月份不能早于建档月份 2020-01。" in response.content.decode()
    assert not MonthlyIncome.objects.exists()
    response = client.post(
        url, {"month": "2024-01", "household_income": "2700", "household_size": "3"}, follow=True
    )
    assert "人均 900.00 元，高于低保标准 800.00 元" in response.content.decode()


@pytest.mark.django_db
def test_exited_household_shows_retention_and_refile_button(client, units, alice, carol):
    h = filed(units["a1"])
    lifecycle.household_exit(
        actor=carol, household=h, kind="voluntary", reason="本人申请",
        exited_on=dt.date(2024, 2, 29),
    )  # fmt: skip
    client.force_login(carol)
    page = client.get(reverse("cases:household_detail", args=[h.pk])).content.decode()
    assert reverse("cases:income_record", args=[h.pk]) not in page  # closed: nothing to record
    assert reverse("cases:household_exit", args=[h.pk]) not in page
    client.force_login(alice)
    page = client.get(reverse("cases:household_detail", args=[h.pk])).content.decode()
    assert "档案保存至 2034-02-28" in page and "本人申请" in page
    reopen = reverse("cases:intake_reopen", args=[h.pk])
    assert f'<form method="post" action="{reopen}" novalidate id="reopen-form">' in page
    client.post(reopen, {"reason": "再次因病致困"})
    h.refresh_from_db()
    assert h.status == S.DRAFT and h.exited_on == dt.date(2024, 2, 29)
    page = client.get(reverse("cases:household_detail", args=[h.pk])).content.decode()
    assert "曾于 2024-02-29 退出" in page and "档案保存至" not in page


@pytest.mark.django_db
def test_panel_takes_a_fixed_number_of_queries(units, alice, carol, standard):
    small = filed(units["a1"])
    large = filed(units["a1"])
    record(alice, small, (2024, 1), "500")
    for month in months((2022, 1), 30):
        record(alice, large, month, "500")
    for _ in range(15):
        lifecycle.noncash_help_record(
            actor=alice, household=large, kind="training", given_on=clock.today(),
            description="技能培训", outcome="",
        )  # fmt: skip
    clock.reset()
    counts = []
    for h in (small, large):
        h = Household.objects.select_related("unit").get(pk=h.pk)
        carol = type(carol).objects.get(pk=carol.pk)  # no cached memberships
        with CaptureQueriesContext(connection) as ctx:
            context = panel_context(carol, h)
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    assert len(context["lifecycle"]["panel"].incomes) == 12
    # A case still in intake cannot have any of these records: nothing is asked.
    draft = Household.objects.select_related("unit").get(
        pk=make_household(units["a1"], status=S.DRAFT).pk
    )
    with CaptureQueriesContext(connection) as ctx:
        assert panel_context(carol, draft) == {"lifecycle": {"show": False}}
    assert len(ctx.captured_queries) == 0


@pytest.mark.django_db
def test_review_pages_show_progress_sample_and_seed(
    client, units, carol, alice, django_assert_max_num_queries
):
    for i in range(40):
        filed(units["a1"], name=f"年审户{i:02d}")
    client.force_login(carol)
    response = client.post(
        reverse("cases:review_start"), {"unit": units["a"].pk, "year": "2025"}, follow=True
    )
    page = response.content.decode()
    assert "共 40 户，抽取 12 户实地复核" in page
    review = ReviewItem.objects.first().round
    assert str(review.seed) in page and "结果与标记的抽样户一致" in page
    assert page.count('<span class="badge draft">实地复核</span>') == 12  # sampled first, page 1
    client.force_login(alice)
    url = reverse("cases:review_detail", args=[review.pk])
    with django_assert_max_num_queries(12):
        page = client.get(url + "?page=2").content.decode()
    assert "第 2 / 2 页" in page
    item = ReviewItem.objects.filter(round=review, sampled=True).first()
    plain = ReviewItem.objects.filter(round=review, sampled=False).select_related("household")[0]
    form = client.get(reverse("cases:review_item", args=[item.pk])).content.decode()
    assert reverse("cases:household_edit", args=[item.household_id]) in form
    assert reverse("cases:intake_assess", args=[item.household_id]) in form
    response = client.post(
        reverse("cases:review_item", args=[item.pk]), {"outcome": "unchanged", "notes": ""}
    )
    assert "实地复核日期" in response.content.decode()
    item.refresh_from_db()
    assert item.outcome == ReviewOutcome.PENDING
    client.post(
        reverse("cases:review_item", args=[item.pk]),
        {"outcome": "unchanged", "checked_on": clock.today().isoformat()},
    )
    page = client.get(url).content.decode()
    assert "已复核 1 / 12 户" in page and "1 / 40 户" in page
    client.post(
        reverse("cases:review_item", args=[plain.pk]),
        {"outcome": "exit", "notes": "已再就业"},
        follow=True,  # the success message names the household: read it here
    )
    page = client.get(url + "?outcome=exit").content.decode()
    assert plain.household.name in page and item.household.name not in page


@pytest.mark.django_db
def test_review_queries_do_not_grow_with_the_round(client, units, carol, alice):
    for _ in range(5):
        filed(units["a1"])
    small = lifecycle.review_round_start(actor=carol, unit=units["a"], year=2024, seed=1)
    for _ in range(60):
        filed(units["a1"])
    large = lifecycle.review_round_start(actor=carol, unit=units["a"], year=2025, seed=1)
    client.force_login(alice)
    counts = []
    for review in (small, large):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("cases:review_detail", args=[review.pk])).status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("cases:review_list"))
    assert len(ctx.captured_queries) <= 10


@pytest.mark.django_db
def test_a_city_round_shows_each_county_only_its_own_households(client, units, alice, bob):
    city_chair = make_user("chen", units["city"], "chair")
    mine = filed(units["a1"], name="王秀兰")
    theirs = filed(units["b"], name="赵铁柱")
    review = lifecycle.review_round_start(actor=city_chair, unit=units["city"], year=2025, seed=3)
    client.force_login(alice)
    page = client.get(reverse("cases:review_detail", args=[review.pk])).content.decode()
    assert mine.name in page and theirs.name not in page
    listing = client.get(reverse("cases:review_list")).content.decode()
    assert "已审 0 / 1 户" in listing
    client.force_login(bob)
    page = client.get(reverse("cases:review_detail", args=[review.pk])).content.decode()
    assert theirs.name in page and mine.name not in page
    theirs_item = ReviewItem.objects.get(household=theirs)
    client.force_login(alice)
    assert client.get(reverse("cases:review_item", args=[theirs_item.pk])).status_code == 404
