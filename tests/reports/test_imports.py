"""The household import on the web: upload, every mistake listed with its
row and column, nothing saved unless the whole file is good, the file
waiting privately between the check and the confirmation."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditEvent
from cases import idnumber
from cases.models import Household
from cases.models.household import private_storage
from reports.models import Job, JobStatus
from tests.builders import make_household
from tests.reports.import_files import DOMAIN_HEADERS, good_row, new_id, upload, xlsx
from tests.reports.test_jobs import _worker

START = reverse("reports:import_start")

pytestmark = pytest.mark.django_db


def _upload(client, content, name="困难职工.xlsx"):
    return client.post(START, {"file": upload(content, name)})


def _preview_errors(page: str) -> list[tuple[str, str, str]]:
    """(row, column, reason) of each row of the errors table, as shown."""
    found = []
    for cells in re.findall(r'<tr class="import-error">(.*?)</tr>', page, re.S):
        texts = [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)
        ]
        found.append(tuple(texts))
    return found


def _has(errors, row, column, *words):
    return any(
        r == f"第 {row} 行" and c == column and all(w in why for w in words) for r, c, why in errors
    )


def _wrong_check_char(number: str) -> str:
    return number[:17] + ("1" if number[17] != "1" else "2")


def _twenty_mistakes(units):
    """One file with every kind of mistake a cell or a header can hold."""
    holder = make_household(units["b"], name="赵铁柱")  # an active file in county B
    twin = new_id()
    bad_date = "41010519991340" + "123"
    headers = [*DOMAIN_HEADERS[:-1], "性别"]  # 备注 missing, 性别 extra
    rows = [
        good_row(户主姓名="正确的一行"),  # 2
        good_row(身份证号=_wrong_check_char(new_id())),  # 3
        good_row(身份证号=bad_date + idnumber.check_char(bad_date)),  # 4
        good_row(身份证号="41010519800101123"),  # 5: 17 digits
        good_row(所属工会="不存在的工会"),  # 6
        good_row(所属工会="410103"),  # 7: county B, outside alice's units
        good_row(困难类别="超级困难"),  # 8
        good_row(主要致困原因="因懒"),  # 9
        good_row(家庭年收入=1234.567),  # 10
        good_row(年刚性支出=-5),  # 11
        good_row(家庭年收入="两万元"),  # 12
        good_row(户主姓名=None),  # 13
        good_row(身份证号=twin),  # 14
        good_row(身份证号=twin),  # 15
        good_row(身份证号=holder.id_number),  # 16
        good_row(家庭年收入="=SUM(K2:K3)"),  # 17
        good_row(联系电话=datetime.date(2024, 3, 1)),  # 18
        good_row(家庭人口=0),  # 19
        good_row(联系电话="12345"),  # 20
    ]
    rows = [{**r, "性别": "女"} for r in rows]
    return xlsx(rows, headers=headers), twin


def test_every_mistake_is_listed_with_row_and_column_and_nothing_is_saved(as_user, alice, units):
    content, _twin = _twenty_mistakes(units)
    before = Household.objects.count()
    client = as_user(alice)
    response = _upload(client, content)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    errors = _preview_errors(page)

    assert _has(errors, 1, "性别", "模板中没有这一列")
    assert _has(errors, 1, "备注", "缺少这一列")
    assert _has(errors, 3, "身份证号", "校验位错误")
    assert _has(errors, 4, "身份证号", "19991340", "不是有效日期")
    assert _has(errors, 5, "身份证号", "18 位", "17 位")
    assert _has(errors, 6, "所属工会", "没有代码或名称为“不存在的工会”")
    assert _has(errors, 7, "所属工会", "二七区总工会", "不在您的管辖范围")
    assert _has(errors, 8, "困难类别", "超级困难", "特困")
    assert _has(errors, 9, "主要致困原因", "因懒")
    assert _has(errors, 10, "家庭年收入", "两位小数")
    assert _has(errors, 11, "年刚性支出", "不能为负数")
    assert _has(errors, 12, "家庭年收入", "不能包含文字", "两万元")
    assert _has(errors, 13, "户主姓名", "必填")
    assert _has(errors, 15, "身份证号", "与第 14 行的身份证号重复")
    assert _has(errors, 16, "身份证号", "已在“二七区总工会”建有档案")
    assert not any("赵铁柱" in why for _r, _c, why in errors)  # the holder's name stays hidden
    assert _has(errors, 17, "家庭年收入", "公式", "=SUM(K2:K3)")
    assert _has(errors, 18, "联系电话", "日期", "2024-03-01")
    assert _has(errors, 19, "家庭人口", "至少为 1 人")
    assert _has(errors, 20, "联系电话", "7 到 12 位数字")
    # Exactly one complaint per bad cell; the good rows (2, 14) none.
    assert len(errors) == 19
    assert not any(r in ("第 2 行", "第 14 行") for r, _c, _w in errors)
    assert "发现 19 处错误，未导入任何数据" in page
    assert "确认导入" not in page
    assert Household.objects.count() == before
    assert not AuditEvent.objects.filter(action="household.import").exists()
    # A refused file is never confirmed: it does not stay on the server.
    assert not private_storage().exists(Job.objects.get().params["upload"])


def test_the_error_list_downloads_as_a_workbook(as_user, alice, units):
    content, _twin = _twenty_mistakes(units)
    client = as_user(alice)
    job_url = _upload(client, content)["Location"]
    job = Job.objects.get(pk=int(job_url.rstrip("/").split("/")[-1]))
    response = client.get(reverse("reports:job_download", args=[job.pk]))
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0] == ("行号", "列", "原因")
    assert (16, "身份证号") in {(r[0], r[1]) for r in rows[1:]}
    assert len(rows) == 20


@pytest.mark.parametrize(
    ("content", "name", "reason"),
    [
        (b"PK\x03\x04" + b"\x00" * (10 * 1024 * 1024), "big.xlsx", "文件过大"),
        (b"%PDF-1.4 not a workbook", "改名.xlsx", "内容不是 Excel 工作簿"),
        (b"PK\x03\x04 a zip that is broken", "坏文件.xlsx", "无法作为 Excel 工作簿读取"),
        (b"", "空.xlsx", "文件是空的"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "旧版.xls", "旧版 Excel 97-2003"),
        (b"name,id\n", "名单.csv", "只接受 Excel 工作簿（.xlsx）"),
    ],
)
def test_a_file_that_is_not_the_template_is_refused_at_once(
    as_user, alice, units, content, name, reason
):
    folder = f"imports/{alice.pk}"
    storage = private_storage()
    kept = storage.listdir(folder)[1] if storage.exists(folder) else []
    client = as_user(alice)
    response = client.post(START, {"file": upload(content, name)})
    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not Job.objects.exists()
    assert (storage.listdir(folder)[1] if storage.exists(folder) else []) == kept


def test_a_sheet_without_rows_says_so(as_user, alice, units):
    client = as_user(alice)
    page = client.get(_upload(client, xlsx([]))["Location"]).content.decode()
    assert "没有数据行" in page
    assert Household.objects.count() == 0


def test_a_good_file_is_checked_then_imported_on_confirmation(as_user, alice, units):
    rows = [good_row(户主姓名=f"导入户{i}", 所属工会="郑州纺织厂工会" if i % 2 else "410105")
            for i in range(5)]  # fmt: skip
    client = as_user(alice)
    preview_url = _upload(client, xlsx(rows))["Location"]
    check = Job.objects.get()
    stored = check.params["upload"]
    assert private_storage().exists(stored)
    # The file waits on disk, not in the session.
    assert all(len(str(v)) < 2000 for v in client.session.values())

    page = client.get(preview_url).content.decode()
    assert "检查通过：可导入 5 户" in page
    assert "郑州纺织厂工会" in page and "金水区总工会" in page
    assert Household.objects.count() == 0

    response = client.post(reverse("reports:import_confirm", args=[check.pk]))
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "已导入 5 户家庭档案" in page
    assert Household.objects.filter(name__startswith="导入户").count() == 5
    assert not private_storage().exists(stored)
    event = AuditEvent.objects.get(action="household.import")
    assert event.actor == alice and event.changes["imported"] == [None, 5]
    assert event.unit == units["a"]

    # Confirming twice imports nothing more.
    again = client.post(reverse("reports:import_confirm", args=[check.pk]), follow=True)
    assert "已经确认导入过" in again.content.decode()
    assert Household.objects.filter(name__startswith="导入户").count() == 5


def test_confirmation_checks_again_and_imports_nothing_if_something_changed(as_user, alice, units):
    rows = [good_row(户主姓名="第一户"), good_row(户主姓名="第二户")]
    client = as_user(alice)
    check = Job.objects.get(pk=_upload(client, xlsx(rows))["Location"].split("/")[-2])
    assert check.result["ok"]
    # Between the check and the confirmation someone files the second person.
    make_household(units["b"], name="别处建档", id_number=rows[1]["身份证号"])

    response = client.post(reverse("reports:import_confirm", args=[check.pk]))
    page = client.get(response["Location"]).content.decode()
    assert _has(_preview_errors(page), 3, "身份证号", "已在“二七区总工会”建有档案")
    assert not Household.objects.filter(name__in=["第一户", "第二户"]).exists()
    assert not AuditEvent.objects.filter(action="household.import").exists()


def test_a_caseworker_cannot_import_into_another_countys_units(as_user, bob, units):
    rows = [good_row(所属工会="410103"), good_row(所属工会="金水区总工会")]
    client = as_user(bob)
    check = Job.objects.get(pk=_upload(client, xlsx(rows))["Location"].split("/")[-2])
    errors = [tuple(e) for e in check.result["errors"]]
    assert errors == [
        (3, "所属工会", "“金水区总工会”不在您的管辖范围内，您只能导入到自己有建档权限的工会。")
    ]
    response = client.post(reverse("reports:import_confirm", args=[check.pk]), follow=True)
    assert "检查未通过" in response.content.decode()
    assert Household.objects.count() == 0


def test_someone_elses_check_cannot_be_seen_or_confirmed(as_user, alice, bob, units):
    client = as_user(alice)
    check = Job.objects.get(pk=_upload(client, xlsx([good_row()]))["Location"].split("/")[-2])
    other = as_user(bob)
    assert other.get(reverse("reports:import_preview", args=[check.pk])).status_code == 404
    assert other.post(reverse("reports:import_confirm", args=[check.pk])).status_code == 404
    assert Household.objects.count() == 0


def test_a_big_file_is_checked_and_imported_by_the_worker(
    as_user, alice, units, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.IMPORT_BACKGROUND_ROWS = 5
    rows = [good_row(户主姓名=f"后台户{i}") for i in range(8)]
    client = as_user(alice)
    with django_capture_on_commit_callbacks(execute=True):
        preview_url = _upload(client, xlsx(rows))["Location"]
    check = Job.objects.get()
    assert check.status == JobStatus.QUEUED
    page = client.get(preview_url).content.decode()
    assert "hx-trigger" in page and "<progress" in page and "确认导入" not in page

    _worker(monkeypatch)
    check.refresh_from_db()
    assert (check.status, check.done, check.total) == (JobStatus.DONE, 16, 16)
    fragment = client.get(preview_url, HTTP_HX_REQUEST="true").content.decode()
    assert "检查通过：可导入 8 户" in fragment and "hx-trigger" not in fragment

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:import_confirm", args=[check.pk]))
    run = Job.objects.exclude(pk=check.pk).get()
    assert run.status == JobStatus.QUEUED and Household.objects.count() == 0
    _worker(monkeypatch)
    page = client.get(response["Location"]).content.decode()
    assert "已导入 8 户家庭档案" in page
    assert Household.objects.filter(name__startswith="后台户").count() == 8


def test_the_template_has_the_headers_an_example_and_the_users_lists(as_user, alice, units):
    response = as_user(alice).get(reverse("reports:import_template"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["困难职工"]
    assert [c.value for c in sheet[1]] == DOMAIN_HEADERS
    example = {h: c.value for h, c in zip(DOMAIN_HEADERS, sheet[2], strict=True)}
    assert idnumber.parse(example["身份证号"])  # a well-formed example
    assert "示例" in example["备注"]

    lists = book["选项"]
    assert lists.sheet_state == "hidden"
    units_listed = [c.value for c in lists["A"][1:] if c.value]
    assert units_listed == ["金水区总工会", "郑州纺织厂工会"]  # alice's units, not county B's
    assert [c.value for c in lists["B"][1:] if c.value] == ["特困", "困难", "边缘"]
    assert "因病" in [c.value for c in lists["C"][1:]]

    rules = {str(dv.sqref).split(":")[0]: dv for dv in sheet.data_validations.dataValidation}
    assert rules["D2"].type == "list" and rules["D2"].formula1 == "'选项'!$A$2:$A$3"
    assert rules["G2"].formula1 == "'选项'!$B$2:$B$4"
    assert rules["H2"].formula1.startswith("'选项'!$C$2")
    assert rules["I2"].formula1.startswith("'选项'!$C$2") and not rules["I2"].showErrorMessage
    assert rules["J2"].type == "whole"


def test_the_template_example_row_is_refused_if_left_in(as_user, alice, units):
    client = as_user(alice)
    template = client.get(reverse("reports:import_template")).content
    page = client.get(_upload(client, template)["Location"]).content.decode()
    assert _has(_preview_errors(page), 2, "身份证号", "示例行")
    assert Household.objects.count() == 0


def test_only_people_who_file_households_see_the_import(as_user, alice, erin):
    assert "批量导入" in as_user(alice).get(reverse("cases:household_list")).content.decode()
    assert "批量导入" not in as_user(erin).get(reverse("cases:household_list")).content.decode()


def test_the_error_page_costs_the_same_queries_for_few_and_many_errors(
    as_user, alice, units, django_assert_max_num_queries
):
    client = as_user(alice)
    few = _upload(client, xlsx([good_row(家庭人口=0)] * 2))["Location"]
    many = _upload(client, xlsx([good_row(家庭人口=0)] * 300))["Location"]
    for url in (few, many):
        with django_assert_max_num_queries(6):
            page = client.get(url).content.decode()
        assert "至少为 1 人" in page


def test_money_keeps_its_cents_and_the_file_what_follows_from_the_id(as_user, alice, units):
    number = idnumber.make("410105", datetime.date(1980, 5, 17), 123)
    client = as_user(alice)
    rows = [good_row(身份证号=number, 家庭年收入="36000.10", 年刚性支出=1200.5, 家庭人口=2)]
    check = Job.objects.get(pk=_upload(client, xlsx(rows))["Location"].split("/")[-2])
    client.post(reverse("reports:import_confirm", args=[check.pk]))
    household = Household.objects.get(id_number=number)
    assert (household.birth_date, household.sex) == (datetime.date(1980, 5, 17), "M")
    assert household.annual_income == Decimal("36000.10")
    assert household.rigid_expenses == Decimal("1200.50")
    # (36000.10 − 1200.50) ÷ 2 ÷ 12
    assert household.per_capita_monthly_income == Decimal("1449.98")
    assert sorted(c.name for c in household.secondary_causes.all()) == ["因残", "收入低"]
    assert household.status == "draft" and household.created_by == alice


def test_tiers_and_causes_may_be_named_in_english_in_any_case(as_user, alice, units):
    """A sheet written in English mode (or typed by hand) names the lists by
    their English names: they import as the Chinese ones do."""
    english = {"困难类别": "extreme HARDSHIP", "主要致困原因": " Illness "}
    chinese = {"困难类别": "特困", "主要致困原因": "因病", "次要致困原因": "因残、收入低"}
    rows = [
        good_row(户主姓名="英文名称户", 次要致困原因="disability Low income", **english),
        good_row(户主姓名="中文名称户", **chinese),
        good_row(户主姓名="写错户", 困难类别="Hardshipp"),
    ]
    client = as_user(alice)
    page = client.get(_upload(client, xlsx(rows))["Location"]).content.decode()
    assert _preview_errors(page) == [
        ("第 4 行", "困难类别", "系统中没有名为“Hardshipp”的困难类别（可选：特困、困难、边缘）。")
    ]
    # In English mode the choices are listed by their English names.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(_upload(client, xlsx(rows))["Location"]).content.decode()
    assert "no hardship tier named “Hardshipp” (options: Extreme hardship" in page
    assert Household.objects.count() == 0

    check = _upload(client, xlsx(rows[:2]))["Location"].split("/")[-2]
    client.post(reverse("reports:import_confirm", args=[check]))
    english, chinese = (Household.objects.get(name=n) for n in ("英文名称户", "中文名称户"))
    for household in (english, chinese):
        assert (household.tier.name, household.main_cause.name) == ("特困", "因病")
        assert sorted(c.name for c in household.secondary_causes.all()) == ["因残", "收入低"]
