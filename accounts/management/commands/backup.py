"""Write one backup archive: the database and the private attachments, with
a SHA-256 manifest. See docs/operations.md for the schedule and the drill."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from accounts.backup import BackupError, Database, backup


class Command(BaseCommand):
    help = "Back up the database and the private attachments into one tar archive."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--output",
            help="archive path (default: BACKUP_DIR/hardship-<date-time>.tar)",
        )
        parser.add_argument("--database", default="default", help="database alias")

    def handle(self, *args: Any, output: str | None = None, **options: Any) -> None:
        if output is None:
            folder = Path(getattr(settings, "BACKUP_DIR", settings.BASE_DIR / "var" / "backups"))
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
            output = str(folder / f"hardship-{stamp}.tar")
        try:
            db = Database.from_settings(settings.DATABASES[options["database"]])
            manifest = backup(
                db=db, private_root=Path(settings.PRIVATE_STORAGE_ROOT), output=Path(output)
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        count = len(manifest["files"]) - 1
        self.stdout.write(f"备份完成：{output}（{db.vendor} 数据库，{count} 个附件文件）")
