"""application_awaiting_idx: applications waiting for a chair, newest first.

On PostgreSQL the index is created IF NOT EXISTS: a large database may have
been given it beforehand with CREATE INDEX CONCURRENTLY under this name."""

from typing import Any

from django.db import migrations, models

INDEX = models.Index(
    fields=["-drafted_at", "-id"],
    name="application_awaiting_idx",
    condition=models.Q(status__in=["pending", "pending_parent"]),
)


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'CREATE INDEX IF NOT EXISTS "application_awaiting_idx" ON "programs_application"'
            ' ("drafted_at" DESC, "id" DESC)'
            " WHERE \"status\" IN ('pending', 'pending_parent')"
        )
    else:
        schema_editor.add_index(apps.get_model("programs", "Application"), INDEX)


def drop(apps: Any, schema_editor: Any) -> None:
    schema_editor.remove_index(apps.get_model("programs", "Application"), INDEX)


class Migration(migrations.Migration):
    dependencies = [
        ("programs", "0012_backfill_application_history"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="application", index=INDEX)],
            database_operations=[migrations.RunPython(create, drop)],
        ),
    ]
