"""The aid history (发放记录迁移) through the same web flow as the register:
upload → check (every refusal listed by sheet, row and column) → confirm."""

import datetime as dt

import pytest
from django.urls import reverse

from cases import clock
from funds.models import LedgerEntry
from programs.models import AidPayment, Application, Program
from reports.models import Job
from tests.builders import make_household
from tests.programs.test_history_import import line, make_fund, receive, workbook
from tests.reports.import_files import upload
from tests.reports.test_migrate_register import _errors, _has

pytestmark = pytest.mark.django_db

START = reverse("reports:migrate_history_start")


@pytest.fixture
def books(units, carol, dave):
    year = clock.today().year - 1
    wang = make_household(units["a1"], name="王秀兰", status="filed", file_number="JS-0001")
    program = Program.objects.create(
        unit=units["city"], name="春节送温暖", category="festival", kind="cash_goods"
    )
    fund = make_fund(units["a"], "帮扶资金", year, dave)
    receive(fund, "5000", dt.date(year, 1, 1), dave)
    return {"wang": wang, "program": program, "fund": fund, "day": dt.date(year, 2, 1)}


def test_a_clean_history_is_checked_then_written_on_confirmation(as_user, carol, books):
    client = as_user(carol)
    row = line(books["wang"], books["program"], books["fund"], books["day"], 300)
    response = client.post(START, {"file": upload(workbook([row]), "历史发放.xlsx")})
    page = client.get(response["Location"]).content.decode()
    assert "检查通过" in page and "确认导入" in page
    assert not Application.objects.exists()

    check = Job.objects.get()
    response = client.post(reverse("reports:migrate_confirm", args=[check.pk]))
    page = client.get(response["Location"]).content.decode()
    assert "已迁移 1 条发放记录" in page
    payment = AidPayment.objects.get()
    assert payment.amount == 300
    application = Application.objects.get()
    assert application.migrated_from == f"历史发放.xlsx（上传 #{check.pk}）"
    assert LedgerEntry.objects.filter(kind="payment", occurred_on=books["day"]).count() == 1


def test_refused_rows_are_named_by_sheet_row_and_column(as_user, carol, books):
    client = as_user(carol)
    rows = [
        line(books["wang"], books["program"], books["fund"], books["day"], 300),
        line(
            books["wang"],
            books["program"],
            books["fund"],
            books["day"],
            300,
            帮扶项目="无此项目",
        ),
    ]
    response = client.post(START, {"file": upload(workbook(rows), "历史发放.xlsx")})
    page = client.get(response["Location"]).content.decode()
    assert _has(_errors(page), "发放记录", 3, "帮扶项目", "无此项目")
    assert "确认导入" not in page
    assert not Application.objects.exists()


def test_a_caseworker_cannot_migrate_history(as_user, alice, books):
    client = as_user(alice)
    row = line(books["wang"], books["program"], books["fund"], books["day"], 300)
    assert client.post(START, {"file": upload(workbook([row]))}).status_code == 403
    assert not Application.objects.exists() and not Job.objects.exists()
