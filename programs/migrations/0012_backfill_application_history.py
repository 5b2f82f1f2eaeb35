"""One history row per application that existed before status history was
kept: its status at the time, dated when it was drafted. Earlier steps were
not recorded and are not made up."""

from django.db import migrations

CHUNK = 2000
REASON = "启用申请状态记录时的状态（此前的变更未记录）"


def backfill(apps, schema_editor):
    Application = apps.get_model("programs", "Application")
    Change = apps.get_model("programs", "ApplicationStatusChange")
    rows = Application.objects.order_by("pk").values_list(
        "pk", "status", "drafted_by_id", "drafted_at"
    )
    batch = []
    for pk, status, actor_id, at in rows.iterator(chunk_size=CHUNK):
        batch.append(
            Change(
                application_id=pk,
                from_status="",
                to_status=status,
                actor_id=actor_id,
                at=at,
                reason=REASON,
            )
        )
        if len(batch) >= CHUNK:
            Change.objects.bulk_create(batch)
            batch = []
    Change.objects.bulk_create(batch)


class Migration(migrations.Migration):
    dependencies = [("programs", "0011_application_history_and_returns")]

    # Unapplied, the rows go with the table when 0011 is unapplied: the
    # table is append-only, so they are not deleted one by one.
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
