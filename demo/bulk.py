"""Generated households written in bulk, for the demo and for load tests.

Bypasses the services on purpose (bulk inserts, no audit events): this is for
demo and benchmark data, never for real files.
"""

import contextlib
import datetime
import gc
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Max

from accounts.models import Unit, User
from cases.models import Cause, FileNumberCounter, Household, Member, Tier

from .households import DemoFaker
from .rows import HouseholdRows, build
from .weighted import Weighted

T = TypeVar("T")
Progress = Callable[[int, int, float], None]


@dataclass
class InsertReport:
    households: int
    members: int
    seconds: float
    first_index: int
    next_index: int


def unit_weights(units: Sequence[Unit]) -> Weighted:
    """Grassroots unions (the leaves) hold most files; counties hold some."""
    parents = {u.parent_id for u in units}
    return Weighted([(u, 1 if u.pk in parents else 3) for u in units])


def next_index() -> int:
    """Where the running household index continues: past every row so far.

    Each run consumes indices from here and each row it inserts raises the
    maximum id by at least one, so runs do not reuse indices; the per-batch
    check in `households_insert` covers files that came from elsewhere.
    """
    return int(Household.objects.aggregate(m=Max("id"))["m"] or 0)


def households_insert(
    *,
    count: int,
    units: Sequence[Unit],
    seed: int,
    batch_size: int = 2000,
    created_by: Mapping[int, User] | None = None,
    progress: Progress | None = None,
    today: datetime.date | None = None,
) -> InsertReport:
    """Insert `count` generated households with their members, in batches.

    Each batch commits on its own, so a large run shows progress and an
    interrupted one keeps whole households only. `created_by` maps a unit id
    to the user recorded as the one who filed its households.
    """
    if not units:
        raise ValueError("no units to put households in")
    batches = _Batches(seed, units, created_by or {}, today)
    started = time.perf_counter()
    done = members = 0
    with _collector_paused():
        while done < count:
            rows = batches.rows(min(batch_size, count - done))
            members += _write(rows, batch_size)
            done += len(rows)
            if progress is not None:
                progress(done, count, time.perf_counter() - started)
    seconds = time.perf_counter() - started
    return InsertReport(done, members, seconds, batches.first, batches.index)


class _Batches:
    """Draws households for the next running indices, skipping any whose ID
    or file number a stored file already holds."""

    def __init__(
        self,
        seed: int,
        units: Sequence[Unit],
        created_by: Mapping[int, User],
        today: datetime.date | None,
    ) -> None:
        self.faker = DemoFaker(
            seed,
            tiers=list(Tier.objects.filter(is_active=True)),
            causes=list(Cause.objects.filter(is_active=True)),
            today=today,
        )
        self.pick_unit = unit_weights(units)
        self.filer = {unit_id: user.pk for unit_id, user in created_by.items()}
        self.first = self.index = next_index()

    def rows(self, wanted: int) -> list[HouseholdRows]:
        rows: list[HouseholdRows] = []
        while len(rows) < wanted:
            batch = [self._next() for _ in range(wanted - len(rows))]
            taken = _taken(batch)
            rows.extend(
                r for r in batch
                if r.household.id_number not in taken and r.household.file_number not in taken
            )  # fmt: skip
        return rows

    def _next(self) -> HouseholdRows:
        unit = self.pick_unit.pick(self.faker.rng)
        row = self.faker.household(self.index, unit)
        row.household.created_by_id = self.filer.get(unit.pk)
        row.household.submitted_by_id = self.filer.get(unit.pk)
        self.index += 1
        return row


def _write(rows: list[HouseholdRows], batch_size: int) -> int:
    """Number and insert one batch in one transaction; returns its members."""
    through = Household.secondary_causes.through
    with transaction.atomic():
        _number_files(rows)
        Household.objects.bulk_create([r.household for r in rows], batch_size=batch_size)
        members: list[Member] = []
        links: list[Any] = []
        for r in rows:
            for member in r.members:
                member.household_id = r.household.pk
                members.append(member)
            links.extend(
                build(through, household_id=r.household.pk, cause_id=cause_id)
                for cause_id in r.secondary_cause_ids
            )
        Member.objects.bulk_create(members, batch_size=batch_size)
        through.objects.bulk_create(links, batch_size=batch_size)
    return len(members)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk load.

    Each batch makes tens of thousands of short-lived objects, which sets off
    full collections over Django's whole heap again and again: about a third
    of the run time. The rows are freed by reference counting regardless.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _taken(rows: list[HouseholdRows]) -> set[str]:
    """ID and file numbers among `rows` that a stored file already uses.

    Closed files count too: the constraint would allow a second file for
    their head, but a generated stranger must not inherit someone's history.
    """
    ids = [r.household.id_number for r in rows]
    numbers = [r.household.file_number or "" for r in rows if r.household.file_number]
    taken: set[str] = set()
    for chunk in _chunks(ids, 500):
        taken.update(
            Household.objects.filter(id_number__in=chunk).values_list("id_number", flat=True)
        )
    for chunk in _chunks(numbers, 500):
        found = Household.objects.filter(file_number__in=chunk).values_list(
            "file_number", flat=True
        )
        taken.update(number or "" for number in found)
    return taken


def _chunks(items: list[T], size: int) -> list[list[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _number_files(rows: list[HouseholdRows]) -> None:
    """Give generated files real numbers `<unit code>-<year>-<sequence>` from
    the same per-union, per-year counters confirmation uses, and advance the
    counters, so a case confirmed later continues the sequence without a gap."""
    wanted: dict[tuple[int, int], list[Household]] = {}
    for row in rows:
        h = row.household
        if h.file_number and h.filed_on:
            wanted.setdefault((h.unit_id, h.filed_on.year), []).append(h)
    codes = dict(Unit.objects.filter(pk__in={k[0] for k in wanted}).values_list("pk", "code"))
    for (unit_id, year), households in sorted(wanted.items()):
        FileNumberCounter.objects.get_or_create(unit_id=unit_id, year=year)
        counter = FileNumberCounter.objects.select_for_update(no_key=True).get(
            unit_id=unit_id, year=year
        )
        for h in sorted(households, key=lambda x: x.filed_on or datetime.date.min):
            counter.last += 1
            h.file_number = f"{codes[unit_id]}-{year}-{counter.last:04d}"
        counter.save(update_fields=["last"])
