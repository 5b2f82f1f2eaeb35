"""household_unit_id_idx: a union's files newest first (scoped lists).

On PostgreSQL the index is created IF NOT EXISTS: a large database may have
been given it beforehand with CREATE INDEX CONCURRENTLY (no write lock while
a million rows are indexed), under this same name."""

from typing import Any

from django.conf import settings
from django.db import migrations, models

INDEX = models.Index(fields=["unit", "-id"], name="household_unit_id_idx")


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'CREATE INDEX IF NOT EXISTS "household_unit_id_idx"'
            ' ON "cases_household" ("unit_id", "id" DESC)'
        )
    else:
        schema_editor.add_index(apps.get_model("cases", "Household"), INDEX)


def drop(apps: Any, schema_editor: Any) -> None:
    schema_editor.remove_index(apps.get_model("cases", "Household"), INDEX)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_audit_append_only"),
        ("cases", "0012_status_change_append_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="household", index=INDEX)],
            database_operations=[migrations.RunPython(create, drop)],
        ),
    ]
