"""Benchmark: what the hash chains (审计核验) cost writers and how fast they verify.

    .venv/bin/python bench/audit_chain.py [--rows N] [--inserts N] [--threads N]

Builds its own PostgreSQL database (`hardship_chain` on the server
DATABASE_URL names, or postgres@127.0.0.1:5432), then measures on the audit
trail's table:
- one audit event per transaction, linked into its chain as the services
  write it, against the same row inserted without linking (placeholder
  chain columns), interleaved in one run: p50/p95 and the ratio;
- writers at once (threads, one transaction each insert), linked against
  unlinked: rows/s and the ratio, since every linked writer waits for the
  chain's head;
- `bulk_create` of N rows, linked;
- `manage.py audit_verify`'s walk over those rows: rows/s.
Each figure is printed as `name: value`.
"""

import argparse
import itertools
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from list_households import percentile
from scale import configure, say


def _event(user: Any, unit: Any, n: int) -> Any:
    from accounts.models import AuditEvent

    return AuditEvent(
        actor=user,
        action="household.update",
        object_type="cases.household",
        object_id=str(n),
        object_repr=f"户 {n}",
        unit=unit,
        changes={"phone": ["138****0000", "139****0000"]},
    )


_unlinked = itertools.count(1)


def insert_linked(user: Any, unit: Any, n: int) -> None:
    from django.db import transaction

    with transaction.atomic():
        _event(user, unit, n).save()


def insert_unlinked(user: Any, unit: Any, n: int) -> None:
    """The same row, inserted as a plain model would be: no head lock, no
    hashing. Negative seqs keep clear of the chain's own."""
    from django.db import models, transaction
    from django.utils import timezone

    event = _event(user, unit, n)
    event.created_at = timezone.now()
    event.chain_seq = -next(_unlinked)
    event.chain_digest = event.chain_hash = "0" * 64
    with transaction.atomic():
        models.Model.save(event, force_insert=True)


def timed(fn: Any, *args: Any) -> float:
    began = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - began) * 1000


def singles(user: Any, unit: Any, inserts: int) -> list[tuple[str, object]]:
    linked, unlinked = [], []
    for n in range(inserts):
        linked.append(timed(insert_linked, user, unit, n))
        unlinked.append(timed(insert_unlinked, user, unit, n))
    figures: list[tuple[str, object]] = []
    for name, samples in (("linked", linked), ("unlinked", unlinked)):
        figures += [
            (f"insert_{name}_p50_ms", round(statistics.median(samples), 2)),
            (f"insert_{name}_p95_ms", round(percentile(samples, 95), 2)),
        ]
    ratio = statistics.median(linked) / statistics.median(unlinked)
    figures.append(("insert_linked_over_unlinked_p50", round(ratio, 2)))
    return figures


def writers(user: Any, unit: Any, threads: int, each: int) -> list[tuple[str, object]]:
    from django.db import connection

    def run(fn: Any) -> float:
        def work() -> None:
            try:
                for n in range(each):
                    fn(user, unit, n)
            finally:
                connection.close()

        workers = [threading.Thread(target=work) for _ in range(threads)]
        began = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        return threads * each / (time.perf_counter() - began)

    linked = run(insert_linked)
    unlinked = run(insert_unlinked)
    return [
        ("writers", threads),
        ("writers_linked_rows_per_s", round(linked)),
        ("writers_unlinked_rows_per_s", round(unlinked)),
        ("writers_linked_over_unlinked", round(linked / unlinked, 2)),
    ]


def bulk_and_verify(user: Any, unit: Any, rows: int) -> list[tuple[str, object]]:
    from accounts.chain import chain_verify
    from accounts.models import AuditEvent

    began = time.perf_counter()
    for start in range(0, rows, 5000):
        batch = [_event(user, unit, n) for n in range(start, min(rows, start + 5000))]
        AuditEvent.objects.bulk_create(batch)
    bulk = rows / (time.perf_counter() - began)
    linked = AuditEvent.objects.count()
    began = time.perf_counter()
    report = chain_verify(AuditEvent)
    seconds = time.perf_counter() - began
    if report.finding is not None:
        raise SystemExit(f"the chain does not verify: {report.finding}")
    return [
        ("bulk_linked_rows_per_s", round(bulk)),
        ("verify_rows", linked),
        ("verify_rows_per_s", round(linked / seconds)),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000, help="rows for bulk and verify")
    parser.add_argument("--inserts", type=int, default=1000, help="single inserts of each kind")
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    configure(Path(tempfile.mkdtemp()), "hardship_chain", fresh=True)
    import django

    django.setup()
    from django.core.management import call_command

    from accounts.models import Unit, User

    say("migrate")
    call_command("migrate", verbosity=0)
    unit = Unit.objects.create(code="bench", name="基准工会", kind="city", path="", depth=0)
    user = User.objects.create(username="bench_chain", full_name="基准")
    figures: list[tuple[str, object]] = []
    # Verified first: the unlinked rows written after it (negative seqs)
    # are no part of the chain, and the walk would name them.
    say("bulk and verify")
    figures += bulk_and_verify(user, unit, args.rows)
    say("single inserts")
    figures += singles(user, unit, args.inserts)
    say("writers at once")
    figures += writers(user, unit, args.threads, max(1, args.inserts // args.threads))
    for name, value in figures:
        print(f"{name}: {value}", flush=True)


if __name__ == "__main__":
    main()
