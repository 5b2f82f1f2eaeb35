"""Default file categories, and a roster entry for every helper paired so far.

Until now a helper was a login; each (union of the household, login) pair
becomes one roster person, and every pairing points at it."""

from django.db import migrations

DEFAULT_CATEGORIES = ["大病职工", "帮扶助学", "单亲家庭", "劳模", "农民工"]


def seed_categories(apps, schema_editor):
    FileCategory = apps.get_model("cases", "FileCategory")
    for order, name in enumerate(DEFAULT_CATEGORIES, start=1):
        FileCategory.objects.get_or_create(name=name, defaults={"sort_order": order})


def unseed_categories(apps, schema_editor):
    FileCategory = apps.get_model("cases", "FileCategory")
    FileCategory.objects.filter(name__in=DEFAULT_CATEGORIES, households__isnull=True).delete()


def backfill_roster(apps, schema_editor):
    Helper = apps.get_model("cases", "Helper")
    HelperPerson = apps.get_model("cases", "HelperPerson")
    people: dict[tuple[int, int], int] = {}
    pairings = Helper.objects.filter(person__isnull=True).select_related("user", "household")
    for helper in pairings.iterator():
        key = (helper.household.unit_id, helper.user_id)
        if key not in people:
            user = helper.user
            person, _ = HelperPerson.objects.get_or_create(
                unit_id=key[0],
                user_id=key[1],
                defaults={"name": user.full_name or user.username, "phone": user.phone},
            )
            people[key] = person.pk
        Helper.objects.filter(pk=helper.pk).update(person_id=people[key])


def unfill_roster(apps, schema_editor):
    Helper = apps.get_model("cases", "Helper")
    Helper.objects.update(person=None)


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_file_categories_helper_roster_migration_fields")]

    operations = [
        migrations.RunPython(seed_categories, unseed_categories),
        migrations.RunPython(backfill_roster, unfill_roster),
    ]
