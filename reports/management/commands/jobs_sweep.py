"""Mark failed the background jobs whose worker died, so their owners see
the failure (and a 重新开始 button) even before they open the job page.
Meant for cron, e.g. every 5 minutes."""

from typing import Any

from django.core.management.base import BaseCommand

from reports.jobs import jobs_mark_stale, stale_after


class Command(BaseCommand):
    help = "Mark failed the running jobs with no progress for JOB_STALE_AFTER_MINUTES."

    def handle(self, *args: Any, **options: Any) -> None:
        marked = jobs_mark_stale()
        minutes = int(stale_after().total_seconds() // 60)
        self.stdout.write(f"{marked} stale job(s) marked failed (no progress for {minutes} min).")
