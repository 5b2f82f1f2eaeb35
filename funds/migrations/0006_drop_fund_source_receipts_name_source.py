"""A fund no longer has one source: each receipt names its own (0004, 0005).

Receipts still without a source (written after 0005 ran, by code that did not
name one) take their fund's old single source first, so the new constraint
that every receipt names a source holds for the rows already there."""

from django.db import migrations, models

RECEIPTS = ("receipt", "donation")
# The fund's old single source, by its stored value, to the list's code (as 0005).
OLD_TO_CODE = {"mutual_aid": "premium"}


def name_remaining_sources(apps, schema_editor):
    IncomeSource = apps.get_model("funds", "IncomeSource")
    Fund = apps.get_model("funds", "Fund")
    LedgerEntry = apps.get_model("funds", "LedgerEntry")
    pending = LedgerEntry.objects.filter(kind__in=RECEIPTS, source__isnull=True)
    if not pending.exists():
        return
    by_code = {s.code: s for s in IncomeSource.objects.exclude(code=None)}
    fallback = by_code.get("other") or IncomeSource.objects.create(
        name="其他", code="other", sort_order=99
    )
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute("ALTER TABLE funds_ledgerentry DISABLE TRIGGER funds_ledger_no_update")
    fund_ids = pending.values_list("fund_id", flat=True).distinct()
    for fund in Fund.objects.filter(pk__in=fund_ids).only("pk", "source"):
        source = by_code.get(OLD_TO_CODE.get(fund.source, fund.source)) or fallback
        pending.filter(fund=fund).update(source=source)
    if postgres:
        schema_editor.execute("ALTER TABLE funds_ledgerentry ENABLE TRIGGER funds_ledger_no_update")


class Migration(migrations.Migration):
    dependencies = [("funds", "0005_seed_sources_backfill_receipts")]

    operations = [
        migrations.RunPython(name_remaining_sources, migrations.RunPython.noop),
        migrations.RemoveField(model_name="fund", name="source"),
        migrations.AddConstraint(
            model_name="ledgerentry",
            constraint=models.CheckConstraint(
                condition=~models.Q(kind__in=["receipt", "donation"])
                | models.Q(source__isnull=False),
                name="ledger_receipt_names_source",
            ),
        ),
    ]
