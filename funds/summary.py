"""A fund's ledger added up by day: LedgerDay, kept in step with LedgerEntry.

A fund's totals, balance and period summary used to add up every ledger
entry of the fund on each request (184,000 entries at a big fund: ~450 ms).
They now add up LedgerDay rows instead: one per fund, value date, summary
line and direction, holding how many entries and how much (a few thousand
rows a year, whatever the number of entries).

`count_entries` adds new entries to their days. It runs in the transaction
that inserts them (LedgerEntry.save and LedgerEntry.objects.bulk_create call
it; an insert around the ORM calls it itself), so a rolled-back entry is
never counted and a committed one always is. It increments the day's row
with an UPDATE … SET entries = entries + n (safe under concurrent writers:
PostgreSQL re-reads the row after a concurrent commit) and creates the row
when there is none, in a savepoint, retrying as an update when another
transaction created it first. The posting services lock the fund row first
anyway (funds.services._locked), so their writes to one fund queue.

`rebuild` recounts the table from the entries: after a bulk load by COPY
(bench/scale.py), by `manage.py ledger_summary_rebuild`, and by the data
migration that created the table. Entries are append-only (the retention
sweep rewrites text only, never an amount, date, kind or fund), so inserts
are the only change to follow.
"""

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import DEFAULT_DB_ALIAS, IntegrityError, transaction
from django.db.models import Count, F, Sum

from .models import EntryKind, LedgerDay, LedgerEntry

# The period summary's line for an aid payment is its application's program,
# reached through the reverse one-to-one of AidPayment.entry.
PROGRAM = "aid_payment__application__program_id"
# Set on an unsaved payment entry by funds.services.payment_post: the program
# of the application it pays (the AidPayment row comes after the entry).
PROGRAM_ATTR = "summary_program_id"


def paying_for(entry: LedgerEntry, program_id: int | None) -> LedgerEntry:
    """The unsaved payment entry, marked with the program of the application
    it pays, so that it is counted on that program's line from the start
    (the AidPayment that links them is written after the entry)."""
    setattr(entry, PROGRAM_ATTR, program_id)
    return entry


Key = tuple[int, Any, str, int]  # fund, day, line, direction


def line_of(
    kind: str, *, source_id: int | None, program_id: int | None, reversed_kind: str | None
) -> str:
    """The summary line of an entry: what fund_period_summary groups by."""
    if kind in (EntryKind.RECEIPT, EntryKind.DONATION):
        return f"source:{source_id or ''}"
    if kind == EntryKind.PAYMENT:
        return f"program:{program_id}" if program_id else "payment"
    if kind in (EntryKind.TRANSFER_IN, EntryKind.TRANSFER_OUT):
        return str(kind)
    return f"reversal:{reversed_kind or ''}"


def parse_line(line: str) -> tuple[int | None, int | None]:
    """The source id and the program id a line names (either or none)."""
    head, _sep, tail = line.partition(":")
    if head == "source" and tail:
        return int(tail), None
    if head == "program" and tail:
        return None, int(tail)
    return None, None


def _entry_line(entry: LedgerEntry) -> str:
    reversed_kind = None
    if entry.kind == EntryKind.REVERSAL and entry.reverses is not None:
        reversed_kind = entry.reverses.kind  # cached when the service set it
    return line_of(
        entry.kind,
        source_id=entry.source_id,
        program_id=getattr(entry, PROGRAM_ATTR, None),
        reversed_kind=reversed_kind,
    )


def _add(groups: dict[Key, list[Any]], using: str) -> None:
    """Add each group's count and amount to its LedgerDay row, in key order
    (two writers touching the same rows take their locks in one order)."""
    for key in sorted(groups, key=lambda k: (k[0], k[1], k[2], k[3])):
        fund_id, day, line, direction = key
        n, amount = groups[key]
        rows = LedgerDay.objects.using(using).filter(
            fund_id=fund_id, day=day, line=line, direction=direction
        )
        if rows.update(entries=F("entries") + n, amount=F("amount") + amount):
            continue
        source_id, program_id = parse_line(line)
        try:
            with transaction.atomic(using=using):
                LedgerDay.objects.using(using).create(
                    fund_id=fund_id,
                    day=day,
                    line=line,
                    direction=direction,
                    source_id=source_id,
                    program_id=program_id,
                    entries=n,
                    amount=amount,
                )
        except IntegrityError:
            # Another transaction created the row in between: add to it.
            if not rows.update(entries=F("entries") + n, amount=F("amount") + amount):
                raise


def count_entries(entries: Iterable[LedgerEntry], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """Add newly inserted entries to their funds' days. Call it inside the
    transaction that inserted them."""
    groups: dict[Key, list[Any]] = {}
    for e in entries:
        key = (e.fund_id, e.occurred_on, _entry_line(e), e.direction)
        group = groups.setdefault(key, [0, Decimal(0)])
        group[0] += 1
        group[1] += Decimal(e.amount)
    _add(groups, using)


def count_rows(rows: Iterable[dict[str, Any]], *, using: str = DEFAULT_DB_ALIAS) -> None:
    """`count_entries` for entries inserted as column dicts (the history
    import's bulk_insert): fund_id, occurred_on, kind, direction, amount,
    and source_id / program_id / reversed_kind where they apply."""
    groups: dict[Key, list[Any]] = {}
    for r in rows:
        line = line_of(
            r["kind"],
            source_id=r.get("source_id"),
            program_id=r.get("program_id"),
            reversed_kind=r.get("reversed_kind"),
        )
        group = groups.setdefault((r["fund_id"], r["occurred_on"], line, r["direction"]), [0, 0])
        group[0] += 1
        group[1] += Decimal(r["amount"])
    _add(groups, using)


def grouped_entries(
    entry_model: Any = LedgerEntry,
    fund_ids: Iterable[int] | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> Any:
    """The entries grouped as LedgerDay groups them, from the rows."""
    qs = entry_model.objects.using(using).all()
    if fund_ids is not None:
        qs = qs.filter(fund_id__in=list(fund_ids))
    return (
        qs.order_by()
        .values(
            "fund_id", "occurred_on", "kind", "direction", "source_id", PROGRAM, "reverses__kind"
        )
        .annotate(n=Count("pk"), total=Sum("amount"))
    )


def recount(
    entry_model: Any = LedgerEntry,
    fund_ids: Iterable[int] | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> dict[Key, list[Any]]:
    """What LedgerDay should hold, counted from the entries: {(fund, day,
    line, direction): [entries, amount]}."""
    counted: dict[Key, list[Any]] = defaultdict(lambda: [0, Decimal(0)])
    for g in grouped_entries(entry_model, fund_ids, using).iterator(chunk_size=5000):
        line = line_of(
            g["kind"],
            source_id=g["source_id"],
            program_id=g[PROGRAM],
            reversed_kind=g["reverses__kind"],
        )
        group = counted[(g["fund_id"], g["occurred_on"], line, g["direction"])]
        group[0] += g["n"]
        group[1] += Decimal(g["total"])
    return dict(counted)


def rebuild(
    fund_ids: Iterable[int] | None = None,
    *,
    entry_model: Any = LedgerEntry,
    day_model: Any = LedgerDay,
    using: str = DEFAULT_DB_ALIAS,
) -> int:
    """Recount LedgerDay from the entries (of `fund_ids`, or of every fund)
    in one transaction; returns the number of day rows written. The data
    migration passes its historical models."""
    ids = None if fund_ids is None else list(fund_ids)
    with transaction.atomic(using=using):
        days = day_model.objects.using(using).all()
        if ids is not None:
            days = days.filter(fund_id__in=ids)
        days.delete()
        rows = []
        counted = recount(entry_model, ids, using)
        for (fund_id, day, line, direction), (n, amount) in counted.items():
            source_id, program_id = parse_line(line)
            rows.append(
                day_model(
                    fund_id=fund_id,
                    day=day,
                    line=line,
                    direction=direction,
                    source_id=source_id,
                    program_id=program_id,
                    entries=n,
                    amount=amount,
                )
            )
        day_model.objects.using(using).bulk_create(rows, batch_size=5000)
    return len(rows)
