"""Compare the database's settings with what the product needs.
See accounts/dbcheck.py for the rules and docs/operations.md for the reasons."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.utils.translation import gettext as _

from accounts import dbcheck
from config.env import env


class Command(BaseCommand):
    help = (
        "Check the database settings the product needs (JIT, random_page_cost, work_mem, "
        "connections for the pool sizes) and print the SQL that fixes each one that is off."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default", help="database alias")
        parser.add_argument(
            "--app-servers",
            type=int,
            default=env.int("APP_SERVERS", default=1),
            help="app servers sharing this database (env APP_SERVERS, default 1)",
        )
        parser.add_argument(
            "--web-workers",
            type=int,
            default=env.int("WEB_CONCURRENCY", default=4),
            help="gunicorn worker processes per app server (env WEB_CONCURRENCY, default 4)",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=env.int("GUNICORN_THREADS", default=1),
            help="threads per gunicorn worker; counts only without the connection pool",
        )
        parser.add_argument(
            "--job-workers",
            type=int,
            default=env.int("JOB_WORKERS", default=1),
            help="`manage.py db_worker` processes on all servers (env JOB_WORKERS, default 1)",
        )
        parser.add_argument(
            "--fail-on-warning",
            action="store_true",
            help="exit with status 1 when any check warns",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        minimums = {"app_servers": 1, "web_workers": 1, "threads": 1, "job_workers": 0}
        for name, least in minimums.items():
            if options[name] < least:
                raise CommandError(
                    _("--%(option)s 不能小于 %(least)d。")
                    % {"option": name.replace("_", "-"), "least": least}
                )
        alias = options["database"]
        if alias not in settings.DATABASES:
            raise CommandError(_("没有名为“%(alias)s”的数据库。") % {"alias": alias})
        connection = connections[alias]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                findings = dbcheck.postgres_findings(
                    cursor,
                    database=settings.DATABASES[alias],
                    app_servers=options["app_servers"],
                    web_workers=options["web_workers"],
                    job_workers=options["job_workers"],
                    threads=options["threads"],
                )
            elif connection.vendor == "sqlite":
                findings = dbcheck.sqlite_findings(cursor)
            else:
                raise CommandError(
                    _("不支持的数据库：%(vendor)s。") % {"vendor": connection.vendor}
                )
        for finding in findings:
            line = dbcheck.format_finding(finding)
            if finding.status == dbcheck.WARNING:
                self.stdout.write(self.style.WARNING(line))
            else:
                self.stdout.write(line)
        warnings = sum(finding.status == dbcheck.WARNING for finding in findings)
        if warnings:
            self.stdout.write(_("共 %(n)d 项警告。") % {"n": warnings})
            if options["fail_on_warning"]:
                raise CommandError(_("有 %(n)d 项警告。") % {"n": warnings}, returncode=1)
        else:
            self.stdout.write(_("全部检查正常。"))
