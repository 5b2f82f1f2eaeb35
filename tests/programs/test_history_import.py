"""发放记录迁移: past aid brought in as dated applications, ledger entries and
payments, all rows or none, each refusal named by row, column and reason."""

import datetime as dt
import io
from decimal import Decimal as D

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from openpyxl import Workbook, load_workbook

from accounts.models import AuditEvent
from cases import clock
from cases.import_sheet import EXAMPLE_ID
from cases.models import HouseholdStatus
from cases.services.imports import ImportRejected
from funds.models import Fund, IncomeSource, LedgerEntry
from funds.services import balance_of
from programs.history_sheet import HEADERS, SHEET_NAME, history_template_xlsx
from programs.models import AidPayment, Application, ApplicationStatusChange, Decision, Program
from programs.services import rules
from programs.services.history import aid_history_import
from tests.programs.conftest import filed

TODAY = clock.today()
Y1, Y2 = TODAY.year - 2, TODAY.year - 1


# -- builders --------------------------------------------------------------------------------


def make_fund(unit, name, year, actor):
    """A fund built directly: the fund's old single `source` column is on its
    way out, so it is filled only while it still exists."""
    fields = {"unit": unit, "name": name, "year": year, "created_by": actor}
    if any(f.name == "source" for f in Fund._meta.concrete_fields):
        fields["source"] = "admin_allocation"
    return Fund.objects.create(**fields)


def receive(fund, amount, on, actor):
    """A receipt dated in the past, as the books had it."""
    return LedgerEntry.objects.create(
        fund=fund, kind="receipt", direction=1, amount=D(amount), occurred_on=on,
        memo="财政拨款", source=IncomeSource.objects.filter(code="admin_allocation").first(),
        actor=actor,
    )  # fmt: skip


def workbook(rows, headers=HEADERS):
    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_NAME
    sheet.append(list(headers))
    for row in rows:
        sheet.append([row.get(h) for h in headers])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def write(tmp_path, rows, name="历史发放.xlsx", **kw):
    path = tmp_path / name
    path.write_bytes(workbook(rows, **kw))
    return path


def line(household, program, fund, on, amount, method="银行转账", **extra):
    row = {
        "户主身份证号": household.id_number,
        "户主姓名": household.name,
        "帮扶项目": program.name,
        "发放日期": on,
        "金额": amount,
        "资金": fund if isinstance(fund, str) else fund.name,
        "发放方式": method,
    }
    row.update(extra)
    return row


@pytest.fixture
def books(units, carol, dave):
    """County A's books before the move: two households filed in A1 and A, a
    city program, a relief fund fed on the first day of each past year."""
    wang = filed(units["a1"], name="王秀兰", file_number="JS-0001")
    li = filed(units["a"], name="李建国", file_number="JS-0002", bank_account="")
    program = Program.objects.create(
        unit=units["city"], name="春节送温暖", category="festival", kind="cash_goods"
    )
    fund = make_fund(units["a"], "帮扶资金", Y1, dave)
    receive(fund, "5000", dt.date(Y1, 1, 1), dave)
    receive(fund, "3000", dt.date(Y2, 1, 1), dave)
    return {"wang": wang, "li": li, "program": program, "fund": fund}


def run(actor, path, *, check_only=False, label="2024年台账.xlsx"):
    return aid_history_import(actor=actor, path=path, source_label=label, check_only=check_only)


def errors_of(excinfo):
    return {(e.row, e.column): e.message for e in excinfo.value.report.errors}


# -- a clean file ----------------------------------------------------------------------------


def test_a_clean_file_writes_dated_applications_entries_and_payments(tmp_path, books, carol):
    wang, li, program, fund = books["wang"], books["li"], books["program"], books["fund"]
    path = write(
        tmp_path,
        [
            line(wang, program, fund, dt.date(Y1, 1, 20), 1500, 实物内容="米面油", 实物折价=300),
            line(li, program, fund, f"{Y1}/2/3", "800", method="现金"),
            line(wang, program, fund, f"{Y2}年1月15日", 1200.5, method="实物", 实物内容="棉被"),
        ],
    )

    report = run(carol, path)

    assert report.ok and report.total == 3 and report.imported == 3
    assert report.units == {"郑州纺织厂工会": 2, "金水区总工会": 1}
    apps = list(Application.objects.order_by("pk"))
    assert [(a.year, a.status, a.amount, a.goods_value) for a in apps] == [
        (Y1, "paid", D("1500.00"), D("300.00")),
        (Y1, "paid", D("800.00"), D("0.00")),
        (Y2, "paid", D("1200.50"), D("1200.50")),  # goods with no value: goods in full
    ]
    assert {a.migrated_from for a in apps} == {"2024年台账.xlsx"}
    assert {a.drafted_by_id for a in apps} == {carol.pk}
    # Decided before the product existed: no invented approval, but each
    # application's history says it came in paid, from which file.
    assert not Decision.objects.exists()
    steps = [(c.application_id, c.from_status, c.to_status, c.actor_id) for c in
             ApplicationStatusChange.objects.order_by("application_id")]  # fmt: skip
    assert steps == [(a.pk, "", "paid", carol.pk) for a in apps]
    assert all("2024年台账.xlsx" in c.reason for c in ApplicationStatusChange.objects.all())
    payments = list(AidPayment.objects.order_by("pk"))
    assert [(p.paid_on, p.method, p.entry.occurred_on) for p in payments] == [
        (dt.date(Y1, 1, 20), "bank", dt.date(Y1, 1, 20)),
        (dt.date(Y1, 2, 3), "cash", dt.date(Y1, 2, 3)),
        (dt.date(Y2, 1, 15), "goods", dt.date(Y2, 1, 15)),
    ]
    first = payments[0]
    assert (first.bank_account, first.account_name) == (wang.bank_account, "王秀兰")
    assert first.goods_description == "米面油" and first.application_id == apps[0].pk
    assert payments[1].bank_account == ""  # cash: no card
    entry = first.entry
    assert (entry.kind, entry.direction, entry.household_id) == ("payment", -1, wang.pk)
    assert "春节送温暖" in entry.memo and "迁移" in entry.memo
    # The fund: receipts minus the imported payments.
    assert balance_of(fund) == D("8000") - D("1500") - D("800") - D("1200.50")
    event = AuditEvent.objects.get(action="aid.history_import")
    assert event.actor == carol and event.unit.name == "金水区总工会"
    assert event.changes["imported"] == [None, 3]
    assert event.changes["years"] == [None, {str(Y1): 2, str(Y2): 1}]


def test_a_check_writes_nothing(tmp_path, books, carol):
    path = write(
        tmp_path, [line(books["wang"], books["program"], books["fund"], dt.date(Y1, 3, 1), 100)]
    )
    report = run(carol, path, check_only=True)
    assert report.ok and report.valid == 1 and report.imported == 0
    assert not Application.objects.exists() and not AidPayment.objects.exists()
    assert not AuditEvent.objects.filter(action="aid.history_import").exists()


def test_a_household_found_by_file_number_and_an_exited_one(tmp_path, books, carol, units):
    gone = filed(units["a"], name="周敏", file_number="JS-0009", status=HouseholdStatus.EXITED)
    row = line(gone, books["program"], books["fund"], dt.date(Y1, 5, 1), 100)
    row["户主身份证号"] = None
    row["档案编号"] = "JS-0009"
    report = run(carol, write(tmp_path, [row]))
    assert report.imported == 1
    assert Application.objects.get().household == gone


def test_a_fund_shared_by_two_years_is_picked_by_the_date_paid(tmp_path, books, carol, dave, units):
    later = make_fund(units["a"], "帮扶资金", Y2, dave)
    receive(later, "1000", dt.date(Y2, 1, 1), dave)
    path = write(
        tmp_path,
        [
            line(books["wang"], books["program"], "帮扶资金", dt.date(Y2, 2, 1), 700),
            line(books["li"], books["program"], f"帮扶资金（{Y1}）", dt.date(Y2, 2, 1), 200),
        ],
    )
    run(carol, path)
    assert balance_of(later) == D("300.00")
    assert balance_of(books["fund"]) == D("7800.00")


# -- refusals ----------------------------------------------------------------------------------


def test_unknown_household_program_and_fund_are_named_by_row_and_column(
    tmp_path, books, carol, units, dave
):
    wang, program, fund = books["wang"], books["program"], books["fund"]
    stranger = filed(units["b"], name="赵铁柱")  # county B: not carol's
    other_fund = make_fund(units["b"], "二七区资金", Y1, dave)
    path = write(
        tmp_path,
        [
            line(wang, program, fund, dt.date(Y1, 3, 1), 100),  # good
            line(stranger, program, fund, dt.date(Y1, 3, 1), 100),
            line(wang, program, fund, dt.date(Y1, 3, 1), 100, 帮扶项目="不存在的项目"),
            line(wang, program, fund, dt.date(Y1, 3, 1), 100, 资金="不存在的资金"),
            line(wang, program, other_fund, dt.date(Y1, 3, 1), 100),
            line(wang, program, fund, dt.date(Y1, 3, 1), 100, 户主姓名="王秀"),
        ],
    )

    with pytest.raises(ImportRejected) as excinfo:
        run(carol, path)

    found = errors_of(excinfo)
    assert f"找不到身份证号为 {stranger.id_number}" in found[(3, "户主身份证号")]
    assert "没有名为“不存在的项目”的帮扶项目" in found[(4, "帮扶项目")]
    assert "没有名为“不存在的资金”的资金" in found[(5, "资金")]
    assert "没有名为“二七区资金”的资金" in found[(6, "资金")]
    assert "王秀兰" in found[(7, "户主姓名")]
    assert excinfo.value.report.valid == 1
    assert not Application.objects.exists()
    assert not LedgerEntry.objects.filter(kind="payment").exists()


def test_bad_cells_are_named_and_nothing_is_saved(tmp_path, books, carol):
    wang, program, fund = books["wang"], books["program"], books["fund"]
    future = TODAY + dt.timedelta(days=1)
    path = write(
        tmp_path,
        [
            line(wang, program, fund, "去年春节", 100),
            line(wang, program, fund, future, 100),
            line(wang, program, fund, dt.date(Y1, 3, 1), "-5"),
            line(wang, program, fund, dt.date(Y1, 3, 1), 100, method="支付宝"),
            line(wang, program, fund, dt.date(Y1, 3, 1), 100, 实物内容="米", 实物折价=150),
            line(wang, program, fund, dt.date(Y1, 3, 1), 100, 户主身份证号="410105197503081234"),
            line(wang, program, fund, dt.date(Y1, 3, 1), 100, 户主身份证号=EXAMPLE_ID),
            line(wang, program, fund, dt.date(Y1, 3, 1), None),
        ],
    )
    with pytest.raises(ImportRejected) as excinfo:
        run(carol, path)
    found = errors_of(excinfo)
    assert "不是有效日期" in found[(2, "发放日期")]
    assert "晚于今天" in found[(3, "发放日期")]
    assert "不能为负数" in found[(4, "金额")] or "大于 0" in found[(4, "金额")]
    assert "银行转账、现金、实物" in found[(5, "发放方式")]
    assert "超过金额" in found[(6, "实物折价")]
    assert (7, "户主身份证号") in found
    assert "示例行" in found[(8, "户主身份证号")]
    assert "必填" in found[(9, "金额")]
    assert not Application.objects.exists()


def test_a_missing_column_is_named(tmp_path, books, carol):
    headers = [h for h in HEADERS if h != "资金"]
    row = line(books["wang"], books["program"], books["fund"], dt.date(Y1, 3, 1), 100)
    report = run(carol, write(tmp_path, [row], headers=headers), check_only=True)
    assert any(e.row == 1 and e.column == "资金" for e in report.errors)


def test_a_fund_below_zero_on_the_day_paid_is_refused(tmp_path, books, carol, dave, units):
    """The fund holds enough today, but not on the day the money was paid:
    the money it was paid from came in later."""
    fund = make_fund(units["a"], "医疗救助金", Y2, dave)
    receive(fund, "1000", dt.date(Y2, 3, 1), dave)
    wang, li, program = books["wang"], books["li"], books["program"]
    path = write(
        tmp_path,
        [
            line(wang, program, fund, dt.date(Y2, 2, 1), 500),
            line(li, program, fund, dt.date(Y2, 3, 1), 600),
            line(wang, program, fund, dt.date(Y2, 3, 2), 600),
        ],
    )
    with pytest.raises(ImportRejected) as excinfo:
        run(carol, path)
    found = errors_of(excinfo)
    message = found[(2, "资金")]
    assert f"医疗救助金（{Y2}）" in message
    assert f"{Y2}-02-01" in message and "差 500.00 元" in message
    # 1000 came in on 3-01 and paid the 600 that day; the next 600 is 200 short.
    assert (3, "资金") not in found
    assert f"{Y2}-03-02" in found[(4, "资金")] and "差 200.00 元" in found[(4, "资金")]
    assert balance_of(fund) == D("1000.00")


def test_a_payment_already_on_the_books_later_is_protected(tmp_path, books, carol, dave, units):
    fund = make_fund(units["a"], "助学金", Y2, dave)
    receive(fund, "1000", dt.date(Y2, 1, 1), dave)
    LedgerEntry.objects.create(
        fund=fund, kind="payment", direction=-1, amount=D("800"),
        occurred_on=dt.date(Y2, 9, 1), memo="金秋助学", actor=dave,
    )  # fmt: skip
    path = write(tmp_path, [line(books["wang"], books["program"], fund, dt.date(Y2, 6, 1), 500)])
    with pytest.raises(ImportRejected) as excinfo:
        run(carol, path)
    message = errors_of(excinfo)[(2, "资金")]
    assert f"{Y2}-09-01" in message and "差 300.00 元" in message


def test_importing_the_same_rows_twice_is_refused_as_duplicates(tmp_path, books, carol):
    wang, li, program, fund = books["wang"], books["li"], books["program"], books["fund"]
    rows = [
        line(wang, program, fund, dt.date(Y1, 1, 20), 500),
        line(li, program, fund, dt.date(Y1, 1, 20), 500),
    ]
    run(carol, write(tmp_path, rows, name="a.xlsx"), label="第一次")
    # A new row beside the old ones: the old ones are named, nothing is written.
    rows.append(line(wang, program, fund, dt.date(Y2, 1, 20), 500))
    with pytest.raises(ImportRejected) as excinfo:
        run(carol, write(tmp_path, rows, name="b.xlsx"), label="第二次")
    found = errors_of(excinfo)
    assert "已经迁移过（来源：第一次）" in found[(2, "发放日期")]
    assert (3, "发放日期") in found and (4, "发放日期") not in found
    assert Application.objects.count() == 2
    assert balance_of(fund) == D("7000.00")


def test_two_identical_lines_in_one_file_are_two_handouts(tmp_path, books, carol):
    """Two children's school aid on one day is two rows alike; only rows
    already migrated count as duplicates."""
    row = line(books["wang"], books["program"], books["fund"], dt.date(Y1, 9, 1), 500)
    assert run(carol, write(tmp_path, [row, dict(row)])).imported == 2


@pytest.mark.parametrize("who", ["alice", "dave", "erin"])
def test_only_a_chair_or_admin_may_import(request, tmp_path, books, who):
    path = write(
        tmp_path, [line(books["wang"], books["program"], books["fund"], dt.date(Y1, 3, 1), 100)]
    )
    with pytest.raises(PermissionDenied):
        run(request.getfixturevalue(who), path, check_only=True)
    assert not Application.objects.exists()


def test_an_admin_may_import(tmp_path, books, frank):
    path = write(
        tmp_path, [line(books["wang"], books["program"], books["fund"], dt.date(Y1, 3, 1), 100)]
    )
    assert run(frank, path).imported == 1


# -- this year's caps ------------------------------------------------------------------------


def test_history_this_year_counts_against_this_years_cap(tmp_path, books, carol, units):
    program = Program.objects.create(
        unit=units["city"], name="生活救助", category="living", kind="cash",
        cap_rule="fixed", cap_amount=D("2000"),
    )  # fmt: skip
    wang = books["wang"]
    assert rules.cap_status(program, wang, TODAY.year).left == D("2000")
    this_year = max(dt.date(TODAY.year, 1, 1), TODAY - dt.timedelta(days=30))
    fund = make_fund(units["a"], "本年资金", TODAY.year, carol)
    receive(fund, "5000", dt.date(TODAY.year, 1, 1), carol)
    run(
        carol,
        write(
            tmp_path,
            [
                line(wang, program, fund, this_year, 1500),
                line(wang, program, books["fund"], dt.date(Y1, 6, 1), 1800),  # another year
            ],
        ),
    )
    status = rules.cap_status(program, wang, TODAY.year)
    assert (status.used, status.left) == (D("1500.00"), D("500.00"))
    with pytest.raises(Exception, match=r"最多 500\.00 元"):
        rules.check_caps(program=program, household=wang, year=TODAY.year, amount=D("600"))


# -- the template and the command --------------------------------------------------------------


def test_the_template_lists_the_persons_programs_funds_and_methods(books, carol, units, dave):
    make_fund(units["b"], "二七区资金", Y1, dave)  # not carol's
    book = load_workbook(io.BytesIO(history_template_xlsx(carol)))
    sheet = book[SHEET_NAME]
    assert [c.value for c in sheet[1]] == list(HEADERS)
    assert sheet["A2"].value == EXAMPLE_ID
    lists = book["选项"]
    column = {lists.cell(1, c).value: c for c in range(1, 4)}
    values = {
        name: [lists.cell(r, c).value for r in range(2, lists.max_row + 1)]
        for name, c in column.items()
    }
    assert "春节送温暖" in values["帮扶项目"]
    assert "帮扶资金" in values["资金"] and "二七区资金" not in values["资金"]
    assert [v for v in values["发放方式"] if v] == ["银行转账", "现金", "实物"]
    assert len(sheet.data_validations.dataValidation) >= 3


def test_the_template_uploaded_as_it_comes_is_refused_for_its_example(tmp_path, books, carol):
    path = tmp_path / "模板.xlsx"
    path.write_bytes(history_template_xlsx(carol))
    report = run(carol, path, check_only=True)
    assert any("示例行" in e.message for e in report.errors)


def test_the_command_checks_then_imports(tmp_path, books, carol, capsys):
    path = write(
        tmp_path, [line(books["wang"], books["program"], books["fund"], dt.date(Y1, 3, 1), 100)]
    )
    call_command("migrate_aid_history", str(path), "--user", "carol", "--dry-run")
    assert not Application.objects.exists()
    call_command("migrate_aid_history", str(path), "--user", "carol")
    assert Application.objects.get().migrated_from == path.name
    assert "已导入 1 笔" in capsys.readouterr().out
    with pytest.raises(CommandError, match="1 处错误"):
        call_command("migrate_aid_history", str(path), "--user", "carol")


def test_a_program_of_another_union_a_loan_and_a_restricted_fund_are_refused(
    tmp_path, books, carol, units, dave
):
    wang, li, fund = books["wang"], books["li"], books["fund"]
    elsewhere = Program.objects.create(
        unit=units["b"], name="二七区助学", category="school", kind="cash"
    )
    loan = Program.objects.create(unit=units["a"], name="无息借款", category="loan", kind="loan")
    for_wang = Fund.objects.create(
        unit=units["a"], name="王家专款", year=Y1, created_by=dave,
        restriction="household", restricted_household=wang,
    )  # fmt: skip
    receive(for_wang, "1000", dt.date(Y1, 1, 1), dave)
    path = write(
        tmp_path,
        [
            line(wang, elsewhere, fund, dt.date(Y1, 3, 1), 100),
            line(wang, loan, fund, dt.date(Y1, 3, 1), 100),
            line(li, books["program"], for_wang, dt.date(Y1, 3, 1), 100),
            line(wang, books["program"], for_wang, dt.date(Y1, 3, 1), 100),  # good
        ],
    )
    report = run(carol, path, check_only=True)
    found = {(e.row, e.column): e.message for e in report.errors}
    assert "不面向“郑州纺织厂工会”" in found[(2, "帮扶项目")]
    assert "借款项目" in found[(3, "帮扶项目")]
    assert "限定用于另一指定家庭" in found[(4, "资金")]
    assert (5, "资金") not in found and report.valid == 1


def test_a_file_number_two_unions_share_asks_for_the_id_number(tmp_path, books, carol, units):
    twin = filed(units["a"], name="王秀兰", file_number="JS-0001")  # same number as wang in A1
    row = line(twin, books["program"], books["fund"], dt.date(Y1, 3, 1), 100)
    row["户主身份证号"] = None
    row["档案编号"] = "JS-0001"
    report = run(carol, write(tmp_path, [row]), check_only=True)
    assert "请改填户主身份证号" in report.errors[0].message
    assert (report.errors[0].row, report.errors[0].column) == (2, "档案编号")


def test_progress_is_reported_as_done_and_total(tmp_path, books, carol):
    rows = [
        line(books["wang"], books["program"], books["fund"], dt.date(Y1, 3, 1), 1)
        for _ in range(1200)
    ]
    seen = []
    aid_history_import(
        actor=carol, path=write(tmp_path, rows), source_label="x", check_only=False,
        progress=lambda done, total: seen.append((done, total)),
    )  # fmt: skip
    assert seen[0] == (500, 1200) and seen[-1] == (1200, 1200)
    assert Application.objects.count() == 1200


def test_a_goods_program_without_a_value_is_goods_in_full(tmp_path, books, carol, units):
    parcels = Program.objects.create(
        unit=units["a"], name="节日慰问品", category="festival", kind="goods"
    )
    run(
        carol,
        write(tmp_path, [line(books["wang"], parcels, books["fund"], dt.date(Y1, 2, 1), 300)]),
    )
    payment = AidPayment.objects.get()
    assert (payment.goods_value, payment.goods_description) == (D("300.00"), "节日慰问品")
    assert payment.application.goods_value == D("300.00")


def test_a_program_may_be_named_in_english_in_any_case(tmp_path, books, carol):
    wang, li, program, fund = books["wang"], books["li"], books["program"], books["fund"]
    Program.objects.filter(pk=program.pk).update(name_en="Spring Festival Care")
    english = {"帮扶项目": "spring festival CARE"}
    rows = [
        line(wang, program, fund, dt.date(Y1, 1, 20), 500, **english),
        line(li, program, fund, dt.date(Y1, 1, 20), 400),
        line(li, program, fund, dt.date(Y1, 2, 20), 300, 帮扶项目="Spring Care"),
    ]
    with pytest.raises(ImportRejected) as excinfo:
        run(carol, write(tmp_path, rows))
    assert errors_of(excinfo) == {(4, "帮扶项目"): "系统中没有名为“Spring Care”的帮扶项目。"}

    report = run(carol, write(tmp_path, rows[:2]))
    assert report.imported == 2
    assert [a.program for a in Application.objects.order_by("pk")] == [program, program]
