"""Moving in (建档迁移): a union's existing register comes in as filed
households, every bad cell named by sheet, row and column, all or nothing,
by a chair or an administrator only."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import AuditEvent
from cases import clock
from cases.models import (
    FileCategory,
    Helper,
    HelperPerson,
    Household,
    HouseholdStatus,
    Member,
    StatusChange,
)
from cases.models.household import private_storage
from cases.services import intake
from cases.services.migration import register_import
from programs.models import Program, StandardAmount
from programs.services.applications import application_draft
from reports.models import Job, JobStatus
from tests.builders import make_household
from tests.cases.test_intake_services import walk_to_noticed
from tests.reports.import_files import new_id, upload
from tests.reports.migrate_files import (
    MEMBER_HEADERS,
    REGISTER_HEADERS,
    member_row,
    register_row,
    register_xlsx,
)
from tests.reports.test_jobs import _worker

START = reverse("reports:migrate_register_start")

pytestmark = pytest.mark.django_db


def _upload(client, content, name="原档案.xlsx"):
    return client.post(START, {"file": upload(content, name)})


def _errors(page: str) -> list[tuple[str, ...]]:
    """(sheet, row, column, reason) of each row of the errors table, as shown."""
    found = []
    for cells in re.findall(r'<tr class="import-error">(.*?)</tr>', page, re.S):
        texts = [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)
        ]
        found.append(tuple(texts))
    return found


def _has(errors, sheet, row, column, *words):
    return any(
        s == sheet and r == f"第 {row} 行" and c == column and all(w in why for w in words)
        for s, r, c, why in errors
    )


def _checked(client, content, name="原档案.xlsx"):
    response = _upload(client, content, name)
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"], client.get(response["Location"]).content.decode()


def test_every_bad_cell_of_both_sheets_is_named_and_nothing_is_saved(as_user, carol, units):
    holder = make_household(units["b"], name="赵铁柱")  # a file in force in county B
    make_household(units["a"], name="旧档", file_number="JS-TAKEN")
    twin = new_id()
    heads = [
        register_row(户主姓名="正确的一户"),  # 2
        register_row(档案编号=None),  # 3
        register_row(建档日期="2021-02-30"),  # 4
        register_row(建档日期=clock.today() + datetime.timedelta(days=3)),  # 5
        register_row(档案状态="注销"),  # 6
        register_row(档案状态="已退出", 退出日期=None, 退出原因="脱困：收入稳定"),  # 7
        register_row(档案状态="已退出", 退出日期=datetime.date(2024, 1, 5), 退出原因=""),  # 8
        # 9: exited before it was filed
        register_row(档案状态="已退出", 退出日期=datetime.date(2020, 1, 5), 退出原因="迁出：外省"),
        register_row(档案编号="JS-DUP"),  # 10
        register_row(档案编号="JS-DUP"),  # 11
        register_row(档案编号="JS-TAKEN"),  # 12
        register_row(档案分类="大病职工、神仙户"),  # 13
        register_row(帮扶人="李建国/车间主任/12345"),  # 14
        register_row(帮扶人="甲、乙、丙、丁"),  # 15: four, three allowed
        register_row(身份证号=holder.id_number),  # 16
        register_row(身份证号=twin),  # 17
        register_row(身份证号=twin),  # 18
        register_row(所属工会="410103"),  # 19: county B, not carol's
        register_row(退出原因="脱困"),  # 20: 在档 with an exit reason
    ]
    good_head = heads[0]["身份证号"]
    members = [
        member_row(good_head),  # 2
        member_row("410105198001011234"),  # 3: no such head in the sheet
        member_row(good_head, 与户主关系="表哥"),  # 4
        member_row(good_head, 身份证号=holder.id_number),  # 5: head of a file in force
        member_row(good_head, 身份证号=good_head),  # 6: the head again
        member_row(good_head, 姓名=None),  # 7
        member_row(good_head, 年收入="三千"),  # 8
        member_row(good_head, 健康状况="很好"),  # 9
    ]
    before = Household.objects.count()
    client = as_user(carol)
    _url, page = _checked(client, register_xlsx(heads, members))
    errors = _errors(page)

    H, M = "困难职工", "家庭成员"
    assert _has(errors, H, 3, "档案编号", "必填")
    assert _has(errors, H, 4, "建档日期", "2021-02-30", "不是有效日期")
    assert _has(errors, H, 5, "建档日期", "晚于今天")
    assert _has(errors, H, 6, "档案状态", "在档", "已退出", "注销")
    assert _has(errors, H, 7, "退出日期", "必须填写退出日期")
    assert _has(errors, H, 8, "退出原因", "必须填写退出原因")
    assert _has(errors, H, 9, "退出日期", "不能早于建档日期")
    assert _has(errors, H, 11, "档案编号", "与第 10 行的档案编号重复")
    assert _has(errors, H, 12, "档案编号", "已有档案编号为“JS-TAKEN”")
    assert _has(errors, H, 13, "档案分类", "神仙户")
    assert _has(errors, H, 14, "帮扶人", "7 到 12 位数字")
    assert _has(errors, H, 15, "帮扶人", "最多 3 名")
    assert _has(errors, H, 16, "身份证号", "已在“二七区总工会”建有档案")
    assert _has(errors, H, 18, "身份证号", "与第 17 行的身份证号重复")
    assert _has(errors, H, 19, "所属工会", "二七区总工会", "不在您任主席")
    assert _has(errors, H, 20, "退出原因", "在档")
    assert _has(errors, M, 3, "户主身份证号", "没有身份证号为 410105198001011234 的户主")
    assert _has(errors, M, 4, "与户主关系", "表哥", "配偶")
    assert _has(errors, M, 5, "身份证号", "已在“二七区总工会”建有档案")
    assert _has(errors, M, 6, "身份证号", "户主本人")
    assert _has(errors, M, 7, "姓名", "必填")
    assert _has(errors, M, 8, "年收入", "三千")
    assert _has(errors, M, 9, "健康状况", "很好")
    # One complaint per bad cell; the good rows none.
    assert len(errors) == 23, errors
    assert not any((s, r) in ((H, "第 2 行"), (H, "第 10 行"), (H, "第 17 行"), (M, "第 2 行"))
                   for s, r, _c, _w in errors)  # fmt: skip
    assert "发现 23 处错误，未导入任何数据" in page and "确认导入" not in page
    assert Household.objects.count() == before and Member.objects.count() == 0
    assert not AuditEvent.objects.filter(action="household.migrate").exists()
    assert not private_storage().exists(Job.objects.get().params["upload"])


def test_a_missing_or_unknown_column_is_named_with_its_sheet(as_user, carol, units):
    headers = [h for h in REGISTER_HEADERS if h != "建档日期"]
    member_headers = [*MEMBER_HEADERS, "职业"]
    content = register_xlsx([register_row()], headers=headers, member_headers=member_headers)
    _url, page = _checked(as_user(carol), content)
    errors = _errors(page)
    assert _has(errors, "困难职工", 1, "建档日期", "缺少这一列")
    assert _has(errors, "家庭成员", 1, "职业", "模板中没有这一列")
    assert Household.objects.count() == 0


def test_a_clean_register_comes_in_filed_with_members_helpers_and_one_history_row(
    as_user, carol, alice, units
):
    roster = HelperPerson.objects.create(
        unit=units["a"], name="李建国", post="车间主任", phone="13911112222", user=alice
    )
    rows = [
        register_row(
            户主姓名="孙桂英",
            档案编号="JS-2019-007",
            建档日期=datetime.date(2019, 5, 6),
            档案分类="大病职工、帮扶助学",
            最近走访日期="2024/10/8",
            帮扶人="李建国/车间主任/13911112222、赵敏/工会干事/13733334444",
        ),
        register_row(
            户主姓名="钱德明",
            档案状态="已退出",
            退出日期=datetime.date(2024, 1, 5),
            退出原因="脱困：家庭收入连续六个月高于标准",
            帮扶人="赵敏/工会干事/13733334444",
        ),
        register_row(户主姓名="周玉梅", 所属工会="郑州纺织厂工会"),
    ]
    members = [
        member_row(rows[0]["身份证号"], 姓名="孙小军", 与户主关系="子女", 年收入="0"),
        member_row(
            rows[0]["身份证号"],
            姓名="吴海",
            与户主关系="配偶",
            身份证号=None,
            健康状况="重大疾病",
            年收入="1200.50",
            就读学校=None,
            年级=None,
        ),
        member_row(rows[1]["身份证号"], 姓名="钱海燕", 与户主关系="子女"),
    ]
    client = as_user(carol)
    _url, page = _checked(
        client,
        register_xlsx(
            rows,
            members,
        ),
        "2023年台账.xlsx",
    )
    assert "检查通过" in page and "档案 3 户" in page and "家庭成员 3 人" in page
    assert Household.objects.count() == 0  # a check writes nothing
    check = Job.objects.get()

    response = client.post(reverse("reports:migrate_confirm", args=[check.pk]))
    page = client.get(response["Location"]).content.decode()
    assert "已迁移 3 户档案、3 名家庭成员" in page

    sun = Household.objects.get(name="孙桂英")
    assert sun.status == HouseholdStatus.FILED
    assert (sun.file_number, sun.filed_on) == ("JS-2019-007", datetime.date(2019, 5, 6))
    assert sun.last_visited_on == datetime.date(2024, 10, 8)
    assert sun.migrated_from == f"2023年台账.xlsx（上传 #{check.pk}）" and sun.migrated_at
    assert sorted(sun.categories.values_list("name", flat=True)) == ["大病职工", "帮扶助学"]
    assert sorted(sun.members.values_list("name", "relation")) == [
        ("吴海", "spouse"), ("孙小军", "child"),
    ]  # fmt: skip
    wu = sun.members.get(name="吴海")
    assert (wu.health_status, wu.annual_income, wu.id_number) == ("serious", Decimal("1200.50"), "")
    helpers = list(sun.helpers.order_by("-is_first", "id").select_related("person"))
    assert [(h.person.name, h.is_first) for h in helpers] == [("李建国", True), ("赵敏", False)]
    assert helpers[0].person == roster  # matched by name and phone, not added again
    assert helpers[0].user == alice and helpers[1].user is None  # 我的帮扶户 shows it
    assert helpers[0].last_visited_on == datetime.date(2024, 10, 8)
    assert HelperPerson.objects.filter(name="赵敏", unit=units["a"]).count() == 1  # shared

    qian = Household.objects.get(name="钱德明")
    assert qian.status == HouseholdStatus.EXITED
    assert (qian.exited_on, qian.exit_kind) == (datetime.date(2024, 1, 5), "recovered")
    assert qian.exit_reason == "家庭收入连续六个月高于标准"
    assert qian.helpers.get().end_on == datetime.date(2024, 1, 5)
    assert Household.objects.get(name="周玉梅").unit == units["a1"]

    for household in Household.objects.all():
        history = list(StatusChange.objects.filter(household=household))
        assert len(history) == 1
        assert history[0].to_status == household.status and history[0].actor == carol
        assert history[0].reason.startswith("迁移建档")
        assert "陈红" in history[0].reason and f"上传 #{check.pk}" in history[0].reason
    event = AuditEvent.objects.get(action="household.migrate")
    assert event.actor == carol
    assert event.changes["households"] == [None, 3] and event.changes["members"] == [None, 3]
    assert not private_storage().exists(check.params["upload"])
    # No intake step is left to do: the household list shows them as filed.
    listed = client.get(reverse("cases:household_list") + "?status=filed").content.decode()
    assert "孙桂英" in listed and "周玉梅" in listed


def test_issued_file_numbers_continue_after_the_highest_legacy_one(
    as_user, carol, alice, units, standard
):
    year = clock.today().year
    rows = [
        register_row(所属工会="410105001", 档案编号=f"410105001-{year}-0041"),
        register_row(所属工会="410105001", 档案编号=f"410105001-{year}-0007"),
        register_row(所属工会="410105", 档案编号=f"410105-{year}-0090"),  # another union
    ]
    client = as_user(carol)
    _url, _page = _checked(client, register_xlsx(rows))
    client.post(reverse("reports:migrate_confirm", args=[Job.objects.get().pk]))
    assert Household.objects.count() == 3

    draft = make_household(units["a1"], status="draft", submitted_by=alice, created_by=alice)
    notice = walk_to_noticed(draft, alice, carol)
    clock.advance(datetime.timedelta(days=(notice.ends_on - clock.today()).days + 1))
    filed = intake.case_confirm(actor=carol, household=draft)
    assert filed.file_number == f"410105001-{clock.today().year}-0042"


def test_only_a_chair_or_admin_may_migrate(as_user, alice, carol, units, tmp_path):
    content = register_xlsx([register_row()])
    client = as_user(alice)  # a caseworker: may file households, not migrate a register
    assert client.get(START).status_code == 403
    assert client.post(START, {"file": upload(content)}).status_code == 403
    assert client.get(reverse("reports:migrate_register_template")).status_code == 403
    path = tmp_path / "原档案.xlsx"
    path.write_bytes(content)
    with pytest.raises(PermissionDenied):
        register_import(actor=alice, path=path, source_label="x", check_only=False)
    assert Household.objects.count() == 0 and Job.objects.count() == 0


def test_another_unions_chair_cannot_see_or_confirm_my_check(as_user, carol, ben, units):
    client = as_user(carol)
    _checked(client, register_xlsx([register_row()]))
    check = Job.objects.get()
    other = as_user(ben)
    assert other.get(reverse("reports:migrate_preview", args=[check.pk])).status_code == 404
    assert other.post(reverse("reports:migrate_confirm", args=[check.pk])).status_code == 404
    assert Household.objects.count() == 0


def test_a_big_register_goes_through_the_background_worker(
    as_user, carol, units, settings, django_capture_on_commit_callbacks, monkeypatch
):
    settings.IMPORT_BACKGROUND_ROWS = 3
    rows = [register_row(户主姓名=f"后台户{i}") for i in range(6)]
    members = [member_row(r["身份证号"]) for r in rows]
    client = as_user(carol)
    with django_capture_on_commit_callbacks(execute=True):
        preview_url = _upload(client, register_xlsx(rows, members))["Location"]
    check = Job.objects.get()
    assert check.status == JobStatus.QUEUED
    page = client.get(preview_url).content.decode()
    assert "hx-trigger" in page and "<progress" in page and "确认导入" not in page

    _worker(monkeypatch)
    check.refresh_from_db()
    assert check.status == JobStatus.DONE and check.done == check.total > 0
    fragment = client.get(preview_url, HTTP_HX_REQUEST="true").content.decode()
    assert "检查通过" in fragment and "hx-trigger" not in fragment

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("reports:migrate_confirm", args=[check.pk]))
    run = Job.objects.exclude(pk=check.pk).get()
    assert run.status == JobStatus.QUEUED and Household.objects.count() == 0
    _worker(monkeypatch)
    page = client.get(response["Location"]).content.decode()
    assert "已迁移 6 户档案、6 名家庭成员" in page
    assert Household.objects.filter(status="filed", name__startswith="后台户").count() == 6
    assert client.post(reverse("reports:migrate_confirm", args=[check.pk])).status_code == 302
    assert Household.objects.count() == 6  # a second confirmation imports nothing


def test_the_template_has_both_sheets_an_example_and_drop_downs(as_user, carol, units):
    response = as_user(carol).get(reverse("reports:migrate_register_template"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    sheet, members = book["困难职工"], book["家庭成员"]
    assert [c.value for c in sheet[1]] == REGISTER_HEADERS
    assert [c.value for c in members[1]] == MEMBER_HEADERS
    example = {h: c.value for h, c in zip(REGISTER_HEADERS, sheet[2], strict=True)}
    assert "示例" in example["备注"] and example["档案状态"] == "在档"
    assert isinstance(example["建档日期"], datetime.datetime)
    assert members["A2"].value == example["身份证号"]  # the member joins the example head
    lists = book["选项"]
    assert lists.sheet_state == "hidden"
    assert [c.value for c in lists["A"][1:] if c.value] == ["金水区总工会", "郑州纺织厂工会"]
    assert "大病职工" in [c.value for c in lists["D"][1:]]
    rules = {str(dv.sqref).split(":")[0]: dv for dv in sheet.data_validations.dataValidation}
    assert rules["D2"].formula1 == "'选项'!$A$2:$A$3"  # 所属工会
    assert rules["S2"].formula1.startswith("'选项'!$E$2")  # 档案状态
    member_rules = {str(dv.sqref).split(":")[0] for dv in members.data_validations.dataValidation}
    assert {"C2", "E2"} <= member_rules  # 与户主关系, 健康状况


def test_the_template_uploaded_as_is_is_refused_for_its_example_row(as_user, carol, units):
    client = as_user(carol)
    template = client.get(reverse("reports:migrate_register_template")).content
    _url, page = _checked(client, template)
    errors = _errors(page)
    assert _has(errors, "困难职工", 2, "身份证号", "示例行")
    assert Household.objects.count() == 0


def test_the_command_checks_then_migrates(carol, units, tmp_path, capsys):
    path = tmp_path / "台账.xlsx"
    rows = [register_row(户主姓名="命令户"), register_row(户主姓名="坏户", 档案状态="注销")]
    path.write_bytes(register_xlsx(rows))
    with pytest.raises(CommandError, match="共 1 处错误"):
        call_command("migrate_register", str(path), "--user", "carol", "--dry-run")
    out = capsys.readouterr().out
    assert "「困难职工」第 3 行 「档案状态」" in out and "注销" in out

    path.write_bytes(register_xlsx([rows[0]]))
    call_command("migrate_register", str(path), "--user", "carol", "--dry-run")
    assert Household.objects.count() == 0
    call_command("migrate_register", str(path), "--user", "carol", "--unit", "410105")
    household = Household.objects.get(name="命令户")
    assert household.status == "filed" and household.migrated_from.startswith("台账.xlsx")
    assert "已迁移 1 户" in capsys.readouterr().out


def test_history_mode_offers_its_own_template_and_upload_page(as_user, carol, units):
    client = as_user(carol)
    page = client.get(reverse("reports:migrate_history_start")).content.decode()
    assert reverse("reports:migrate_history_template") in page
    response = client.get(reverse("reports:migrate_history_template"))
    assert response.status_code == 200
    assert "发放记录" in load_workbook(io.BytesIO(response.content)).sheetnames


def test_categories_and_helpers_counts_follow_the_rules(as_user, carol, units):
    FileCategory.objects.filter(name="劳模").update(is_active=False)
    rows = [register_row(档案分类="劳模"), register_row(帮扶人="甲/职务/13900001111/多余")]
    _url, page = _checked(as_user(carol), register_xlsx(rows))
    errors = _errors(page)
    assert _has(errors, "困难职工", 2, "档案分类", "劳模")
    assert _has(errors, "困难职工", 3, "帮扶人", "姓名/职务/电话")
    assert Helper.objects.count() == 0


def test_formulas_logical_values_and_stray_dates_are_refused_in_the_same_words(
    as_user, carol, units
):
    rows = [
        register_row(家庭年收入="=SUM(K2:K3)"),
        register_row(备注=True),
        register_row(联系电话=datetime.date(2024, 3, 1)),
        register_row(建档日期=20210315, 最近走访日期="2024年3月1日"),  # both read as dates
    ]
    _url, page = _checked(as_user(carol), register_xlsx(rows))
    errors = _errors(page)
    assert _has(errors, "困难职工", 2, "家庭年收入", "公式", "=SUM(K2:K3)")
    assert _has(errors, "困难职工", 3, "备注", "逻辑值")
    assert _has(errors, "困难职工", 4, "联系电话", "日期", "2024-03-01")
    assert len(errors) == 3, errors


def test_members_count_towards_the_background_threshold(
    as_user, carol, units, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_BACKGROUND_ROWS = 4
    rows = [register_row(), register_row()]
    members = [member_row(r["身份证号"], 身份证号=new_id()) for r in rows * 2]
    with django_capture_on_commit_callbacks(execute=True):
        _upload(as_user(carol), register_xlsx(rows, members))
    assert Job.objects.get().status == JobStatus.QUEUED  # 2 households + 4 members > 4


def test_an_exited_file_may_sit_beside_the_same_persons_file_in_force(as_user, carol, units):
    elsewhere = make_household(units["b"], name="赵铁柱")  # in force in county B
    refiled = new_id()
    exited = {"档案状态": "已退出", "退出日期": datetime.date(2022, 6, 1)}
    rows = [
        register_row(身份证号=elsewhere.id_number, 退出原因="迁出：调往二七区", **exited),
        register_row(户主姓名="再建档", 身份证号=refiled, 退出原因="脱困：再就业", **exited),
        register_row(户主姓名="再建档", 身份证号=refiled, 建档日期=datetime.date(2024, 2, 1)),
        register_row(户主姓名="重复", 身份证号=refiled),  # a second file in force: refused
    ]
    members = [member_row(refiled, 姓名="再建档之子")]
    client = as_user(carol)
    _url, page = _checked(client, register_xlsx(rows, members))
    errors = _errors(page)
    assert errors == [
        ("困难职工", "第 5 行", "身份证号", "与第 4 行的身份证号重复，同一人只能有一份在档档案。")
    ]

    _url, page = _checked(client, register_xlsx(rows[:3], members))
    assert "档案 3 户" in page and "（其中已退出 2 户）" in page
    client.post(reverse("reports:migrate_confirm", args=[Job.objects.latest("pk").pk]))
    current = Household.objects.get(id_number=refiled, status="filed")
    assert list(current.members.values_list("name", flat=True)) == ["再建档之子"]
    assert Household.objects.filter(id_number=refiled, status="exited").count() == 1
    assert Household.objects.filter(id_number=elsewhere.id_number).count() == 2


def test_a_migrated_file_can_apply_for_aid_the_same_day(as_user, carol, alice, units):
    _checked(as_user(carol), register_xlsx([register_row(户主姓名="当天申请", 困难类别="困难")]))
    as_user(carol).post(reverse("reports:migrate_confirm", args=[Job.objects.get().pk]))
    household = Household.objects.get(name="当天申请")
    program = Program.objects.create(
        unit=units["city"], name="春节送温暖", category="festival", kind="cash"
    )
    StandardAmount.objects.create(program=program, tier=household.tier, amount=Decimal("800"))
    application = application_draft(actor=alice, household=household, program=program)
    assert application.amount == Decimal("800") and application.status == "pending"


def test_tiers_causes_and_categories_may_be_named_in_english(as_user, carol, units):
    """A register kept in English names the lists by their English names, in
    any case; several categories may be separated by commas or blanks."""
    english = {"困难类别": "MARGINAL", "主要致困原因": "laid off or unemployed"}
    rows = [
        register_row(户主姓名="孙桂英", 档案分类="serious illness Model Worker", **english),
        register_row(户主姓名="钱德明", 档案分类="Single-parent family, 农民工"),
        register_row(户主姓名="周玉梅", 档案分类="Model Worker, Angel"),
    ]
    client = as_user(carol)
    _url, page = _checked(client, register_xlsx(rows))
    assert _errors(page) == [
        (
            "困难职工",
            "第 4 行",
            "档案分类",
            "系统中没有启用的档案分类“Angel”（可选：大病职工、帮扶助学、单亲家庭、劳模、农民工）。",
        )
    ]

    url, page = _checked(client, register_xlsx(rows[:2]))
    assert "检查通过" in page
    client.post(reverse("reports:migrate_confirm", args=[url.split("/")[-2]]))
    sun, qian = Household.objects.get(name="孙桂英"), Household.objects.get(name="钱德明")
    assert (sun.tier.name, sun.main_cause.name) == ("边缘", "下岗失业")
    assert sorted(sun.categories.values_list("name", flat=True)) == ["劳模", "大病职工"]
    assert sorted(qian.categories.values_list("name", flat=True)) == ["农民工", "单亲家庭"]
