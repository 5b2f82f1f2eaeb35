"""English names for the default income sources seeded by 0005, by code. A
source an administrator already gave an English name keeps it."""

from django.db import migrations

SOURCES = {
    "admin_allocation": "Administrative allocation",
    "higher_grant": "Grant from a higher union",
    "donation": "Donations",
    "premium": "Mutual-aid premiums",
    "civil_affairs": "Civil affairs funds",
    "enterprise": "Enterprise contributions",
    "economic_entity": "Union enterprises",
    "individual": "Individual donations",
    "other": "Other",
}


def name_defaults(apps, schema_editor=None):
    IncomeSource = apps.get_model("funds", "IncomeSource")
    for code, english in SOURCES.items():
        IncomeSource.objects.filter(code=code, name_en="").update(name_en=english)


def unname_defaults(apps, schema_editor):
    IncomeSource = apps.get_model("funds", "IncomeSource")
    for code, english in SOURCES.items():
        IncomeSource.objects.filter(code=code, name_en=english).update(name_en="")


class Migration(migrations.Migration):
    dependencies = [("funds", "0007_english_names")]

    operations = [migrations.RunPython(name_defaults, unname_defaults)]
