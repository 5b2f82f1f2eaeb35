"""Civil affairs' answer as people will really send it: wrong headers, bad
cells, repeated numbers, not a workbook at all. Every problem is named by
row and column and nothing is written; a good answer goes in once."""

import datetime
import io
import zipfile

import pytest
from django.urls import reverse

from cases import clock
from reports.models import CivilBatch, CivilSuggestion, Job
from tests.builders import make_household, make_id
from tests.reports.civil_files import (
    ANSWER_HEADERS,
    answer_row,
    answer_upload,
    answer_xlsx,
    give_consent,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(client, carol, units):
    households = [make_household(units["a1"], name=f"文件户{n}", status="filed") for n in range(3)]
    give_consent(households)
    client.force_login(carol)
    client.post(reverse("reports:civil_new"), {"unit": units["a"].pk, "layout": "household"})
    batch = CivilBatch.objects.get()
    batch.households = households  # type: ignore[attr-defined]
    return batch


def _check(client, batch, content, name="比对结果.xlsx"):
    url = reverse("reports:civil_compare_start", args=[batch.pk])
    response = client.post(url, {"file": answer_upload(content, name)})
    if response.status_code == 200:  # refused at the door, on the upload page
        return response.content.decode()
    return client.get(response["Location"]).content.decode()


def test_bad_cells_are_named_by_row_and_column(client, batch):
    first, second, _third = batch.households
    valid = make_id()
    wrong_check = valid[:17] + ("0" if valid[17] != "0" else "1")
    tomorrow = (clock.today() + datetime.timedelta(days=1)).isoformat()
    rows = [
        answer_row(first.id_number, 民政状态="低保户", 月保障金额="六百"),
        answer_row(wrong_check, 核对日期=tomorrow),
        answer_row(second.id_number, 民政状态="五保"),
        answer_row(first.id_number),
        answer_row(make_id(), 核对日期=""),
    ]
    page = _check(client, batch, answer_xlsx(rows))
    assert "未导入任何数据" in page
    assert "应填写金额数字" in page  # 月保障金额, row 2
    assert "校验" in page  # row 3: a number that fails its check character
    assert "晚于今天" in page
    assert "民政状态应为 低保、特困、低保边缘 或 无，现为“五保”" in page
    assert "与第 2 行的身份证号重复" in page
    assert "必填，不能为空" in page
    for column in ("月保障金额", "核对日期", "民政状态", "身份证号"):
        assert column in page
    batch.refresh_from_db()
    assert batch.status == "exported"
    assert not CivilSuggestion.objects.exists()


def test_headers_missing_or_unknown_are_named(client, batch):
    headers = ["身份证号", "姓名", "状态", "核对日期"]
    rows = [{"身份证号": batch.households[0].id_number, "状态": "无", "核对日期": "2026-01-05"}]
    page = _check(client, batch, answer_xlsx(rows, headers))
    assert "状态" in page and "模板中没有这一列" in page
    for name in ("民政状态", "月保障金额", "核对收入"):
        assert name in page
    assert "缺少这一列" in page


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("比对结果.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 100, "Excel 97-2003"),
        ("比对结果.csv", b"a,b\n", "只接受 Excel 工作簿"),
        ("比对结果.xlsx", b"not a zip at all", "内容不是 Excel 工作簿"),
        ("比对结果.xlsx", b"", "文件是空的"),
    ],
)
def test_files_that_are_not_workbooks_are_refused_with_the_field_named(
    client, batch, name, content, message
):
    page = _check(client, batch, content, name)
    assert message in page
    assert "民政返回的比对结果（.xlsx）" in page  # the field, named with its error


def test_a_zip_bomb_is_refused_before_it_is_unpacked(client, batch):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b"<x/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (40 * 1024 * 1024))
    page = _check(client, batch, buffer.getvalue())
    assert "远超正常工作簿" in page


def test_a_good_answer_goes_in_once(client, batch):
    rows = [answer_row(h.id_number) for h in batch.households]
    page = _check(client, batch, answer_xlsx(rows))
    assert "检查通过" in page
    check = Job.objects.filter(kind="civil_compare_check").latest("id")
    confirm = reverse("reports:civil_compare_confirm", args=[check.pk])
    assert client.post(confirm).status_code == 302
    batch.refresh_from_db()
    assert batch.status == "compared"
    response = client.post(confirm, follow=True)
    assert "已经确认导入过" in response.content.decode() or "已经导入过比对结果" in (
        response.content.decode()
    )
    # A second answer for the same batch is refused at the upload.
    page = _check(client, batch, answer_xlsx(rows))
    assert "该批次已经导入过比对结果，不能重复导入。" in page


def test_headers_only_in_another_order_still_read(client, batch):
    headers = list(reversed(ANSWER_HEADERS))
    rows = [answer_row(h.id_number) for h in batch.households]
    page = _check(client, batch, answer_xlsx(rows, headers))
    assert "检查通过" in page
