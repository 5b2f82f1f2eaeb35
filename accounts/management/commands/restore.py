"""Put a backup archive back into a new, empty database and an empty
attachment folder, after checking every checksum in its manifest."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections

from accounts.backup import BackupError, Database, restore


class Command(BaseCommand):
    help = "Restore a backup archive into an empty database (see docs/operations.md)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("archive", help="the .tar written by manage.py backup")
        parser.add_argument("--database", default="default", help="database alias")

    def handle(self, *args: Any, archive: str, **options: Any) -> None:
        alias = options["database"]
        path = Path(archive)
        if not path.is_file():
            raise CommandError(f"找不到备份文件：{archive}")
        connections[alias].close()  # the restore writes through its own client
        try:
            manifest = restore(
                db=Database.from_settings(settings.DATABASES[alias]),
                private_root=Path(settings.PRIVATE_STORAGE_ROOT),
                archive=path,
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        count = len(manifest["files"]) - 1
        self.stdout.write(
            f"恢复完成：{archive}（备份时间 {manifest['created_at']}，{count} 个附件文件）。"
            "请运行 manage.py migrate 确认数据库结构为最新。"
        )
