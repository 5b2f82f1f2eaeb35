"""`manage.py generate_households --count N [--unit CODE] [--seed S]`

Bulk-inserts generated households (with members and secondary causes) for
load tests and benchmarks. ID numbers continue a running index past every
existing file, so repeated runs never collide with each other or with real
files (each batch is checked against the table before it is written).
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test.utils import override_settings

from accounts.models import Unit
from demo.bulk import households_insert


class Command(BaseCommand):
    help = "批量生成模拟困难职工家庭档案（含家庭成员），用于压力测试和性能测试。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--count", type=int, required=True, help="生成的户数")
        parser.add_argument("--unit", default="", help="只在该工会（单位代码）及其下级中生成")
        parser.add_argument("--seed", type=int, default=1, help="随机种子（相同种子生成相同数据）")
        parser.add_argument("--batch-size", type=int, default=2000, help="每批插入的户数")
        parser.add_argument(
            "--force", action="store_true", help="在 DEBUG=False 的环境中也执行（仅限压测库）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["force"]:
            # Fake files in a real database would end up in statistics and
            # public notices; a load-test database says so with --force.
            raise CommandError(
                "当前 DEBUG=False（生产配置），拒绝写入模拟档案。如确是压测库，请加 --force。"
            )
        count: int = options["count"]
        if count < 1:
            raise CommandError("--count 必须为正整数。")
        units = self._units(options["unit"])
        self.stdout.write(f"在 {len(units)} 个工会中生成 {count} 户档案……")

        def progress(done: int, total: int, seconds: float) -> None:
            rate = done / seconds if seconds else 0.0
            self.stdout.write(
                f"  已插入 {done}/{total} 户（{done * 100 // total}%），"
                f"用时 {seconds:.1f} 秒，{rate:,.0f} 户/秒"
            )

        # With DEBUG on, Django quotes and keeps every statement for
        # connection.queries: a fifth of the run time at 100,000 households,
        # for a log nobody reads here.
        with override_settings(DEBUG=False):
            report = households_insert(
                count=count,
                units=units,
                seed=options["seed"],
                batch_size=max(1, options["batch_size"]),
                progress=progress,
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"完成：{report.households} 户、{report.members} 名家庭成员，"
                f"用时 {report.seconds:.1f} 秒。"
            )
        )

    def _units(self, code: str) -> list[Unit]:
        units = Unit.objects.filter(is_active=True)
        if code:
            root = Unit.objects.filter(code=code).first()
            if root is None:
                raise CommandError(f"没有单位代码为“{code}”的工会。")
            units = units.filter(path__startswith=root.path)
        found = list(units.order_by("path"))
        if not found:
            raise CommandError("没有可用的工会：请先运行 seed_demo 或在系统管理中创建工会。")
        return found
