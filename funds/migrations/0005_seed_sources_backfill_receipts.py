"""The default income sources, and a source for every receipt already written.

A receipt so far took its fund's single source; it keeps that source now that
a fund may be fed by many. The ledger is append-only, so on PostgreSQL its
update trigger is set aside for this one backfill."""

from django.db import migrations

DEFAULT_SOURCES = [
    ("admin_allocation", "行政划拨"),
    ("higher_grant", "上级拨款"),
    ("donation", "捐款"),
    ("premium", "互助会费"),
    ("civil_affairs", "民政资金"),
    ("enterprise", "企业注资"),
    ("economic_entity", "经济实体"),
    ("individual", "个人捐助"),
    ("other", "其他"),
]
# The fund's old single source, by its stored value, to the new list's code.
OLD_TO_CODE = {
    "admin_allocation": "admin_allocation",
    "higher_grant": "higher_grant",
    "donation": "donation",
    "mutual_aid": "premium",
    "civil_affairs": "civil_affairs",
    "enterprise": "enterprise",
    "other": "other",
}
RECEIPTS = ("receipt", "donation")


def seed_and_backfill(apps, schema_editor):
    IncomeSource = apps.get_model("funds", "IncomeSource")
    Fund = apps.get_model("funds", "Fund")
    LedgerEntry = apps.get_model("funds", "LedgerEntry")
    by_code = {}
    for order, (code, name) in enumerate(DEFAULT_SOURCES, start=1):
        source, _ = IncomeSource.objects.get_or_create(
            code=code, defaults={"name": name, "sort_order": order}
        )
        by_code[code] = source
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute("ALTER TABLE funds_ledgerentry DISABLE TRIGGER funds_ledger_no_update")
    for fund in Fund.objects.all().only("pk", "source"):
        source = by_code[OLD_TO_CODE.get(fund.source, "other")]
        LedgerEntry.objects.filter(fund=fund, kind__in=RECEIPTS, source__isnull=True).update(
            source=source
        )
    if postgres:
        schema_editor.execute("ALTER TABLE funds_ledgerentry ENABLE TRIGGER funds_ledger_no_update")


def unseed(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    LedgerEntry = apps.get_model("funds", "LedgerEntry")
    if postgres:
        schema_editor.execute("ALTER TABLE funds_ledgerentry DISABLE TRIGGER funds_ledger_no_update")
    LedgerEntry.objects.update(source=None)
    if postgres:
        schema_editor.execute("ALTER TABLE funds_ledgerentry ENABLE TRIGGER funds_ledger_no_update")
    apps.get_model("funds", "IncomeSource").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("funds", "0004_income_sources_payer_value_dates")]

    operations = [migrations.RunPython(seed_and_backfill, unseed)]
