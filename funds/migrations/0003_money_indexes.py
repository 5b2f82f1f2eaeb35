"""Ledger indexes for funds with tens of thousands of entries.

A fund's balance read from an index: before every payment the ledger sums
all of the fund's entries (amount × direction) under the fund lock, and the
fund list and payment screens show every fund's totals. With the amount in
the index those sums no longer read the wide ledger rows. A fund's donations
(the campaign sums on its page) are found by kind instead of by reading the
whole fund (bench/money.py, docs/benchmarks.md)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("funds", "0002_ledger_append_only_trigger"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(
                fields=["fund", "direction", "amount"], name="ledger_fund_balance_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="ledgerentry",
            index=models.Index(fields=["fund", "kind"], name="ledger_fund_kind_idx"),
        ),
    ]
