"""The ledger's append-only trigger, now declared on the model (pgtrigger,
accounts/append_only.py).

The hand-written trigger and function of 0002 are dropped first; the
pgtrigger one refuses the same statements. PostgreSQL only, as before.
"""

from importlib import import_module

import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations

hand_written = import_module("funds.migrations.0002_ledger_append_only_trigger")


def drop_hand_written(apps, schema_editor):
    hand_written.drop_triggers(apps, schema_editor)


def restore_hand_written(apps, schema_editor):
    hand_written.create_triggers(apps, schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ('funds', '0008_english_names_of_defaults'),
    ]

    operations = [
        migrations.RunPython(drop_hand_written, restore_hand_written),
        pgtrigger.migrations.AddTrigger(
            model_name='ledgerentry',
            trigger=pgtrigger.compiler.Trigger(name='ledger_append_only', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION '% is append-only: % refused (correct a mistake with a new row)', TG_TABLE_NAME, TG_OP;", hash='afe9524552646fcac80c2d4e1a7d01057eee399b', operation='UPDATE OR DELETE', pgid='pgtrigger_ledger_append_only_16af5', table='funds_ledgerentry', when='BEFORE')),
        ),
    ]
