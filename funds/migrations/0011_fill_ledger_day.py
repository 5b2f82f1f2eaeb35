"""Fill LedgerDay from the ledger entries already in the books."""

from django.db import migrations


def fill(apps, schema_editor):
    from funds.summary import rebuild

    rebuild(
        entry_model=apps.get_model("funds", "LedgerEntry"),
        day_model=apps.get_model("funds", "LedgerDay"),
        using=schema_editor.connection.alias,
    )


def empty(apps, schema_editor):
    apps.get_model("funds", "LedgerDay").objects.using(schema_editor.connection.alias).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0010_ledger_day"),
        # The line of an aid payment is its application's program, reached
        # through programs.AidPayment.entry.
        ("programs", "0013_application_awaiting_idx"),
    ]

    operations = [migrations.RunPython(fill, empty)]
