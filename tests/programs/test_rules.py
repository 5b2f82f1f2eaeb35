"""The program rules on their own: windows, money input, the cap a screen
shows before anyone asks."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError

from programs.models import Application, Program, StandardAmount
from programs.services import rules
from programs.services.applications import to_amount
from tests.programs.conftest import filed


def program(units, **kw):
    fields = {"unit": units["city"], "name": "项目", "category": "other", "kind": "cash"}
    fields.update(kw)
    return Program.objects.create(**fields)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "start, end, day, is_open",
    [
        ("08-01", "09-30", dt.date(2026, 7, 31), False),
        ("08-01", "09-30", dt.date(2026, 8, 1), True),
        ("08-01", "09-30", dt.date(2026, 9, 30), True),
        ("08-01", "09-30", dt.date(2026, 10, 1), False),
        # Across the new year (春节送温暖): open at both ends, shut in between.
        ("12-01", "02-28", dt.date(2026, 12, 1), True),
        ("12-01", "02-28", dt.date(2027, 1, 15), True),
        ("12-01", "02-28", dt.date(2027, 2, 28), True),
        ("12-01", "02-28", dt.date(2027, 3, 1), False),
        ("12-01", "02-28", dt.date(2026, 11, 30), False),
        ("", "", dt.date(2026, 6, 1), True),
    ],
)
def test_the_application_window(units, start, end, day, is_open):
    p = program(units, window_start=start, window_end=end)
    assert rules.window_open(p, day) is is_open
    if is_open:
        rules.check_window(p, day)
    else:
        with pytest.raises(ValidationError) as err:
            rules.check_window(p, day)
        assert f"每年 {start} 至 {end}" in err.value.error_dict["program"][0].messages[0]


@pytest.mark.parametrize(
    "raw, message",
    [
        ("abc", "金额格式不正确"),
        ("NaN", "金额格式不正确"),
        ("Infinity", "金额格式不正确"),
        ("-5", "金额不能为负数"),
        ("1e400", "金额过大"),
        ("1e-400", "最多保留两位小数"),
        ("12.345", "最多保留两位小数"),
    ],
)
def test_money_input_is_refused_with_a_reason_never_a_crash(raw, message):
    with pytest.raises(ValidationError) as err:
        to_amount(raw)
    assert message in err.value.error_dict["amount"][0].messages[0]


def test_money_input_is_kept_to_the_fen():
    assert str(to_amount(" 1200 ")) == "1200.00"
    assert str(to_amount("0.5")) == "0.50"


@pytest.mark.django_db
def test_the_cap_status_a_caseworker_reads_before_asking(units, standard, alice, tier):
    household = filed(units["a"], household_size=2)
    living = program(units, name="生活救助", category="living", cap_rule="dibao_annual")
    StandardAmount.objects.create(program=living, tier=tier, amount=D("3000"))
    Application.objects.create(
        program=living, household=household, year=2026, amount=D("5000"), drafted_by=alice
    )
    Application.objects.create(  # withdrawn: does not count
        program=living,
        household=household,
        year=2026,
        amount=D("9000"),
        drafted_by=alice,
        status="withdrawn",
    )
    cap = rules.cap_status(living, household, 2026)
    assert (cap.limit, cap.used, cap.left) == (D("19200.00"), D("5000.00"), D("14200.00"))
    assert cap.label == "不超过当地低保年标准"
    # Another year starts from nothing.
    assert rules.cap_status(living, household, 2027).used == D("0.00")


@pytest.mark.django_db
def test_a_program_for_file_categories_refuses_households_outside_them(units):
    from cases.models import FileCategory

    sick = FileCategory.objects.get(name="大病职工")
    single = FileCategory.objects.get(name="单亲家庭")
    worker = FileCategory.objects.get(name="农民工")
    p = program(units, name="大病救助")
    p.required_categories.set([sick, single])
    household = filed(units["a"])
    household.categories.set([worker])

    with pytest.raises(ValidationError) as err:
        rules.check_eligible(p, household)
    message = err.value.error_dict["program"][0].messages[0]
    assert "大病职工" in message and "单亲家庭" in message

    household.categories.add(single)  # one of them is enough
    rules.check_eligible(p, household)
    # A program that names no category is open to every household.
    rules.check_eligible(program(units, name="送温暖"), filed(units["a"]))
