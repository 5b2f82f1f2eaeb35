"""Rebuild the statistics snapshots of the big unions for this year, so the
morning's first reader of a city's statistics finds figures of last night
(数据截至) instead of waiting for them. Meant for a nightly timer
(deploy/systemd/hardship-statistics-refresh.timer).

    manage.py statistics_refresh [--unit CODE] [--depth N] [--language en]

From the root union (or --unit) down N levels (default 1): the root and
each county. A union small enough to be counted on every request
(STATISTICS_LIVE_MAX_HOUSEHOLDS) needs no snapshot and is skipped."""

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import Unit
from reports.stats import Scope, default_period
from reports.stats_snapshot import build_snapshot, is_small


class Command(BaseCommand):
    help = "Rebuild this year's statistics snapshots of the root union and the unions below it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--unit", help="the union's code (default: the root union)")
        parser.add_argument(
            "--depth", type=int, default=1, help="levels below the union (default 1)"
        )
        parser.add_argument(
            "--language",
            action="append",
            choices=[code for code, _name in settings.LANGUAGES],
            help="language of the labels; repeat for several (default zh-hans)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["depth"] < 0:
            raise CommandError("--depth must be 0 or more")
        if options["unit"]:
            top = Unit.objects.filter(code=options["unit"]).first()
            if top is None:
                raise CommandError(f"no union with code {options['unit']!r}")
            tops = [top]
        else:
            tops = list(Unit.objects.filter(parent__isnull=True, is_active=True).order_by("path"))
            if not tops:
                raise CommandError("no root union yet")
        languages = options["language"] or [settings.LANGUAGE_CODE]
        start, end = default_period()
        units: list[Unit] = []
        for top in tops:
            units += Unit.objects.filter(
                path__startswith=top.path,
                depth__lte=top.depth + options["depth"],
                is_active=True,
            ).order_by("path")
        built = skipped = 0
        total = len(units) * len(languages)
        done = 0
        for unit in units:
            if is_small(unit):
                skipped += 1
                done += len(languages)
                self.stdout.write(f"[{done}/{total}] {unit.code} {unit.name}: small, counted live")
                continue
            for language in languages:
                done += 1
                began = time.monotonic()
                snapshot = build_snapshot(Scope(unit, start, end), lang=language)
                built += 1
                seconds = time.monotonic() - began
                self.stdout.write(
                    f"[{done}/{total}] {unit.code} {unit.name} {start}~{end} {language}: "
                    f"built in {seconds:.1f} s (as of {snapshot.built_at:%H:%M:%S})"
                )
        self.stdout.write(
            f"{built} snapshot(s) built, {skipped} union(s) small enough to count live."
        )
