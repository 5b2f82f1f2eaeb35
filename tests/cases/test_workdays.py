import datetime as dt

import pytest

from cases.workdays import is_working_day, notice_end, working_days_between

MON = dt.date(2026, 9, 21)  # a Monday


def test_five_working_days_from_a_monday_end_on_friday():
    assert notice_end(MON, 5) == dt.date(2026, 9, 25)


def test_a_weekend_is_skipped():
    # Posted Thursday: Thu, Fri, Mon, Tue, Wed.
    assert notice_end(dt.date(2026, 9, 24), 5) == dt.date(2026, 9, 30)


def test_posted_on_saturday_starts_counting_on_monday():
    assert notice_end(dt.date(2026, 9, 26), 5) == dt.date(2026, 10, 2)


def test_listed_holidays_are_skipped_and_makeup_days_count():
    # National Day week 2026: Oct 1–7 off, Sunday Sep 27 and Saturday Oct 10 worked.
    holidays = {dt.date(2026, 10, d) for d in range(1, 8)}
    makeup = {dt.date(2026, 9, 27), dt.date(2026, 10, 10)}
    # Posted Fri Sep 25: Fri 25, Sun 27 (make-up), Mon 28, Tue 29, Wed 30.
    assert notice_end(dt.date(2026, 9, 25), 5, holidays, makeup) == dt.date(2026, 9, 30)
    # Posted Wed Sep 30: Wed 30, [Oct 1–7 off], Thu 8, Fri 9, Sat 10 (make-up), Mon 12.
    assert notice_end(dt.date(2026, 9, 30), 5, holidays, makeup) == dt.date(2026, 10, 12)
    assert not is_working_day(dt.date(2026, 10, 5), holidays, makeup)
    assert working_days_between(dt.date(2026, 9, 28), dt.date(2026, 10, 11), holidays, makeup) == 6


def test_a_notice_needs_at_least_one_day():
    with pytest.raises(ValueError):
        notice_end(MON, 0)
