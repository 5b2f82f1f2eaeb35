from django.db import migrations

DEFAULT_TIERS = [
    ("特困", "deep", 10),
    ("困难", "relative", 20),
    ("边缘", "edge", 30),
]
DEFAULT_CAUSES = ["因病", "因残", "因学", "收入低", "下岗失业", "意外事故", "自然灾害", "其他"]


def seed_defaults(apps, schema_editor):
    Tier = apps.get_model("cases", "Tier")
    Cause = apps.get_model("cases", "Cause")
    for name, national, order in DEFAULT_TIERS:
        Tier.objects.get_or_create(
            name=name, defaults={"national_category": national, "sort_order": order}
        )
    for order, name in enumerate(DEFAULT_CAUSES, start=1):
        Cause.objects.get_or_create(name=name, defaults={"sort_order": order * 10})


def remove_defaults(apps, schema_editor):
    Tier = apps.get_model("cases", "Tier")
    Cause = apps.get_model("cases", "Cause")
    Tier.objects.filter(name__in=[t[0] for t in DEFAULT_TIERS], households__isnull=True).delete()
    Cause.objects.filter(
        name__in=DEFAULT_CAUSES, main_households__isnull=True, secondary_households__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(seed_defaults, remove_defaults)]
