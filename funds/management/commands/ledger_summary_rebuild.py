"""Recount every fund's day totals (LedgerDay) from its ledger entries.

    manage.py ledger_summary_rebuild [--fund ID ...] [--check]

The totals are kept current by every insert through the ORM; run this after
loading entries around it (COPY, a restore of the entries table alone), or
with --check to compare the table with the entries without writing."""

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from funds.models import LedgerDay
from funds.summary import rebuild, recount


class Command(BaseCommand):
    help = "Recount the funds' day totals (LedgerDay) from the ledger entries."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fund", type=int, action="append", help="a fund's id (repeatable)")
        parser.add_argument(
            "--check", action="store_true", help="compare only; exit 1 when they differ"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        funds = options["fund"]
        started = time.monotonic()
        if options["check"]:
            expected = recount(fund_ids=funds)
            days = LedgerDay.objects.all()
            if funds:
                days = days.filter(fund_id__in=funds)
            stored = {
                (d.fund_id, d.day, d.line, d.direction): [d.entries, d.amount]
                for d in days
                if d.entries
            }
            wrong = [
                key
                for key in set(expected) | set(stored)
                if list(expected.get(key, ())) != stored.get(key, [])
            ]
            self.stdout.write(f"ledger_days_differing: {len(wrong)}")
            if wrong:
                raise CommandError("LedgerDay differs from the entries; run ledger_summary_rebuild")
            return
        written = rebuild(funds)
        self.stdout.write(f"ledger_days: {written}")
        self.stdout.write(f"seconds: {time.monotonic() - started:.2f}")
