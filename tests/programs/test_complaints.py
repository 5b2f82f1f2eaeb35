"""Complaints (投诉处理): the deadline on the notices' calendar, the moves
and their history, the lists, the statistics, and where the public notices
say complaints go."""

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from openpyxl import load_workbook
from pypdf import PdfReader

from cases import clock, workdays
from cases.models import ComplaintDesk, Holiday
from cases.services.intake import deadline_date
from programs.models import Complaint, ComplaintChange
from programs.models import ComplaintStatus as S
from programs.services import complaints as services
from tests.builders import make_household, make_user
from tests.programs.conftest import filed
from tests.programs.routes_complaints import record
from tests.reports.routes_documents import _notice

# -- the deadline ------------------------------------------------------------------


@pytest.mark.django_db
def test_deadline_is_fifteen_working_days_after_receipt_on_the_notices_calendar(
    alice, carol, household
):
    # National Day: 1–8 October off, Saturday 10 October a make-up working day.
    for day in range(1, 9):
        Holiday.objects.create(date=dt.date(2026, 10, day), name="国庆节")
    Holiday.objects.create(date=dt.date(2026, 10, 10), name="国庆调休", is_workday=True)
    with clock.travel(dt.date(2026, 9, 30) - clock.today()):
        complaint = record(alice, household)
    # 9 Oct (1), 10 Oct make-up (2), then 12–16 and 19–23 Oct, 26–28 Oct: the 15th.
    assert complaint.deadline == dt.date(2026, 10, 28)
    assert complaint.working_days == 15
    # One rule: the notices' own count, started the day after receipt.
    holidays = {dt.date(2026, 10, d) for d in range(1, 9)}
    expected = workdays.notice_end(dt.date(2026, 10, 1), 15, holidays, {dt.date(2026, 10, 10)})
    assert complaint.deadline == expected == deadline_date(dt.date(2026, 9, 30), 15)


@pytest.mark.django_db
def test_a_union_sets_its_own_time_limit_and_desk_for_the_unions_below(
    alice, carol, household, units
):
    ComplaintDesk.objects.create(
        unit=units["city"], phone="0371-12351", address="郑州市金水路1号", working_days=10
    )
    received = dt.date(2026, 11, 2)  # a Monday
    complaint = record(alice, household, received_on=received)
    assert (complaint.working_days, complaint.deadline) == (10, dt.date(2026, 11, 16))


# -- the moves ---------------------------------------------------------------------


@pytest.mark.django_db
def test_the_chair_owns_it_replies_and_closes_it_on_time_with_its_history(alice, carol, household):
    complaint = record(alice, household)
    assert (complaint.status, complaint.owner) == (S.OPEN, carol)
    services.complaint_reply(actor=carol, complaint=complaint, reply="正在核实")
    services.complaint_close(
        actor=carol, complaint=complaint, decision="partly", reply="已补发差额 200 元"
    )
    complaint.refresh_from_db()
    assert complaint.status == S.CLOSED and complaint.on_time is True
    assert (complaint.decision, complaint.reply, complaint.closed_by) == (
        "partly",
        "已补发差额 200 元",
        carol,
    )
    moves = list(complaint.changes.values_list("from_status", "to_status", "actor__username"))
    assert moves == [
        ("", S.OPEN, "alice"),
        (S.OPEN, S.HANDLING, "carol"),
        (S.HANDLING, S.CLOSED, "carol"),
    ]


@pytest.mark.django_db
def test_closed_late_is_shown_late(alice, carol, household, as_user):
    complaint = record(alice, household)
    with clock.travel(dt.timedelta(days=40)):
        services.complaint_close(actor=carol, complaint=complaint, decision="upheld", reply="属实")
        complaint.refresh_from_db()
        assert complaint.on_time is False
        page = as_user(carol).get(reverse("programs:complaint_detail", args=[complaint.pk]))
    text = page.content.decode()
    assert "超期办结" in text
    assert "超过办结期限" in complaint.changes.last().reason


@pytest.mark.django_db
def test_illegal_moves_are_refused_by_name_and_change_nothing(alice, carol, household):
    complaint = record(alice, household)
    with pytest.raises(services.IllegalComplaintMove):
        services.complaint_reopen(actor=carol, complaint=complaint, reason="再查")
    services.complaint_close(actor=carol, complaint=complaint, decision="dismissed", reply="不属实")
    for attempt in (
        lambda: services.complaint_close(
            actor=carol, complaint=complaint, decision="upheld", reply="改判"
        ),
        lambda: services.complaint_reply(actor=carol, complaint=complaint, reply="补充"),
        lambda: services.complaint_assign(actor=carol, complaint=complaint, owner=alice),
    ):
        with pytest.raises(services.IllegalComplaintMove):
            attempt()
    complaint.refresh_from_db()
    assert (complaint.status, complaint.decision) == (S.CLOSED, "dismissed")
    assert complaint.changes.count() == 2
    services.complaint_reopen(actor=carol, complaint=complaint, reason="投诉人不满意")
    complaint.refresh_from_db()
    assert (complaint.status, complaint.decision, complaint.closed_on) == (S.HANDLING, "", None)


@pytest.mark.django_db
def test_only_the_owner_or_a_chair_acts_and_the_owner_must_read_it(
    alice, bob, carol, dave, erin, household
):
    complaint = record(alice, household)
    for person in (alice, dave, erin):
        with pytest.raises(PermissionDenied):
            services.complaint_reply(actor=person, complaint=complaint, reply="我来答复")
    with pytest.raises(PermissionDenied):
        services.complaint_assign(actor=alice, complaint=complaint, owner=alice)
    for wrong in (bob, erin, dave):  # another county; an auditor; finance
        with pytest.raises(ValidationError) as exc:
            services.complaint_assign(actor=carol, complaint=complaint, owner=wrong)
        assert "owner" in exc.value.error_dict
    services.complaint_assign(actor=carol, complaint=complaint, owner=alice, note="请入户核实")
    services.complaint_reply(actor=alice, complaint=complaint, reply="已入户核实")
    complaint.refresh_from_db()
    assert (complaint.owner, complaint.status) == (alice, S.HANDLING)
    assert (
        "指定承办人：张丽。" in complaint.changes.get(to_status=S.OPEN, from_status=S.OPEN).reason
    )


# -- recording through the screens --------------------------------------------------


@pytest.mark.django_db
def test_bad_input_names_the_field_and_saves_nothing(as_user, alice, carol, household):
    url = reverse("programs:complaint_create_household", args=[household.pk])
    client = as_user(alice)
    future = (clock.today() + dt.timedelta(days=1)).isoformat()
    cases = [
        ({"category": "amount", "channel": "phone", "content": "  "}, "投诉内容：请填写投诉内容。"),
        ({"category": "", "channel": "phone", "content": "少发"}, "投诉类别：请选择投诉类别。"),
        (
            {"category": "amount", "channel": "phone", "content": "少发", "received_on": future},
            "受理日期：受理日期不能晚于今天。",
        ),
        (
            {"category": "amount", "channel": "phone", "content": "少发", "subject": 999999},
            "被投诉干部：被投诉干部须是该工会或上级工会的工作人员。",
        ),
    ]
    for data, message in cases:
        response = client.post(url, data)
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not Complaint.objects.exists()


@pytest.mark.django_db
def test_a_worker_complaining_in_the_system_is_the_complainant(as_user, alice, carol, household):
    response = as_user(alice).post(
        reverse("programs:complaint_create_household", args=[household.pk]),
        {"category": "conduct", "channel": "online", "content": "干部态度差"},
    )
    assert response.status_code == 302
    assert Complaint.objects.get().complainant_name == "张丽"


@pytest.mark.django_db
def test_the_complainant_is_masked_for_an_auditor(as_user, alice, carol, erin, household):
    complaint = record(alice, household)
    url = reverse("programs:complaint_detail", args=[complaint.pk])
    full = as_user(alice).get(url).content.decode()
    assert "王秀兰" in full and "13812345678" in full
    masked = as_user(erin).get(url).content.decode()
    assert "王**" in masked and "138****5678" in masked
    assert household.name != "王秀兰" and "王秀兰" not in masked
    assert "13812345678" not in masked


# -- lists -------------------------------------------------------------------------


@pytest.mark.django_db
def test_overdue_ones_are_listed_per_union(as_user, alice, bob, ben, carol, units):
    late_a = record(alice, make_household(units["a1"], name="甲一"))
    late_a2 = record(alice, make_household(units["a"], name="甲二"))
    record(bob, make_household(units["b"], name="乙一"))
    with clock.travel(dt.timedelta(days=30)):
        fresh = record(alice, make_household(units["a"], name="甲三"))
        page = as_user(carol).get(reverse("programs:complaint_list"), {"view": "overdue"})
    text = page.content.decode()
    shown = [c.pk for c in page.context["rows"]]
    assert set(shown) == {late_a.pk, late_a2.pk}
    assert fresh.pk not in shown
    assert "金水区总工会</a>：1 件" in text and "郑州纺织厂工会</a>：1 件" in text
    assert "二七区总工会" not in text
    assert "已超期" in text


@pytest.mark.django_db
def test_the_owner_lands_on_the_complaints_they_own(as_user, alice, carol, household):
    mine = record(alice, household)
    other = record(alice, household)
    services.complaint_assign(actor=carol, complaint=other, owner=alice)
    page = as_user(carol).get(reverse("programs:complaint_list"))
    assert [c.pk for c in page.context["rows"]] == [mine.pk]
    page = as_user(alice).get(reverse("programs:complaint_list"), {"view": "mine"})
    assert [c.pk for c in page.context["rows"]] == [other.pk]


@pytest.mark.parametrize("count", [3, 40])
@pytest.mark.django_db
def test_a_page_of_the_list_costs_the_same_queries_for_few_or_many(
    as_user, alice, carol, units, count, django_assert_max_num_queries
):
    household = make_household(units["a1"], name="王秀兰")
    for _ in range(count):
        record(alice, household)
    client = as_user(carol)
    url = reverse("programs:complaint_list")
    with django_assert_max_num_queries(7):
        first = client.get(url, {"view": "open"})
    assert len(first.context["rows"]) == min(count, 25)
    with django_assert_max_num_queries(8):  # and the per-union counts
        assert client.get(url, {"view": "overdue"}).status_code == 200
    if count > 25:
        with django_assert_max_num_queries(7):
            second = client.get(f"{url}?{first.context['page'].next_query}")
        assert len(second.context["rows"]) == count - 25


# -- statistics --------------------------------------------------------------------


@pytest.mark.django_db
def test_statistics_by_union_and_category_agree_with_the_workbook(
    as_user, alice, bob, carol, units
):
    a1, a = make_household(units["a1"], name="甲一"), make_household(units["a"], name="甲二")
    on_time = record(alice, a1, category="amount")
    services.complaint_close(actor=carol, complaint=on_time, decision="upheld", reply="已改正")
    late = record(alice, a1, category="payment")
    overdue = record(alice, a, category="payment")
    record(bob, make_household(units["b"], name="乙一"))  # another county: not counted
    with clock.travel(dt.timedelta(days=40)):
        services.complaint_close(actor=carol, complaint=late, decision="dismissed", reply="无误")
        pending = record(alice, a, category="other")
        period = {"date_from": "2000-01-01", "date_to": clock.today().isoformat()}
        page = as_user(carol).get(reverse("programs:complaint_statistics"), period)
        stats = page.context["stats"]
        workbook = as_user(carol).get(
            reverse("reports:complaint_statistics"), {**period, "format": "xlsx"}
        )
        pdf = as_user(carol).get(reverse("reports:complaint_statistics"), period)
    assert overdue.status == S.OPEN and pending.status == S.OPEN
    rows = {f.label: (f.received, f.on_time, f.late, f.overdue, f.pending) for f in stats.by_unit}
    assert rows == {"金水区总工会": (2, 0, 0, 1, 1), "郑州纺织厂工会": (2, 1, 1, 0, 0)}
    cats = {f.label: (f.received, f.on_time, f.late, f.overdue) for f in stats.by_category}
    assert cats == {"补助金额": (1, 1, 0, 0), "资金发放": (2, 0, 1, 1), "其他": (1, 0, 0, 0)}
    assert (stats.total.received, stats.total.closed) == (4, 2)
    assert workbook.status_code == 200
    sheet = load_workbook(io.BytesIO(workbook.content)).active
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    assert ["郑州纺织厂工会", 2, 1, 1, 0, 0] in [list(r[:6]) for r in values]
    assert any(r[0] == "合计" and list(r[1:6]) == [4, 1, 1, 1, 1] for r in values)
    assert pdf["Content-Type"] == "application/pdf"
    text = "".join(PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text().split())
    assert "投诉办理情况统计表" in text and "郑州纺织厂工会21100" in text


# -- where complaints go, printed on the notices ----------------------------------


@pytest.mark.django_db
def test_notices_print_where_complaints_go(as_user, alice, household, units):
    ComplaintDesk.objects.create(
        unit=units["a"], phone="0371-65551234", address="金水区纬五路12号", working_days=15
    )
    notice = _notice(household)
    client = as_user(alice)
    page = client.get(reverse("cases:notice_detail", args=[notice.pk])).content.decode()
    assert "投诉电话：0371-65551234" in page and "金水区纬五路12号" in page
    pdf = client.get(reverse("reports:intake_notice", args=[notice.pk]))
    text = "".join(
        "".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf.content)).pages
    )
    assert "投诉电话：0371-65551234" in text
    assert "15个工作日内答复" in text


@pytest.mark.django_db
def test_without_a_desk_the_notice_names_its_own_union(as_user, alice, household):
    notice = _notice(household)
    page = as_user(alice).get(reverse("cases:notice_detail", args=[notice.pk])).content.decode()
    assert "如有异议或投诉，可向金水区总工会反映" in page


@pytest.mark.django_db
def test_a_complaint_on_a_payment_or_an_application_is_of_the_households_union(
    alice, carol, units, festival
):
    from tests.programs.routes_payments import paid

    payment = paid(filed(units["a1"], name="李四"))
    complaint = record(alice, payment)
    assert (complaint.unit, complaint.payment) == (units["a1"], payment)
    assert ComplaintChange.objects.filter(complaint=complaint).count() == 1
    helper = make_user("hank", units["a1"], "caseworker")
    assert services.may_see(helper, complaint)


@pytest.mark.django_db
def test_the_aid_notice_prints_the_desk_of_the_programs_union(as_user, alice, dave, units):
    from tests.programs.routes_payments import paid

    ComplaintDesk.objects.create(unit=units["city"], phone="0371-12351", working_days=10)
    payment = paid(filed(units["a"], name="李四"))
    response = as_user(alice).get(
        reverse("reports:aid_notice"), {"program": payment.application.program_id}
    )
    assert response.status_code == 200, response.content[:500]
    text = "".join(
        "".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(response.content)).pages
    )
    assert "可向郑州市总工会反映；投诉电话：0371-12351" in text
    assert "10个工作日内答复" in text


@pytest.mark.django_db
def test_the_owner_finds_them_in_todo(as_user, alice, carol, household):
    record(alice, household)
    closed = record(alice, household)
    services.complaint_close(actor=carol, complaint=closed, decision="upheld", reply="已纠正")
    page = as_user(carol).get(reverse("reports:todo"))
    items = {i.key: i.count for s in page.context["todo"].sections for i in s.items}
    assert items["complaints"] == 1
    page = as_user(alice).get(reverse("reports:todo"))
    items = {i.key: i.count for s in page.context["todo"].sections for i in s.items}
    assert items["complaints"] == 0
