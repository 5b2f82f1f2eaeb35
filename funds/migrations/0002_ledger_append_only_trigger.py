"""On PostgreSQL the database itself refuses to change or remove a ledger row.

Row-level triggers only: TRUNCATE (used to reset test databases) is not a
row operation. SQLite is left to the services, because Django's test flush
there deletes rows one table at a time.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION funds_ledger_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'funds_ledgerentry is append-only: ' || TG_OP
            || ' refused (correct a mistake with a reversing entry)',
        ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER funds_ledger_no_update BEFORE UPDATE ON funds_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION funds_ledger_append_only();
CREATE TRIGGER funds_ledger_no_delete BEFORE DELETE ON funds_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION funds_ledger_append_only();
"""
DROP = """
DROP TRIGGER IF EXISTS funds_ledger_no_update ON funds_ledgerentry;
DROP TRIGGER IF EXISTS funds_ledger_no_delete ON funds_ledgerentry;
DROP FUNCTION IF EXISTS funds_ledger_append_only();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("funds", "0001_funds_and_ledger")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
