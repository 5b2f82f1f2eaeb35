"""household_file_number_idx: a file number typed into the search box.

A search of digits looks for an ID number prefix, a phone prefix or a file
number; without an index of its own the file number turned the three into
a scan of every household (480 ms at a million). On PostgreSQL the index is
created IF NOT EXISTS, so it may be built beforehand with CREATE INDEX
CONCURRENTLY under this name."""

from typing import Any

from django.db import migrations, models

INDEX = models.Index(fields=["file_number"], name="household_file_number_idx")


def create(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            'CREATE INDEX IF NOT EXISTS "household_file_number_idx"'
            ' ON "cases_household" ("file_number")'
        )
    else:
        schema_editor.add_index(apps.get_model("cases", "Household"), INDEX)


def drop(apps: Any, schema_editor: Any) -> None:
    schema_editor.remove_index(apps.get_model("cases", "Household"), INDEX)


class Migration(migrations.Migration):
    dependencies = [("cases", "0013_household_unit_id_idx")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex(model_name="household", index=INDEX)],
            database_operations=[migrations.RunPython(create, drop)],
        ),
    ]
