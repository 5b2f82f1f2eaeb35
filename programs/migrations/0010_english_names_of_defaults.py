"""English names for the default claim categories seeded by 0007, by code. A
category an administrator already gave an English name keeps it."""

from django.db import migrations

CATEGORIES = {
    "school": "Children's schooling",
    "medical": "Illness and medical care",
    "wedding_funeral": "Weddings and funerals",
    "other": "Other",
}


def name_defaults(apps, schema_editor=None):
    ClaimCategory = apps.get_model("programs", "ClaimCategory")
    for code, english in CATEGORIES.items():
        ClaimCategory.objects.filter(code=code, name_en="").update(name_en=english)


def unname_defaults(apps, schema_editor):
    ClaimCategory = apps.get_model("programs", "ClaimCategory")
    for code, english in CATEGORIES.items():
        ClaimCategory.objects.filter(code=code, name_en=english).update(name_en="")


class Migration(migrations.Migration):
    dependencies = [("programs", "0009_english_names")]

    operations = [migrations.RunPython(name_defaults, unname_defaults)]
