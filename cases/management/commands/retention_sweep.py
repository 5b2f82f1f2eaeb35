"""Anonymise the closed files whose retention date has passed.

Run daily from cron (see docs/operations.md). `--dry-run` lists the files
that would be anonymised and changes nothing."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from cases.services.retention import retention_sweep


class Command(BaseCommand):
    help = "Anonymise closed household files past their retention date (档案保存期满匿名化)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="list the files, change nothing")

    def handle(self, *args: Any, dry_run: bool = False, **options: Any) -> None:
        households = retention_sweep(actor=None, dry_run=dry_run)
        verb = "would be anonymised" if dry_run else "anonymised"
        for household in households:
            # The id and unit only: the name is what is being removed.
            self.stdout.write(
                f"{household.pk}\t{household.unit.code}\t{household.file_number or '-'}\t"
                f"kept until {household.retention_until}"
            )
        self.stdout.write(f"{len(households)} file(s) {verb}.")
