"""回访核实 in the browser's requests: the lists at a fixed cost, the
record form's refusals, masked names for an auditor, the chair's monthly
button, the share page and the rates screen."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.masking import mask_name
from accounts.models import AuditEvent
from programs.models import (
    AidPayment,
    CaseStatus,
    VerificationCase,
    VerificationLine,
    VerificationSample,
)
from programs.services import payments, verification
from tests.builders import make_user
from tests.programs.verification_world import amy, approved_many, paid_batch

pytestmark = pytest.mark.django_db

# Session, user, second factor, memberships; the page's keys (past page
# one), its rows with their joins; the capped count.
LIST_BUDGET = 8


def _batches(alice, dave, festival, fund, unit, count, start=0):
    for i in range(count):
        apps = approved_many(festival, unit, 1, alice, start=start + i)
        paid_batch(dave, fund, apps, title=f"第{start + i}批")


def _queries(client, url, django_assert_max_num_queries, budget=LIST_BUDGET):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    with django_assert_max_num_queries(budget):
        client.get(url)
    return len(ctx.captured_queries), response


def test_the_sample_list_shows_progress_at_a_fixed_cost(
    as_user, alice, carol, dave, festival, fund, units, django_assert_max_num_queries
):
    client = as_user(carol)
    url = reverse("programs:verification_samples")
    _batches(alice, dave, festival, fund, units["a"], 2)
    few, _ = _queries(client, url, django_assert_max_num_queries)
    _batches(alice, dave, festival, fund, units["a"], 24, start=100)
    many, response = _queries(client, url, django_assert_max_num_queries)
    assert few == many
    assert len(response.context["page"].object_list) == 25
    sample = VerificationSample.objects.order_by("-id").first()
    line = sample.lines.first()
    verification.verification_record(
        actor=amy(units["a"]), line=line, outcome="full", channel="phone"
    )
    body = client.get(url).content.decode()
    assert f'id="sample-{sample.pk}-progress">1 / 1<' in body
    with django_assert_max_num_queries(LIST_BUDGET + 1):
        client.get(url, {"page": "2"})


def test_the_todo_and_case_lists_cost_the_same_for_few_and_many(
    as_user, alice, cathy, dave, festival, fund, units, django_assert_max_num_queries
):
    _batches(alice, dave, festival, fund, units["a"], 2)
    verifier = amy(units["a"])
    todo = reverse("programs:verification_todo")
    cases = reverse("programs:verification_cases")
    few_todo, _ = _queries(as_user(verifier), todo, django_assert_max_num_queries)
    line = VerificationLine.objects.first()
    verification.verification_record(
        actor=verifier, line=line, outcome="none", channel="visit", note="未收到"
    )
    few_cases, _ = _queries(as_user(cathy), cases, django_assert_max_num_queries)
    _batches(alice, dave, festival, fund, units["a"], 26, start=100)
    for line in VerificationLine.objects.filter(outcome="")[:24]:
        verification.verification_record(
            actor=verifier, line=line, outcome="unreachable", channel="phone", note="未接"
        )
    many_todo, response = _queries(as_user(verifier), todo, django_assert_max_num_queries)
    assert few_todo == many_todo and len(response.context["rows"]) == 3
    many_cases, response = _queries(as_user(cathy), cases, django_assert_max_num_queries)
    assert few_cases == many_cases and len(response.context["rows"]) == 25


@pytest.fixture
def line(alice, dave, festival, fund, units):
    paid_batch(dave, fund, approved_many(festival, units["a"], 1, alice))
    return VerificationLine.objects.get()


def test_a_bad_partial_amount_is_named_and_nothing_changes(as_user, line, units):
    client = as_user(amy(units["a"]))
    url = reverse("programs:verification_line", args=[line.pk])
    events = AuditEvent.objects.count()
    for amount, reason in (("", "请填写实收金额"), ("1000", "须小于发放金额"), ("0", "须大于 0")):
        response = client.post(
            url,
            {"outcome": "partial", "channel": "phone", "note": "少了", "amount_received": amount},
        )
        assert response.status_code == 200
        body = response.content.decode()
        assert "实收金额（元）" in body and reason in body
    response = client.post(url, {"outcome": "none", "channel": "", "note": ""})
    body = response.content.decode()
    assert "核实方式" in body and "请选择核实方式" in body
    line.refresh_from_db()
    assert line.outcome == "" and AuditEvent.objects.count() == events


def test_a_partial_amount_opens_a_case_and_says_where_it_went(as_user, line, units):
    client = as_user(amy(units["a"]))
    response = client.post(
        reverse("programs:verification_line", args=[line.pk]),
        {"outcome": "partial", "channel": "visit", "note": "只收到一半", "amount_received": "500"},
        follow=True,
    )
    assert "已转 郑州市总工会 主席处理" in response.content.decode()
    case = VerificationCase.objects.get()
    assert case.line.amount_received == 500 and case.unit == units["city"]


def test_the_drafter_sees_why_and_a_crafted_post_is_refused(as_user, alice, line):
    client = as_user(alice)
    url = reverse("programs:verification_line", args=[line.pk])
    body = client.get(url).content.decode()
    assert 'id="line-blocked"' in body and "起草该申请的人员不能回访核实" in body
    assert 'id="verification-form"' not in body
    response = client.post(url, {"outcome": "full", "channel": "phone"})
    assert response.status_code == 403 and "起草该申请" in response.content.decode()
    take = client.post(reverse("programs:verification_line_take", args=[line.pk]))
    assert take.status_code == 403
    line.refresh_from_db()
    assert line.outcome == "" and line.verifier is None


def test_a_line_taken_by_another_says_who_has_it(as_user, line, units):
    verifier = amy(units["a"])
    as_user(verifier).post(reverse("programs:verification_line_take", args=[line.pk]))
    other = make_user("ann", units["a"], "caseworker", full_name="安娜")
    client = as_user(other)
    url = reverse("programs:verification_line", args=[line.pk])
    assert 'id="line-taken"' in client.get(url).content.decode()
    response = client.post(url, {"outcome": "full", "channel": "phone"})
    assert "该户已由 艾敏" in response.content.decode()
    line.refresh_from_db()
    assert line.verifier == verifier and line.outcome == ""


def test_an_auditor_sees_masked_names_and_cannot_close(as_user, erin, cathy, line, units):
    verification.verification_record(
        actor=amy(units["a"]), line=line, outcome="none", channel="phone", note="未收到"
    )
    name = line.household.name
    client = as_user(erin)
    sample = client.get(reverse("programs:verification_sample", args=[line.sample_id]))
    assert mask_name(name) in sample.content.decode() and name not in sample.content.decode()
    case = VerificationCase.objects.get()
    url = reverse("programs:verification_case", args=[case.pk])
    page = client.get(url).content.decode()
    assert mask_name(name) in page and 'id="case-close-form"' not in page
    assert client.post(url, {"resolution": "审计来关"}).status_code == 403
    response = as_user(cathy).post(url, {"resolution": ""})
    assert "请填写处理结果" in response.content.decode()
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN


def test_the_chairs_monthly_button_draws_once(as_user, alice, carol, dave, festival, fund, units):
    apps = approved_many(festival, units["a"], 4, alice)
    paid = [payments.aid_pay(actor=dave, application=a, fund=fund, method="bank") for a in apps]
    month = verification.previous_month()
    recorded = timezone.make_aware(datetime.datetime.combine(month, datetime.time(9)))
    AidPayment.objects.filter(pk__in=[p.pk for p in paid]).update(created_at=recorded)
    client = as_user(carol)
    url = reverse("programs:verification_month_draw")
    data = {"unit": units["a"].pk, "month": f"{month:%Y-%m}"}
    first = client.post(url, data, follow=True)
    sample = VerificationSample.objects.get()
    assert first.redirect_chain[-1][0] == reverse("programs:verification_sample", args=[sample.pk])
    assert "已抽取" in first.content.decode()
    second = client.post(url, data, follow=True)
    assert "已经抽过样" in second.content.decode()
    assert VerificationSample.objects.count() == 1
    bad = client.post(url, {"unit": units["a"].pk, "month": "2026年11月"})
    assert "月份格式应为" in bad.content.decode()
    now = client.post(url, {"unit": units["a"].pk, "month": f"{datetime.date.today():%Y-%m}"})
    assert "只能对已经结束的月份抽样" in now.content.decode()
    # Another county's union is not among the chair's choices.
    other = client.post(url, {"unit": units["b"].pk, "month": f"{month:%Y-%m}"})
    assert "不在您的范围内" in other.content.decode()


def test_the_share_page_names_a_bad_share(as_user, carol, units):
    client = as_user(carol)
    url = reverse("programs:verification_share")
    response = client.post(url, {"unit": units["a"].pk, "share_percent": "0"})
    body = response.content.decode()
    assert "回访抽查比例（%）" in body and "1 到 100" in body
    assert verification.verification_share(units["a"]) == 10
    response = client.post(url, {"unit": units["a"].pk, "share_percent": "25"}, follow=True)
    assert "已设为 25%" in response.content.decode()
    assert verification.verification_share(units["a1"]) == 25
    assert "金水区总工会" in client.get(url).content.decode()


def test_the_rates_screen_counts_per_union(as_user, alice, carol, dave, festival, fund, units):
    paid_batch(dave, fund, approved_many(festival, units["a"], 10, alice))
    paid_batch(dave, fund, approved_many(festival, units["a1"], 20, alice, start=50), title="二")
    verifier = amy(units["a"])
    lines = list(VerificationLine.objects.order_by("pk"))
    assert len(lines) == 3  # 1 of 10, 2 of 20
    verification.verification_record(actor=verifier, line=lines[0], outcome="full", channel="phone")
    verification.verification_record(
        actor=verifier, line=lines[1], outcome="none", channel="phone", note="未收到"
    )
    response = as_user(carol).get(reverse("programs:verification_rates"))
    rows = {r.unit_name: r for r in response.context["rows"]}
    assert set(rows) == {"金水区总工会", "郑州纺织厂工会"}
    total = response.context["total"]
    assert (total.sampled, total.verified, total.full, total.problems) == (3, 2, 1, 1)
    assert str(total.verified_percent) == "66.67"
    assert 'id="rates-total"' in response.content.decode()
    later = as_user(carol).get(reverse("programs:verification_rates"), {"date_from": "2099-01-01"})
    assert later.context["rows"] == [] and later.context["total"].sampled == 0
    bad = as_user(carol).get(
        reverse("programs:verification_rates"),
        {"date_from": "2026-12-01", "date_to": "2026-11-01"},
    )
    assert "截止日期不能早于起始日期" in bad.content.decode()
