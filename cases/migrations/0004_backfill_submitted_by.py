from django.db import migrations
from django.db.models import F


def submitted_by_creator(apps, schema_editor):
    # Files opened before intake steps existed were put forward by their creator.
    Household = apps.get_model("cases", "Household")
    Household.objects.filter(submitted_by__isnull=True).update(submitted_by=F("created_by"))


def noop(apps, schema_editor):
    """Nothing to undo: the column goes away with the previous migration."""


class Migration(migrations.Migration):
    dependencies = [("cases", "0003_intake_workflow_and_follow_up")]

    operations = [migrations.RunPython(submitted_by_creator, noop)]
