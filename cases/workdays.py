"""Working-day arithmetic for public-notice periods (公示期).

A notice of N working days posted on day D runs over the first N working days
counted from D itself (D counts when it is a working day). Weekends are days
off unless listed as make-up working days (调休上班); listed holidays are days
off even on a weekday.
"""

import datetime
from collections.abc import Collection


def is_working_day(
    day: datetime.date,
    holidays: Collection[datetime.date] = (),
    makeup_days: Collection[datetime.date] = (),
) -> bool:
    if day in makeup_days:
        return True
    if day in holidays:
        return False
    return day.weekday() < 5


def notice_end(
    start: datetime.date,
    working_days: int,
    holidays: Collection[datetime.date] = (),
    makeup_days: Collection[datetime.date] = (),
) -> datetime.date:
    """The last day of a notice that runs `working_days` working days."""
    if working_days < 1:
        raise ValueError("a notice runs at least one working day")
    day = start
    counted = 0
    while True:
        if is_working_day(day, holidays, makeup_days):
            counted += 1
            if counted == working_days:
                return day
        day += datetime.timedelta(days=1)


def working_days_between(
    start: datetime.date,
    end: datetime.date,
    holidays: Collection[datetime.date] = (),
    makeup_days: Collection[datetime.date] = (),
) -> int:
    """Working days in [start, end], both included."""
    count, day = 0, start
    while day <= end:
        count += is_working_day(day, holidays, makeup_days)
        day += datetime.timedelta(days=1)
    return count
