"""`manage.py import_households FILE [--dry-run] [--unit CODE] [--user USERNAME]`

Imports household files from the import template (.xlsx) with the same
checks and the same service as the web pages: the whole file is checked,
every bad cell is printed as `第 N 行 「列名」：原因`, and nothing is saved
unless every row is good. Progress goes to stderr as a text bar.

--user   import as this person: only into units where they may edit
         household files, and the audit trail names them. Without it the
         import is recorded as done by the system and may use any unit.
--unit   only into this unit (by code) and the units below it.
--dry-run  check only; nothing is written.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError, CommandParser
from django.test.utils import override_settings

from cases.import_sheet import CellError, check_upload, probe, read_sheet
from cases.management.import_command import ImportCommand, ProgressBar
from cases.services.imports import ImportRejected, households_import


class Command(ImportCommand):
    help = "从导入模板（.xlsx）批量导入困难职工家庭档案：先检查全部行，有任何错误则不导入。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="填好的导入模板（.xlsx）")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        parser.add_argument("--unit", default="", help="只导入到该工会（单位代码）及其下级")
        parser.add_argument("--user", default="", help="以该用户身份导入（按其建档权限）")

    def handle(self, *args: Any, **options: Any) -> None:
        path = self._file(options["file"])
        actor = self._user(options["user"])
        scope = self._unit(options["unit"])
        dry_run: bool = options["dry_run"]

        with path.open("rb") as source:
            head = source.read(8)
            source.seek(0)
            try:
                check_upload(path.name, path.stat().st_size, head)
                estimate = probe(source)
                reading = ProgressBar(self.stderr, "读取")
                sheet = read_sheet(
                    source, filename=path.name, progress=lambda n: reading(n, max(estimate, n))
                )
            except ValidationError as exc:
                self._fail([CellError(None, "", m) for m in exc.messages])
        reading(len(sheet.rows), len(sheet.rows))

        checking = ProgressBar(self.stderr, "检查" if dry_run else "导入")
        try:
            # Django's query log would hold every statement of the import.
            with override_settings(DEBUG=False):
                report = households_import(
                    actor=actor, rows=sheet, unit_scope=scope, dry_run=dry_run, progress=checking
                )
        except ImportRejected as exc:
            self._fail(exc.report.errors)
        except PermissionDenied as exc:
            raise CommandError(str(exc) or "无权导入。") from exc
        if not report.ok:
            self._fail(report.errors)
        self._units(report.units, "户")
        if dry_run:
            self.stdout.write(
                self.style.SUCCESS(f"检查通过：可导入 {report.valid:,} 户（--dry-run，未写入）。")
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"已导入 {report.imported:,} 户家庭档案。"))
