"""Resident ID numbers: GB 11643 shape, date and checksum; what follows from them."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from cases import idnumber

# The worked example printed in GB 11643-1999 and countless guides.
WITH_X = "11010519491231002X"
TODAY = datetime.date(2025, 6, 1)


def _with_check(first17: str) -> str:
    return first17 + idnumber.check_char(first17)


def _error(value: str, **kwargs) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        idnumber.parse(value, **kwargs)
    return caught.value


def test_valid_number_with_x_check_character():
    info = idnumber.parse(WITH_X)
    assert info.number == WITH_X
    assert info.birth_date == datetime.date(1949, 12, 31)
    assert info.sex == "F"  # 17th digit 2 is even


def test_lower_case_x_and_spaces_are_accepted_and_normalized():
    assert idnumber.parse(" 110105 19491231 002x ").number == WITH_X


def test_full_width_digits_are_folded_to_ascii():
    """A Chinese input method types １２３; it must be the same person as 123."""
    full_width = WITH_X.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))
    assert idnumber.parse(full_width).number == WITH_X
    assert idnumber.parse(full_width[:17] + "x").number == WITH_X


@pytest.mark.parametrize(
    ("sequence", "sex"), [(1, "M"), (3, "M"), (19, "M"), (2, "F"), (10, "F"), (998, "F")]
)
def test_sex_follows_the_parity_of_the_sequence(sequence, sex):
    number = idnumber.make("410105", datetime.date(1975, 3, 8), sequence)
    assert idnumber.parse(number).sex == sex


def test_birth_date_is_read_from_positions_7_to_14():
    number = idnumber.make("410105", datetime.date(2000, 2, 29), 21)
    assert idnumber.parse(number).birth_date == datetime.date(2000, 2, 29)


def test_every_check_character_round_trips():
    """Each of the 11 possible check characters, including X, is accepted."""
    seen = set()
    for sequence in range(200):
        number = idnumber.make("410105", datetime.date(1980, 1, 1), sequence)
        seen.add(number[-1])
        assert idnumber.parse(number).number == number
    assert seen == set("0123456789X")


@pytest.mark.parametrize(
    ("value", "count"),
    [("41010519800101001", 17), ("4101051980010100181", 19), ("410105800101001", 15), ("", 0)],
)
def test_wrong_length_says_how_many_digits_were_given(value, count):
    error = _error(value)
    assert error.code == "length"
    assert f"应为 18 位，当前为 {count} 位" in error.messages[0]


@pytest.mark.parametrize(
    "value",
    [
        "41010519800101001A",  # a letter in the check position
        "4101051980O101001X",  # letter O for zero
        "X10105198001010018",  # X anywhere but last
        "41010519800101-018",
        "٤١٠١٠٥١٩٨٠٠١٠١٠٠١٨",  # Arabic-Indic digits are digits, but not ours
    ],
)
def test_letters_and_other_characters_are_refused(value):
    error = _error(value)
    assert error.code == "characters"
    assert "前 17 位应为数字，最后一位为数字或 X" in error.messages[0]


@pytest.mark.parametrize("date", ["19990230", "19991301", "19990000", "20230229"])
def test_impossible_birth_date_is_named(date):
    # The check character is right, so only the date can be at fault.
    error = _error(_with_check(f"410105{date}001"))
    assert error.code == "date"
    assert f"出生日期 {date} 不是有效日期" in error.messages[0]


def test_future_birth_date_is_refused():
    number = idnumber.make("410105", datetime.date(2025, 6, 2), 11)
    error = _error(number, today=TODAY)
    assert error.code == "date"
    assert "2025-06-02 不在合理范围内" in error.messages[0]
    # The same number is fine the day it becomes possible.
    assert idnumber.parse(number, today=datetime.date(2025, 6, 2)).sex == "M"


def test_birth_before_1900_is_refused():
    error = _error(_with_check("41010518991231001"))
    assert error.code == "date"


def test_wrong_check_character_is_refused():
    good = idnumber.make("410105", datetime.date(1980, 1, 1), 18)
    for wrong in "0123456789X":
        if wrong == good[-1]:
            continue
        error = _error(good[:17] + wrong)
        assert error.code == "checksum"
        assert "校验位错误" in error.messages[0]


def test_swapped_digits_are_caught_by_the_checksum():
    """The usual copying mistake: two neighbouring digits swapped."""
    good = idnumber.make("410105", datetime.date(1983, 7, 14), 256)
    swapped = good[:14] + good[15] + good[14] + good[16:]
    assert swapped != good
    assert _error(swapped).code == "checksum"
