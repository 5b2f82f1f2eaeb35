"""`manage.py import_households` and the service under it, at size: the same
checks as the web pages, every error printed, nothing saved on any error."""

import datetime
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from accounts.models import AuditEvent
from cases import idnumber
from cases.import_sheet import probe, read_sheet
from cases.models import Household
from cases.services.imports import ImportRejected, households_import
from tests.builders import make_household
from tests.reports.import_files import DOMAIN_HEADERS, good_row, xlsx

pytestmark = pytest.mark.django_db


def _file(tmp_path, rows, name="困难职工.xlsx"):
    path = tmp_path / name
    path.write_bytes(xlsx(rows))
    return path


def _run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_households", *map(str, args), stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), str(exc)
    return out.getvalue(), err.getvalue(), ""


def test_a_dry_run_prints_every_error_and_saves_nothing(tmp_path, alice, units):
    holder = make_household(units["b"], name="赵铁柱")
    rows = [
        good_row(),
        good_row(家庭年收入="1.005"),
        good_row(身份证号=holder.id_number, 所属工会="不存在的工会"),
    ]
    out, err, failure = _run(_file(tmp_path, rows), "--dry-run", "--user", "alice")
    assert failure == "共 3 处错误，未导入任何数据。"
    lines = out.splitlines()
    assert "第 3 行 「家庭年收入」：金额最多保留两位小数（到分），现为 1.005。" in lines
    assert "第 4 行 「身份证号」：该身份证号已在“二七区总工会”建有档案，不能重复建档。" in lines
    assert "第 4 行 「所属工会」：系统中没有代码或名称为“不存在的工会”的工会。" in lines
    assert "[" in err and "100%" in err  # the progress bar
    assert Household.objects.count() == 1


def test_a_dry_run_of_a_good_file_writes_nothing(tmp_path, alice, units):
    out, _err, failure = _run(_file(tmp_path, [good_row(), good_row()]), "--dry-run")
    assert failure == ""
    assert "检查通过：可导入 2 户（--dry-run，未写入）" in out
    assert Household.objects.count() == 0
    assert not AuditEvent.objects.filter(action="household.import").exists()


def test_the_command_imports_as_the_named_user_within_the_named_unit(tmp_path, alice, units):
    rows = [good_row(所属工会="郑州纺织厂工会"), good_row(所属工会="410105")]
    out, _err, failure = _run(_file(tmp_path, rows), "--user", "alice", "--unit", "410105001")
    assert failure == "共 1 处错误，未导入任何数据。"
    assert (
        "第 3 行 「所属工会」：“金水区总工会”不在本次导入指定的“郑州纺织厂工会”及其下级工会范围内。"
        in out
    )
    assert Household.objects.count() == 0

    out, _err, failure = _run(_file(tmp_path, rows[:1]), "--user", "alice", "--unit", "410105001")
    assert failure == "" and "已导入 1 户家庭档案" in out
    household = Household.objects.get()
    assert household.unit == units["a1"] and household.created_by == alice
    assert AuditEvent.objects.get(action="household.import").actor == alice


def test_the_command_keeps_a_user_inside_their_units(tmp_path, bob, units):
    out, _err, failure = _run(_file(tmp_path, [good_row()]), "--user", "bob")
    assert "第 2 行 「所属工会」：“金水区总工会”不在您的管辖范围内" in out
    assert failure and Household.objects.count() == 0


def test_the_command_refuses_what_is_not_a_workbook(tmp_path, units):
    path = tmp_path / "名单.xlsx"
    path.write_bytes(b"<html>not a workbook</html>")
    out, _err, failure = _run(path)
    assert "内容不是 Excel 工作簿" in out and failure


def test_ten_thousand_rows_import_completely(tmp_path, alice, units):
    birth = datetime.date(1960, 1, 1)
    rows = []
    for i in range(10_000):
        number = idnumber.make("410105", birth + datetime.timedelta(days=i % 5000), 600 + i // 5000)
        rows.append(
            [f"户主{i}", number, f"139{i:08d}", ("410105", "郑州纺织厂工会")[i % 2], "郑州纺织厂",
             f"文化路街道{i}号", ("特困", "困难", "边缘")[i % 3], "因病",
             "因残、收入低" if i % 10 == 0 else None, i % 4 + 1, 12000 + i, "600.5",
             "中国建设银行", f"6217{i:015d}", None]
        )  # fmt: skip
    path = tmp_path / "万户.xlsx"
    path.write_bytes(xlsx(rows))
    with path.open("rb") as source:
        sheet = read_sheet(source, filename=path.name)
    report = households_import(actor=alice, rows=sheet)

    assert report.imported == 10_000 and report.ok
    assert Household.objects.count() == 10_000
    assert report.units == {"金水区总工会": 5000, "郑州纺织厂工会": 5000}
    spot = Household.objects.get(name="户主7777")
    assert spot.id_number == rows[7777][1]
    assert spot.unit == units["a1"] and spot.tier.name == "困难" and spot.main_cause.name == "因病"
    assert spot.phone == "13900007777" and spot.bank_account == "6217000000000007777"
    assert spot.household_size == 2 and spot.annual_income == Decimal("19777.00")
    assert spot.birth_date == birth + datetime.timedelta(days=2777)
    assert Household.secondary_causes.through.objects.count() == 2000
    event = AuditEvent.objects.get(action="household.import")
    assert event.changes["imported"] == [None, 10_000] and event.unit == units["a"]


def test_one_bad_row_at_the_end_keeps_every_other_row_out(alice, units):
    rows = [good_row() for _ in range(4500)] + [good_row(家庭人口="三口")]
    sheet = read_sheet(io.BytesIO(xlsx(rows)))
    with pytest.raises(ImportRejected) as caught:
        households_import(actor=alice, rows=sheet)
    assert [str(e) for e in caught.value.report.errors] == [
        "第 4502 行 「家庭人口」：应填写整数人数（含户主），不能包含文字：“三口”。"
    ]
    assert Household.objects.count() == 0
    assert not AuditEvent.objects.filter(action="household.import").exists()


def test_a_file_racing_past_the_check_is_stopped_by_the_database(alice, units, monkeypatch):
    """Someone files one of the people after the duplicate check looked:
    the database's one-active-file rule refuses the batch and the whole
    import goes back, with a message instead of a 500."""
    rows = [good_row(户主姓名="先导入的"), good_row(户主姓名="撞车的")]
    make_household(units["b"], name="刚建档", id_number=rows[1]["身份证号"])
    monkeypatch.setattr("cases.resources.Lookups.load_existing", lambda self, numbers: None)
    sheet = read_sheet(io.BytesIO(xlsx(rows)))
    with pytest.raises(ImportRejected) as caught:
        households_import(actor=alice, rows=sheet)
    assert "可能刚有人为同一人建档" in str(caught.value.report.errors[0])
    assert list(Household.objects.values_list("name", flat=True)) == ["刚建档"]
    assert not AuditEvent.objects.filter(action="household.import").exists()


def test_the_row_count_that_picks_the_worker_needs_no_parsing(units):
    """Excel records the sheet's size; openpyxl's write-only files do not,
    and then the row elements are counted."""
    assert probe(io.BytesIO(xlsx([good_row() for _ in range(1234)]))) == 1234
    book = Workbook()
    book.active.title = "困难职工"
    for i in range(40):
        book.active.append([i, "x"])
    saved = io.BytesIO()
    book.save(saved)
    assert b"<dimension" in zipfile.ZipFile(saved).read("xl/worksheets/sheet1.xml")
    assert probe(saved) == 39


def test_a_missing_column_is_one_error_and_writes_nothing(tmp_path, alice, units):
    headers = [h for h in DOMAIN_HEADERS if h != "身份证号"]
    path = tmp_path / "少一列.xlsx"
    path.write_bytes(xlsx([good_row(), good_row()], headers=headers))
    out, _err, failure = _run(path, "--user", "alice")
    assert out.splitlines() == [
        "第 1 行 「身份证号」：缺少这一列。请使用下载的导入模板，不要删除或改名表头。"
    ]
    assert failure == "共 1 处错误，未导入任何数据。"
    assert Household.objects.count() == 0
