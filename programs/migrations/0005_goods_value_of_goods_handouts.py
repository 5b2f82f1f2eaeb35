"""A handout of a goods program was wholly goods: its goods part is its amount."""

from django.db import migrations
from django.db.models import F


def fill(apps, schema_editor):
    Application = apps.get_model("programs", "Application")
    AidPayment = apps.get_model("programs", "AidPayment")
    Application.objects.filter(program__kind="goods").update(goods_value=F("amount"))
    AidPayment.objects.filter(application__program__kind="goods").update(goods_value=F("amount"))


def unfill(apps, schema_editor):
    apps.get_model("programs", "Application").objects.update(goods_value=0)
    apps.get_model("programs", "AidPayment").objects.update(goods_value=0)


class Migration(migrations.Migration):
    dependencies = [("programs", "0004_file_categories_cash_and_goods_migrated_aid")]

    operations = [migrations.RunPython(fill, unfill)]
