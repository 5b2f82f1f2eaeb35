"""English names for the default tiers, causes and file categories seeded by
0002 and 0008. A row an administrator renamed, or already gave an English
name, is left as it is."""

from django.db import migrations

TIERS = {"特困": "Extreme hardship", "困难": "Hardship", "边缘": "Marginal"}
CAUSES = {
    "因病": "Illness",
    "因残": "Disability",
    "因学": "Education costs",
    "收入低": "Low income",
    "下岗失业": "Laid off or unemployed",
    "意外事故": "Accident",
    "自然灾害": "Natural disaster",
    "其他": "Other",
}
CATEGORIES = {
    "大病职工": "Serious illness",
    "帮扶助学": "Education aid",
    "单亲家庭": "Single-parent family",
    "劳模": "Model worker",
    "农民工": "Migrant worker",
}
LISTS = (("Tier", TIERS), ("Cause", CAUSES), ("FileCategory", CATEGORIES))


def name_defaults(apps, schema_editor=None):
    for model, names in LISTS:
        rows = apps.get_model("cases", model).objects
        for name, english in names.items():
            rows.filter(name=name, name_en="").update(name_en=english)


def unname_defaults(apps, schema_editor):
    for model, names in LISTS:
        rows = apps.get_model("cases", model).objects
        for name, english in names.items():
            rows.filter(name=name, name_en=english).update(name_en="")


class Migration(migrations.Migration):
    dependencies = [("cases", "0010_english_names")]

    operations = [migrations.RunPython(name_defaults, unname_defaults)]
