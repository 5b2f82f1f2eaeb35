"""The one source of "now" for workflow rules (notice periods, due visits).

Tests and demos move it forward with `clock.travel(...)`; production code
never sets it. It is process-wide on purpose, so a browser test's live server
thread sees the same day as the test that advanced it.
"""

import datetime
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

_offset = datetime.timedelta(0)


def now() -> datetime.datetime:
    return timezone.now() + _offset


def today() -> datetime.date:
    return timezone.localdate(now())


def advance(delta: datetime.timedelta) -> None:
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = datetime.timedelta(0)


@contextmanager
def travel(delta: datetime.timedelta) -> Iterator[None]:
    advance(delta)
    try:
        yield
    finally:
        advance(-delta)
