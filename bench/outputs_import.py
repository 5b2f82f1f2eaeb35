"""Benchmark: the household import at 100,000 rows and the register
migration (建档迁移) at 100,000 households with 200,000 members, each against
a plain django-import-export ModelResource.

    .venv/bin/python bench/outputs_import.py [--rows N] [--plain-rows N]
        [--households N] [--plain-households N] [--only import|migrate]

Builds its own throw-away database like bench/list_households.py (SQLite in
a temporary directory, or the PostgreSQL database `hardship_bench_import`
when DATABASE_URL is set), writes an import file of N rows in the template's
layout (openpyxl write-only), and times, from the file on disk to the rows
committed:

- ours: `cases.services.imports.households_import` after `read_sheet`
  (every cell checked, bulk inserts, one transaction, one audit event);
- plain: a ModelResource for Household with the same headers mapped
  (ForeignKeyWidget by code/name, ManyToManyWidget for the secondary
  causes, `id_number` as the import id) through `import_data`, reading the
  same file with tablib. The plain one is timed on the first `--plain-rows`
  rows and its per-row time extrapolated; a note line says so.

The migration (`migrate_figures`) is timed the same way: a workbook of N
households (`--households`, default 100,000) each with 2 members (sheet
家庭成员) and one helper, read and checked by
`cases.services.migration.register_import` and written in one transaction;
`migrate_import_rows_per_s` counts the validated rows of both sheets
(households + members) per second, file on disk to commit. Beside it, plain
ModelResources for Household (the household headers plus file number,
filing date and status) and Member (joined to its head with a
ForeignKeyWidget on the ID number), timed on the first `--plain-households`
households and their members and extrapolated.

Each figure is printed as `name: value`; notes as `note: ...`.
`import_figures` returns them as (name, value) pairs for bench/outputs.py,
whose figure list runs them inside its own database (`--only import_100k`).
The bench file is openpyxl write-only output given the <dimension> element
Excel writes (see `_add_dimension`); its text is stored inline, where Excel
would use a shared-string table, which makes both readers a little slower.
"""

import argparse
import datetime
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import list_households
from list_households import configure

HEADERS = (
    "户主姓名", "身份证号", "联系电话", "所属工会", "工作单位", "家庭住址", "困难类别",
    "主要致困原因", "次要致困原因", "家庭人口", "家庭年收入", "年刚性支出", "开户银行",
    "银行账号", "备注",
)  # fmt: skip
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
# Marks the rows this benchmark imports, so that it removes only those.
EMPLOYER = "郑州纺织厂（导入压测）"
GIVEN = "秀兰建国玉梅志强丽娟海燕德明桂英文华春生"


def write_file(path: Path, rows: int, unit_codes: list[str]) -> float:
    """An import file of `rows` distinct, valid households; returns seconds."""
    from openpyxl import Workbook

    from cases import idnumber

    started = time.perf_counter()
    book = Workbook(write_only=True)
    sheet = book.create_sheet("困难职工")
    sheet.append(list(HEADERS))
    tiers, causes = ("特困", "困难", "边缘"), ("因病", "因残", "因学", "收入低", "下岗失业")
    base = datetime.date(1960, 1, 1)
    for i in range(rows):
        # 20,000 birth dates × sequence blocks: 100,000 distinct numbers.
        number = idnumber.make(
            "410105", base + datetime.timedelta(days=i % 20000), 500 + i // 20000 * 7
        )
        name = SURNAMES[i % 20] + GIVEN[i % 16] + GIVEN[(i // 16) % 16]
        sheet.append(
            [
                name, number, f"138{i:08d}", unit_codes[i % len(unit_codes)], EMPLOYER,
                f"河南省郑州市金水区文化路街道黄河社区{i % 50 + 1}号楼", tiers[i % 3],
                causes[i % 5], causes[(i + 1) % 5] if i % 4 == 0 else None, i % 5 + 1,
                f"{18000 + i % 9000}.50", 1200 + i % 3000, "中国工商银行",
                f"6222{i:015d}", None,
            ]
        )  # fmt: skip
    book.save(path)
    _add_dimension(path, rows + 1, len(HEADERS))
    return time.perf_counter() - started


def _add_dimension(path: Path, rows: int, columns: int) -> None:
    """Give the sheet the <dimension> element Excel and WPS always write.

    openpyxl's write-only mode leaves it out, and then every reader in
    read-only mode (ours, and tablib's under the plain resource) parses the
    whole sheet once more just to learn its size; an uploaded file would not
    make them do that.
    """
    import re
    import zipfile

    from openpyxl.utils import get_column_letter

    with zipfile.ZipFile(path) as source:
        parts = {info: source.read(info.filename) for info in source.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts.items():
            if info.filename.startswith("xl/worksheets/sheet"):
                dimension = f'<dimension ref="A1:{get_column_letter(columns)}{rows}"/>'.encode()
                # Before whichever of its successors in the schema comes first.
                data = re.sub(
                    rb"<(?=sheetViews|sheetFormatPr|cols|sheetData)",
                    dimension + b"<",
                    data,
                    count=1,
                )
            target.writestr(info, data)


def plain_resource_class() -> Any:
    """What django-import-export gives with the headers mapped and nothing more."""
    from import_export import fields, resources, widgets

    from accounts.models import Unit
    from cases import idnumber
    from cases.models import Cause, Household, Tier

    class PlainHouseholdResource(resources.ModelResource):
        name = fields.Field("name", "户主姓名", widgets.CharWidget())
        id_number = fields.Field("id_number", "身份证号", widgets.CharWidget())
        phone = fields.Field("phone", "联系电话", widgets.CharWidget())
        unit = fields.Field("unit", "所属工会", widgets.ForeignKeyWidget(Unit, "code"))
        employer = fields.Field("employer", "工作单位", widgets.CharWidget())
        address = fields.Field("address", "家庭住址", widgets.CharWidget())
        tier = fields.Field("tier", "困难类别", widgets.ForeignKeyWidget(Tier, "name"))
        main_cause = fields.Field(
            "main_cause", "主要致困原因", widgets.ForeignKeyWidget(Cause, "name")
        )
        secondary_causes = fields.Field(
            "secondary_causes", "次要致困原因", widgets.ManyToManyWidget(Cause, "、", "name")
        )
        household_size = fields.Field("household_size", "家庭人口", widgets.IntegerWidget())
        income_other = fields.Field("income_other", "家庭年收入", widgets.DecimalWidget())
        expense_medical = fields.Field("expense_medical", "年刚性支出", widgets.DecimalWidget())
        bank_name = fields.Field("bank_name", "开户银行", widgets.CharWidget())
        bank_account = fields.Field("bank_account", "银行账号", widgets.CharWidget())
        note = fields.Field("note", "备注", widgets.CharWidget())

        class Meta:
            model = Household
            import_id_fields = ("id_number",)
            fields = (
                "name", "id_number", "phone", "unit", "employer", "address", "tier",
                "main_cause", "secondary_causes", "household_size", "income_other",
                "expense_medical", "bank_name", "bank_account", "note",
            )  # fmt: skip

        def before_save_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
            info = idnumber.parse(instance.id_number)
            instance.birth_date, instance.sex = info.birth_date, info.sex

    return PlainHouseholdResource


def own_people() -> tuple[Any, list[str]]:
    """A union tree and a city-wide caseworker, for a run on its own."""
    from accounts.models import Membership, Role, User
    from accounts.services import unit_create

    city = unit_create(actor=None, code="410100", name="郑州市总工会", kind="city")
    codes = []
    for c in range(4):
        county = unit_create(
            actor=None, code=f"41010{c + 2}", name=f"第{c + 1}县区工会", kind="county", parent=city
        )
        codes.append(county.code)
        for g in range(3):
            unit = unit_create(
                actor=None,
                code=f"{county.code}00{g + 1}",
                name=f"{county.name}基层工会{g + 1}",
                kind="grassroots",
                parent=county,
            )
            codes.append(unit.code)
    actor = User.objects.create_user(username="bench_importer", full_name="导入干部")
    Membership.objects.create(user=actor, unit=city, role=Role.CASEWORKER)
    return actor, codes


def prepare(workdir: Path, rows: int, actor: Any, unit_codes: list[str]) -> dict[str, Any]:
    path = workdir / f"import_{rows}.xlsx"
    write_seconds = write_file(path, rows, unit_codes)
    return {"actor": actor, "path": path, "rows": rows, "write_seconds": write_seconds}


# The bench removes the audit events and status history its own runs wrote;
# everywhere else the database refuses to (accounts/append_only.py).
OWN_ROWS_TRIGGERS = (
    "accounts.AuditEvent:audit_append_only",
    "cases.StatusChange:status_change_append_only",
)


def _clear() -> None:
    """Remove what an import of the bench file wrote, and nothing else: the
    database may hold another benchmark's households."""
    import pgtrigger
    from django.db import transaction

    from accounts.models import AuditEvent
    from cases.models import Household

    with pgtrigger.ignore(*OWN_ROWS_TRIGGERS), transaction.atomic():
        Household.objects.filter(employer=EMPLOYER).delete()
        AuditEvent.objects.filter(action="household.import").delete()


def _count() -> int:
    from cases.models import Household

    return Household.objects.filter(employer=EMPLOYER).count()


def run_ours(context: dict[str, Any]) -> float:
    """Seconds from the file on disk to the committed rows."""
    from django.test.utils import override_settings

    from cases.import_sheet import read_sheet
    from cases.services.imports import households_import

    _clear()
    started = time.perf_counter()
    with override_settings(DEBUG=False), open(context["path"], "rb") as source:
        sheet = read_sheet(source, filename=context["path"].name)
        read_seconds = time.perf_counter() - started
        report = households_import(actor=context["actor"], rows=sheet)
    seconds = time.perf_counter() - started
    assert report.imported == context["rows"] == _count(), report.errors[:5]
    context["ours_read_seconds"] = read_seconds
    context["ours_seconds"] = seconds
    _clear()
    return seconds


def run_plain(context: dict[str, Any], rows: int) -> float:
    """Seconds per row for the plain resource on the file's first `rows` rows."""
    import tablib
    from django.test.utils import override_settings

    _clear()
    resource = plain_resource_class()()
    started = time.perf_counter()
    with override_settings(DEBUG=False):
        with open(context["path"], "rb") as source:
            dataset = tablib.Dataset().load(source.read(), format="xlsx")
        read_seconds = time.perf_counter() - started
        if rows < len(dataset):
            # Reading is timed on the whole file and charged per row below.
            del dataset[rows:]
        import_started = time.perf_counter()
        result = resource.import_data(dataset, dry_run=False, use_transactions=True)
        import_seconds = time.perf_counter() - import_started
    problems = [*result.base_errors, *(e for r in result.error_rows for e in r.errors)]
    problems += [r.error for r in result.invalid_rows]
    assert not problems, [getattr(p, "error", p) for p in problems[:3]]
    assert _count() == rows
    context["plain_rows"] = rows
    per_row = read_seconds / context["rows"] + import_seconds / rows
    context["plain_per_row"] = per_row
    _clear()
    return per_row


def figure_import_100k_rows_per_s(context: dict[str, Any]) -> float:
    if "ours_seconds" not in context:
        run_ours(context)
    return round(context["rows"] / context["ours_seconds"], 0)


def figure_import_speedup_vs_plain(context: dict[str, Any], plain_rows: int = 5000) -> float:
    if "ours_seconds" not in context:
        run_ours(context)
    if "plain_per_row" not in context:
        run_plain(context, min(plain_rows, context["rows"]))
    plain_total = context["plain_per_row"] * context["rows"]
    return round(plain_total / context["ours_seconds"], 1)


def import_figures(
    *, rows: int, actor: Any, unit_codes: list[str], plain_rows: int = 5000
) -> list[tuple[str, object]]:
    """Every import figure as (name, value) pairs, notes as ("note", text):
    the shape bench/outputs.py's figure list expects."""
    with tempfile.TemporaryDirectory(prefix="hardship-import-") as tmp:
        context = prepare(Path(tmp), rows, actor, unit_codes)
        figures: list[tuple[str, object]] = [
            ("import_rows", rows),
            ("import_file_mb", round(context["path"].stat().st_size / 1e6, 1)),
            ("import_file_write_s", round(context["write_seconds"], 1)),
            ("import_100k_rows_per_s", figure_import_100k_rows_per_s(context)),
            ("import_speedup_vs_plain", figure_import_speedup_vs_plain(context, plain_rows)),
            ("import_ours_s", round(context["ours_seconds"], 1)),
            ("import_ours_read_s", round(context["ours_read_seconds"], 1)),
            ("import_plain_s_per_1000_rows", round(context["plain_per_row"] * 1000, 2)),
        ]
    if context["plain_rows"] < rows:
        figures.append(
            (
                "note",
                f"the plain ModelResource was timed on the first {context['plain_rows']:,}"
                f" of the {rows:,} rows (its file read on all of them) and its per-row"
                " time extrapolated to the whole file.",
            )
        )
    return figures


# -- the register migration (建档迁移) ----------------------------------------------------

MIGRATE_EMPLOYER = "郑州纺织厂（迁移压测）"
REGISTER_EXTRA = (
    "档案编号", "建档日期", "档案分类", "档案状态", "退出日期", "退出原因", "最近走访日期",
    "帮扶人",
)  # fmt: skip
MEMBER_HEADERS = (
    "户主身份证号", "姓名", "与户主关系", "身份证号", "健康状况", "年收入", "就读学校", "年级",
)  # fmt: skip


def write_register_file(path: Path, households: int, unit_codes: list[str]) -> float:
    """A register of `households` distinct filed households (one in twenty
    exited), each with two members and one helper; returns seconds."""
    from openpyxl import Workbook

    from cases import idnumber

    started = time.perf_counter()
    book = Workbook(write_only=True)
    heads = book.create_sheet("困难职工")
    heads.append([*HEADERS, *REGISTER_EXTRA])
    members = book.create_sheet("家庭成员")
    members.append(list(MEMBER_HEADERS))
    tiers, causes = ("特困", "困难", "边缘"), ("因病", "因残", "因学", "收入低", "下岗失业")
    categories = ("大病职工", "帮扶助学", None, None)
    base, child_base = datetime.date(1960, 1, 1), datetime.date(1995, 1, 1)
    filed = datetime.date(2019, 3, 1)
    for i in range(households):
        # Heads, spouses and children from disjoint blocks of sequence numbers.
        block = 500 + i // 20000 * 7
        number = idnumber.make("410105", base + datetime.timedelta(days=i % 20000), block)
        spouse = idnumber.make("410105", base + datetime.timedelta(days=i % 20000), block + 2)
        child = idnumber.make("410106", child_base + datetime.timedelta(days=i % 8000),
                              500 + i // 8000 * 3)  # fmt: skip
        name = SURNAMES[i % 20] + GIVEN[i % 16] + GIVEN[(i // 16) % 16]
        exited = i % 20 == 0
        unit = unit_codes[i % len(unit_codes)]
        heads.append(
            [
                name, number, f"138{i:08d}", unit, MIGRATE_EMPLOYER,
                f"河南省郑州市金水区文化路街道黄河社区{i % 50 + 1}号楼", tiers[i % 3],
                causes[i % 5], causes[(i + 1) % 5] if i % 4 == 0 else None, 3,
                f"{18000 + i % 9000}.50", 1200 + i % 3000, "中国工商银行",
                f"6222{i:015d}", None,
                f"BENCH-{i:06d}", filed + datetime.timedelta(days=i % 1500),
                categories[i % 4], "已退出" if exited else "在档",
                datetime.date(2024, 6, 1) if exited else None,
                "脱困：收入稳定" if exited else None,
                datetime.date(2024, 3, 1) + datetime.timedelta(days=i % 200),
                f"帮扶人{i % 50}/工会干事/139{i % 50:08d}",
            ]
        )  # fmt: skip
        members.append([number, SURNAMES[(i + 3) % 20] + "秀英", "配偶", spouse, "健康",
                        "12000", None, None])  # fmt: skip
        members.append([number, name[0] + "小明", "子女", child, "健康", 0,
                        "郑州市第九中学", "高二"])  # fmt: skip
    book.save(path)
    return time.perf_counter() - started


def plain_register_resources() -> tuple[Any, Any]:
    """What django-import-export gives for the two sheets with the headers
    mapped and nothing more."""
    from import_export import fields, resources, widgets

    from cases import idnumber
    from cases.models import Household, Member

    base = plain_resource_class()

    class PlainRegisterResource(base):  # type: ignore[misc, valid-type]
        file_number = fields.Field("file_number", "档案编号", widgets.CharWidget())
        filed_on = fields.Field("filed_on", "建档日期", widgets.DateWidget())
        last_visited_on = fields.Field("last_visited_on", "最近走访日期", widgets.DateWidget())

        class Meta(base.Meta):
            fields = (*base.Meta.fields, "file_number", "filed_on", "last_visited_on")

        def before_save_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
            super().before_save_instance(instance, row, **kwargs)
            instance.status = "exited" if row.get("档案状态") == "已退出" else "filed"

    class PlainMemberResource(resources.ModelResource):
        household = fields.Field(
            "household", "户主身份证号", widgets.ForeignKeyWidget(Household, "id_number")
        )
        name = fields.Field("name", "姓名", widgets.CharWidget())
        relation = fields.Field("relation", "与户主关系", widgets.CharWidget())
        id_number = fields.Field("id_number", "身份证号", widgets.CharWidget())
        annual_income = fields.Field("annual_income", "年收入", widgets.DecimalWidget())
        school = fields.Field("school", "就读学校", widgets.CharWidget())
        grade = fields.Field("grade", "年级", widgets.CharWidget())

        class Meta:
            model = Member
            import_id_fields = ("id_number",)
            fields = ("household", "name", "relation", "id_number", "annual_income", "school",
                      "grade")  # fmt: skip

        def before_save_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
            info = idnumber.parse(instance.id_number)
            instance.birth_date, instance.sex = info.birth_date, info.sex
            instance.relation = {"配偶": "spouse", "子女": "child"}.get(instance.relation, "other")
            instance.school = instance.school or ""
            instance.grade = instance.grade or ""

    return PlainRegisterResource, PlainMemberResource


def own_migrator(actor: Any) -> Any:
    """The migration is a chair's: the bench's importer chairs the city."""
    from accounts.models import Membership, Role, Unit, User

    chair = User.objects.create_user(username="bench_migrator", full_name="迁移主席")
    Membership.objects.create(user=chair, unit=Unit.objects.get(code="410100"), role=Role.CHAIR)
    return chair


def _clear_migrated() -> None:
    import pgtrigger
    from django.db import transaction

    from accounts.models import AuditEvent
    from cases.models import HelperPerson, Household

    with pgtrigger.ignore(*OWN_ROWS_TRIGGERS), transaction.atomic():
        Household.objects.filter(employer=MIGRATE_EMPLOYER).delete()
        HelperPerson.objects.filter(name__startswith="帮扶人", post="工会干事").delete()
        AuditEvent.objects.filter(action="household.migrate").delete()


def run_migrate(context: dict[str, Any]) -> float:
    from django.test.utils import override_settings

    from cases.models import Household, Member
    from cases.services.migration import register_import

    _clear_migrated()
    from cases.migrate_sheet import read_register

    # Where the time goes: reading the workbook alone, then reading and
    # checking every cell (nothing written), then the whole import.
    started = time.perf_counter()
    with open(context["register_path"], "rb") as source:
        read_register(source)
    context["migrate_read_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    with override_settings(DEBUG=False):
        register_import(
            actor=context["chair"],
            path=context["register_path"],
            source_label="bench",
            check_only=True,
        )
    context["migrate_check_seconds"] = time.perf_counter() - started
    started = time.perf_counter()
    with override_settings(DEBUG=False):
        report = register_import(
            actor=context["chair"],
            path=context["register_path"],
            source_label="bench",
            check_only=False,
        )
    seconds = time.perf_counter() - started
    households = context["households"]
    assert report.ok, report.errors[:5]
    assert report.counts["households"] == households, report.counts
    assert Household.objects.filter(employer=MIGRATE_EMPLOYER).count() == households
    assert Member.objects.filter(household__employer=MIGRATE_EMPLOYER).count() == 2 * households
    context["migrate_seconds"] = seconds
    _clear_migrated()
    return seconds


def run_plain_migrate(context: dict[str, Any], households: int) -> float:
    """Seconds per row (households and members alike) for the plain resources
    on the first `households` households and their members."""
    import tablib
    from django.test.utils import override_settings
    from openpyxl import load_workbook

    _clear_migrated()
    household_resource, member_resource = (cls() for cls in plain_register_resources())
    started = time.perf_counter()
    with override_settings(DEBUG=False):
        book = load_workbook(context["register_path"], read_only=True)
        sheets = {}
        for title in ("困难职工", "家庭成员"):
            rows = book[title].iter_rows(values_only=True)
            header = next(rows)
            dataset = tablib.Dataset(headers=list(header))
            limit = households if title == "困难职工" else 2 * households
            total = 0
            for row in rows:
                total += 1
                if total <= limit:
                    # A read-only row ends at its last filled cell.
                    dataset.append((*row, *(None,) * len(header))[: len(header)])
            sheets[title] = (dataset, total)
        book.close()
        read_seconds = time.perf_counter() - started
        import_started = time.perf_counter()
        results = [
            household_resource.import_data(sheets["困难职工"][0], dry_run=False,
                                           use_transactions=True),
            member_resource.import_data(sheets["家庭成员"][0], dry_run=False,
                                        use_transactions=True),
        ]  # fmt: skip
        import_seconds = time.perf_counter() - import_started
    for result in results:
        problems = [*result.base_errors, *(e for r in result.error_rows for e in r.errors)]
        problems += [r.error for r in result.invalid_rows]
        assert not problems, [getattr(p, "error", p) for p in problems[:3]]
    all_rows = sheets["困难职工"][1] + sheets["家庭成员"][1]
    per_row = read_seconds / all_rows + import_seconds / (3 * households)
    context["plain_migrate_households"] = households
    context["plain_migrate_per_row"] = per_row
    _clear_migrated()
    return per_row


def migrate_figures(
    *, households: int, actor: Any, unit_codes: list[str], plain_households: int = 2000
) -> list[tuple[str, object]]:
    """The migration's figures as (name, value) pairs, notes as ("note", text)."""
    chair = own_migrator(actor)
    with tempfile.TemporaryDirectory(prefix="hardship-migrate-") as tmp:
        path = Path(tmp) / f"register_{households}.xlsx"
        write_seconds = write_register_file(path, households, unit_codes)
        context: dict[str, Any] = {"chair": chair, "register_path": path,
                                   "households": households}  # fmt: skip
        rows = 3 * households
        run_migrate(context)
        run_plain_migrate(context, min(plain_households, households))
        plain_total = context["plain_migrate_per_row"] * rows
        figures: list[tuple[str, object]] = [
            ("migrate_households", households),
            ("migrate_rows", rows),
            ("migrate_file_mb", round(path.stat().st_size / 1e6, 1)),
            ("migrate_file_write_s", round(write_seconds, 1)),
            ("migrate_import_rows_per_s", round(rows / context["migrate_seconds"], 0)),
            ("migrate_import_s", round(context["migrate_seconds"], 1)),
            ("migrate_read_s", round(context["migrate_read_seconds"], 1)),
            ("migrate_read_and_check_s", round(context["migrate_check_seconds"], 1)),
            ("migrate_plain_rows_per_s", round(1 / context["plain_migrate_per_row"], 0)),
            ("migrate_speedup_vs_plain", round(plain_total / context["migrate_seconds"], 1)),
        ]
    figures.append(
        (
            "note",
            "migrate_import_rows_per_s counts households and members (3 rows a household),"
            " file on disk to commit, every cell checked; target >= 10,000 on PostgreSQL.",
        )
    )
    if context["plain_migrate_households"] < households:
        figures.append(
            (
                "note",
                f"the plain ModelResources were timed on the first"
                f" {context['plain_migrate_households']:,} of the {households:,} households"
                " and their members (the file read whole) and their per-row time extrapolated.",
            )
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--plain-rows", type=int, default=5000)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--plain-households", type=int, default=2000)
    parser.add_argument("--only", choices=("import", "migrate"), default="")
    args = parser.parse_args()

    # Its own PostgreSQL database, so that it never drops one another
    # benchmark is using at the same moment.
    list_households.BENCH_DB = "hardship_bench_import"
    with tempfile.TemporaryDirectory(prefix="hardship-bench-") as tmp:
        engine = configure(Path(tmp))
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0)
        actor, codes = own_people()
        print(f"database: {engine}")
        figures: list[tuple[str, object]] = []
        if args.only != "migrate":
            figures += import_figures(
                rows=args.rows, actor=actor, unit_codes=codes, plain_rows=args.plain_rows
            )
        for name, value in figures:
            print(f"{name}: {value}", flush=True)
        if args.only != "import":
            for name, value in migrate_figures(
                households=args.households,
                actor=actor,
                unit_codes=codes,
                plain_households=args.plain_households,
            ):
                print(f"{name}: {value}", flush=True)
        connections.close_all()


if __name__ == "__main__":
    main()
