"""Demo work done on the day it would have happened."""

import datetime
from collections.abc import Iterator
from contextlib import contextmanager

from cases import clock


@contextmanager
def on_day(day: datetime.date) -> Iterator[None]:
    """Do what follows as if it were `day`: dates, windows and the ledger."""
    with clock.travel(day - clock.today()):
        yield
