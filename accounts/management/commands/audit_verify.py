"""Walk every hash chain and name the first row that does not match
(accounts/chain.py). Exit status 1 when any chain has one."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from accounts.chain import chain_name, chain_verify, chained_models


class Command(BaseCommand):
    help = (
        "Verify the hash chains of the audit trail, status histories, decisions, votes and "
        "ledger, and their daily digests; name the first row that does not match."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--database", default="default", help="database alias")
        parser.add_argument("--chunk", type=int, default=5000, help="rows read per round trip")
        parser.add_argument("--chain", action="append", help="only this chain (repeatable)")

    def handle(self, *args: Any, **options: Any) -> None:
        wanted = set(options["chain"] or [])
        failed = []
        for model in chained_models():
            name = chain_name(model)
            if wanted and name not in wanted:
                continue
            report = chain_verify(model, using=options["database"], chunk=options["chunk"])
            rate = report.rows / report.seconds if report.seconds else 0.0
            line = _(
                "%(chain)s：%(rows)s 行，%(digests)s 个每日摘要，%(redacted)s 行经匿名化，"
                "%(seconds).1f 秒（每秒 %(rate).0f 行）"
            ) % {
                "chain": name,
                "rows": report.rows,
                "digests": report.digests,
                "redacted": report.redacted,
                "seconds": report.seconds,
                "rate": rate,
            }
            if report.finding is None:
                self.stdout.write(line)
            else:
                failed.append(report.finding)
                self.stdout.write(line)
                self.stdout.write(
                    _("不符：表 %(table)s，序号 %(seq)s，编号 %(id)s：%(reason)s")
                    % {
                        "table": model._meta.db_table,
                        "seq": report.finding.seq,
                        "id": report.finding.row_id,
                        "reason": report.finding.reason,
                    }
                )
        if failed:
            raise CommandError(_("审计链核验未通过：%(n)s 条链有不符的行。") % {"n": len(failed)})
        self.stdout.write(_("审计链核验通过。"))
