"""The payment queue's indexes, on approved applications only: by id (the
queue's order), by program and id (one program's queue) and by household (one
union's queue, through its households).

On PostgreSQL the indexes are created IF NOT EXISTS: a large database may have
been given them beforehand with CREATE INDEX CONCURRENTLY under these names."""

from typing import Any

from django.db import migrations, models

APPROVED = models.Q(status="approved")
INDEXES = [
    models.Index(fields=["id"], name="application_payable_idx", condition=APPROVED),
    models.Index(fields=["program", "id"], name="application_payable_prog_idx", condition=APPROVED),
    models.Index(fields=["household"], name="application_payable_house_idx", condition=APPROVED),
]
COLUMNS = {
    "application_payable_idx": '"id"',
    "application_payable_prog_idx": '"program_id", "id"',
    "application_payable_house_idx": '"household_id"',
}


def create(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("programs", "Application")
    for index in INDEXES:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f'CREATE INDEX IF NOT EXISTS "{index.name}" ON "programs_application"'
                f" ({COLUMNS[index.name]}) WHERE \"status\" = 'approved'"
            )
        else:
            schema_editor.add_index(model, index)


def drop(apps: Any, schema_editor: Any) -> None:
    model = apps.get_model("programs", "Application")
    for index in reversed(INDEXES):
        schema_editor.remove_index(model, index)


class Migration(migrations.Migration):
    dependencies = [
        ("programs", "0013_application_awaiting_idx"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(model_name="application", index=index) for index in INDEXES
            ],
            database_operations=[migrations.RunPython(create, drop)],
        ),
    ]
