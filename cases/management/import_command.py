"""What the import commands share: the progress bar on stderr, the
`--user` and `--unit` look-ups, and printing every error before refusing.

Used by `import_households`, `migrate_register` and (from programs)
`migrate_aid_history`, so that each prints the same words the same way."""

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, OutputWrapper

from accounts.models import Unit, User


class ProgressBar:
    """`[#########-----------]  45%  45,000/100,000 行` on one line, redrawn."""

    WIDTH = 30

    def __init__(self, stream: OutputWrapper, label: str) -> None:
        self.stream = stream
        self.label = label
        self._last = 0.0
        self._ended = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self._ended or (now - self._last < 0.2 and done < total):
            return
        self._last = now
        total = max(total, done, 1)
        share = done / total
        filled = int(self.WIDTH * share)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(f"\r{self.label} [{bar}] {share:4.0%} {done:,}/{total:,} 行", ending="")
        if done >= total:
            self.stream.write("")
            self._ended = True
        self.stream.flush()


class ImportCommand(BaseCommand):
    """A command that checks a whole file and writes it all or nothing."""

    def _file(self, name: str) -> Path:
        path = Path(name)
        if not path.is_file():
            raise CommandError(f"找不到文件：{path}")
        return path

    def _fail(self, errors: Iterable[Any]) -> None:
        errors = list(errors)
        for error in errors:
            self.stdout.write(str(error))
        raise CommandError(f"共 {len(errors)} 处错误，未导入任何数据。")

    def _units(self, units: dict[str, int], noun: str) -> None:
        """How many rows went to each union: `  名称：1,234 户`."""
        for name, count in units.items():
            self.stdout.write(f"  {name}：{count:,} {noun}")

    def _user(self, username: str) -> User | None:
        if not username:
            return None
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"没有用户名为“{username}”的有效用户。")
        return user

    def _unit(self, code: str) -> Unit | None:
        if not code:
            return None
        unit = Unit.objects.filter(code=code).first()
        if unit is None:
            raise CommandError(f"没有单位代码为“{code}”的工会。")
        return unit
