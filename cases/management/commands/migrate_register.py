"""`manage.py migrate_register FILE [--dry-run] [--unit CODE] [--user USERNAME]`

Brings a union's existing register in as filed households (建档迁移) from the
migration template (.xlsx: sheets 困难职工 and 家庭成员), with the same checks
and the same service as the web pages: the whole workbook is checked, every
bad cell is printed as `「工作表」第 N 行 「列名」：原因`, and nothing is saved
unless every row of both sheets is good.

--user     migrate as this person: a chair or administrator, only into the
           units they cover; the history rows and the audit trail name them.
           Required unless --dry-run.
--unit     only into this unit (by code) and the units below it.
--dry-run  check only; nothing is written.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError, CommandParser
from django.test.utils import override_settings

from cases.management.import_command import ImportCommand, ProgressBar
from cases.migrate_sheet import SheetError
from cases.services.migration import migration_label, register_import


class Command(ImportCommand):
    help = "从建档迁移模板（.xlsx）迁移已有档案：先检查两张表的全部行，有任何错误则不导入。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="填好的建档迁移模板（.xlsx）")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")
        parser.add_argument("--unit", default="", help="只迁移到该工会（单位代码）及其下级")
        parser.add_argument("--user", default="", help="以该用户身份迁移（工会主席或管理员）")

    def handle(self, *args: Any, **options: Any) -> None:
        path = self._file(options["file"])
        dry_run: bool = options["dry_run"]
        actor = self._user(options["user"])
        if actor is None and not dry_run:
            raise CommandError("迁移须用 --user 指明操作人（工会主席或系统管理员）。")
        scope = self._unit(options["unit"])
        bar = ProgressBar(self.stderr, "检查" if dry_run else "迁移")
        try:
            # Django's query log would hold every statement of the import.
            with override_settings(DEBUG=False):
                report = register_import(
                    actor=actor,
                    path=path,
                    source_label=migration_label(path.name, "命令行"),
                    check_only=dry_run,
                    unit_scope=scope,
                    progress=bar,
                )
        except ValidationError as exc:
            self._fail([SheetError("", None, "", m) for m in exc.messages])
        except PermissionDenied as exc:
            raise CommandError(str(exc) or "无权迁移。") from exc
        if not report.ok:
            self._fail(report.errors)
        self._units(report.units, "户")
        counts = report.counts
        figures = (
            f"{counts.get('households', 0):,} 户档案（其中已退出 {counts.get('exited', 0):,} 户）、"
            f"{counts.get('members', 0):,} 名家庭成员、{counts.get('helpers', 0):,} 人次结对帮扶"
        )
        if dry_run:
            self.stdout.write(
                self.style.SUCCESS(f"检查通过：可迁移 {figures}（--dry-run，未写入）。")
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"已迁移 {figures}。"))
