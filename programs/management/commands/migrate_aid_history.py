"""`manage.py migrate_aid_history FILE --user USERNAME [--dry-run] [--label TEXT]`

Brings a union's past aid (the 发放记录 sheet of the history template) in as
dated applications, ledger entries and payments, through the same service as
the web pages: the whole file is checked, every bad cell is printed as
`第 N 行 「列名」：原因`, and nothing is saved unless every row is good.

--user     required: the chair or administrator running the import; the rows
           are looked up in their unions and the audit trail names them.
--label    what each migrated application records as its source (default:
           the file name).
--dry-run  check only; nothing is written.
"""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import CommandError, CommandParser
from django.test.utils import override_settings

from accounts.models import User
from cases.import_sheet import CellError
from cases.management.import_command import ImportCommand, ProgressBar
from cases.services.imports import ImportRejected
from programs.services.history import aid_history_import


class Command(ImportCommand):
    help = "从发放记录模板（.xlsx）导入以往年度的帮扶发放记录：先检查全部行，有任何错误则不导入。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="填好的发放记录模板（.xlsx）")
        parser.add_argument(
            "--user", required=True, help="以该用户（工会主席或系统管理员）身份导入"
        )
        parser.add_argument("--label", default="", help="迁移来源说明（默认为文件名）")
        parser.add_argument("--dry-run", action="store_true", help="只检查，不写入")

    def handle(self, *args: Any, **options: Any) -> None:
        path = self._file(options["file"])
        username = options["user"]
        actor = User.objects.filter(username=username, is_active=True).first()
        if actor is None:
            raise CommandError(f"没有用户名为“{username}”的有效用户。")
        dry_run: bool = options["dry_run"]
        label = options["label"] or path.name
        progress = ProgressBar(self.stderr, "检查" if dry_run else "导入")
        try:
            # Django's query log would hold every statement of the import.
            with override_settings(DEBUG=False):
                report = aid_history_import(
                    actor=actor, path=path, source_label=label, check_only=dry_run,
                    progress=progress,
                )  # fmt: skip
        except ImportRejected as exc:
            self._fail(exc.report.errors)
        except PermissionDenied as exc:
            raise CommandError(str(exc) or "无权导入。") from exc
        except ValidationError as exc:
            self._fail([CellError(None, "", m) for m in exc.messages])
        if not report.ok:
            self._fail(report.errors)
        self._units(report.units, "笔")
        if dry_run:
            self.stdout.write(
                self.style.SUCCESS(f"检查通过：可导入 {report.valid:,} 笔（--dry-run，未写入）。")
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"已导入 {report.imported:,} 笔发放记录。"))
