"""The payment queue as a work list: oldest application first, page after
page by the 下一页 link with the filters kept, and a total that never adds up
more than the list's count cap. Run on SQLite and PostgreSQL."""

from decimal import Decimal as D
from urllib.parse import parse_qs

import pytest
from django.db import connection
from django.test import override_settings
from django.urls import reverse

from programs.models import Application, ApplicationStatus, Program
from programs.views.payments import QUEUE_PAGE_SIZE
from tests.programs.conftest import filed, grant
from tests.programs.test_payments import QUEUE_BUDGET

URL = "programs:payment_queue"


def approved(program, household, drafter, amount="1000"):
    return Application.objects.create(
        program=program, household=household, year=2026, status=ApplicationStatus.APPROVED,
        amount=D(amount), drafted_by=drafter,
    )  # fmt: skip


@pytest.fixture
def school(units):
    return Program.objects.create(unit=units["a"], name="金秋助学", category="school", kind="cash")


def shown(response):
    return [a.pk for a in response.context["page"].object_list]


@pytest.mark.django_db
def test_the_queue_lists_the_oldest_application_first(
    as_user, alice, dave, festival, school, units
):
    # Made in an order that program, union and name would each sort differently.
    first = approved(school, filed(units["a1"], name="赵六"), alice)
    second = approved(festival, filed(units["a"], name="王五"), alice)
    third = approved(school, filed(units["a"], name="李四"), alice)
    fourth = approved(festival, filed(units["a1"], name="张三"), alice)
    response = as_user(dave).get(reverse(URL))
    assert shown(response) == [first.pk, second.pk, third.pk, fourth.pk]
    page = response.content.decode()
    assert "按申请先后排列，先申请的在前。" in page
    assert page.index("赵六") < page.index("王五") < page.index("李四") < page.index("张三")


def walk(client, params):
    """Every row the queue shows, page by page through its 下一页 links."""
    response = client.get(reverse(URL), params)
    seen, queries = shown(response), []
    while response.context["page"].has_next:
        query = response.context["page"].next_query
        queries.append(parse_qs(query))
        response = client.get(f"{reverse(URL)}?{query}")
        seen += shown(response)
    return seen, queries


@pytest.mark.django_db
def test_walking_next_page_sees_every_payable_row_once_with_the_filters_kept(
    as_user, alice, dave, festival, school, units
):
    for i in range(QUEUE_PAGE_SIZE + 10):
        approved(festival, filed(units["a1"], name=f"甲{i:03d}"), alice)
        approved(school, filed(units["a1"], name=f"乙{i:03d}"), alice)
        approved(festival, filed(units["a"], name=f"丙{i:03d}"), alice)
    Application.objects.filter(household__name="甲007").update(status=ApplicationStatus.PAID)
    client = as_user(dave)

    seen, queries = walk(client, {})
    payable = list(
        Application.objects.filter(status=ApplicationStatus.APPROVED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    assert seen == payable  # each once, oldest first
    assert len(queries) == 3  # 179 rows: four pages

    params = {"program": str(festival.pk), "unit": str(units["a1"].pk)}
    seen, queries = walk(client, params)
    wanted = Application.objects.filter(
        status=ApplicationStatus.APPROVED, program=festival, household__unit=units["a1"]
    ).order_by("pk")
    assert seen == list(wanted.values_list("pk", flat=True))
    assert len(seen) == QUEUE_PAGE_SIZE + 9
    assert queries and all(
        q["program"] == [params["program"]] and q["unit"] == [params["unit"]] for q in queries
    )


@pytest.mark.django_db
def test_a_deep_page_costs_the_queries_of_the_first(
    as_user, alice, dave, festival, units, django_assert_max_num_queries
):
    for i in range(2 * QUEUE_PAGE_SIZE + 5):
        approved(festival, filed(units["a1"], name=f"户{i:03d}"), alice)
    client = as_user(dave)
    params = {"program": festival.pk, "unit": units["a1"].pk}
    with django_assert_max_num_queries(QUEUE_BUDGET - 1):
        first = client.get(reverse(URL), params)
    second = client.get(f"{reverse(URL)}?{first.context['page'].next_query}")
    with django_assert_max_num_queries(QUEUE_BUDGET - 1):
        third = client.get(f"{reverse(URL)}?{second.context['page'].next_query}")
    assert len(shown(third)) == 5
    assert "已批准待发放 105 笔，合计 105,000.00 元。" in third.content.decode()


@pytest.mark.django_db
def test_above_the_cap_the_queue_asks_for_a_filter_before_adding_up(
    as_user, alice, dave, festival, school, units
):
    for i in range(6):
        approved(festival, filed(units["a"], name=f"甲{i}"), alice)
    for i in range(3):
        approved(school, filed(units["a1"], name=f"乙{i}"), alice, amount="500")
    client = as_user(dave)
    with override_settings(LIST_COUNT_CAP=5):
        page = client.get(reverse(URL)).content.decode()
        assert "请按项目或工会筛选后查看合计。" in page
        assert "合计" not in page.split('id="queue-total"')[1].split("</p>")[0].replace(
            "查看合计", ""
        )
        if connection.vendor == "postgresql":
            assert "已批准待发放约" in page  # the planner's estimate
        else:
            assert "已批准待发放 5 笔以上。" in page
        narrowed = client.get(reverse(URL), {"program": school.pk}).content.decode()
        assert "已批准待发放 3 笔，合计 1,500.00 元。" in narrowed
        assert "请按项目或工会筛选后查看合计" not in narrowed
    page = client.get(reverse(URL)).content.decode()
    assert "已批准待发放 9 笔，合计 7,500.00 元。" in page


@pytest.mark.django_db
def test_the_queue_marks_what_this_payer_drafted_or_approved(
    as_user, alice, carol, cathy, festival, fund, units
):
    """The city chair also keeps the books: the line she approved and the one
    she drafted say why she may not pay them; the others can be ticked."""
    from programs.services import applications

    grant(cathy, units["city"], "finance")
    theirs = approved(festival, filed(units["a"], name="甲户"), alice)
    drafted = approved(festival, filed(units["a"], name="乙户"), cathy)
    hers = applications.application_draft(
        actor=alice, household=filed(units["a"], name="丙户"), program=festival,
        amount="2500", amount_reason="重病",
    )  # fmt: skip
    applications.application_decide(actor=carol, application=hers, approve=True)
    applications.application_decide(actor=cathy, application=hers, approve=True)
    page = as_user(cathy).get(reverse(URL)).content.decode()

    def row(app):
        start = page.index(f'id="app-{app.pk}"')
        return page[start : page.index("</tr>", start)]

    assert 'name="applications"' in row(theirs) and "不能由您发放" not in row(theirs)
    assert 'title="起草申请的人员不能发放该笔帮扶。"' in row(drafted)
    assert 'title="审批该申请的人员不能发放该笔帮扶。"' in row(hers)
    assert 'name="applications"' not in row(drafted) + row(hers)
