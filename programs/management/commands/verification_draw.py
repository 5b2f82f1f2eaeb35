"""`manage.py verification_draw [--month YYYY-MM]`

Draws the monthly 回访 sample of single payments (those not paid in a
batch) for every union that made any in the month, default last month.
Run it early each month (cron or a systemd timer). A union's month is drawn
once: running it again, or after a chair's button, changes nothing and
prints the draw already made.
"""

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from programs.services import verification


class Command(BaseCommand):
    help = (
        "对上月（或 --month 指定月份）的单笔发放按比例随机抽取回访家庭；同一工会同一月份只抽一次。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--month", default="", help="抽样月份，如 2026-11（默认上月）")

    def handle(self, *args: Any, **options: Any) -> None:
        text = options["month"].strip()
        if text:
            try:
                month = datetime.datetime.strptime(text, "%Y-%m").date()
            except ValueError:
                raise CommandError(f"月份格式应为 2026-11：{text}") from None
        else:
            month = verification.previous_month()
        units = verification.units_with_single_payments(month)
        if not units:
            self.stdout.write(f"{month:%Y-%m} 没有单笔发放，无需抽样。")
            return
        for unit in units:
            try:
                sample, drawn = verification.sample_draw_month(actor=None, unit=unit, month=month)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            if sample is None:
                continue
            state = "已抽样" if drawn else "此前已抽样"
            self.stdout.write(
                f"{unit.name} {month:%Y-%m}：{state}，{len(sample.population)} 笔中抽查 "
                f"{sample.size} 户，种子 {sample.seed}"
            )
