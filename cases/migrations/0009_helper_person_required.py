import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0008_seed_categories_backfill_helper_roster")]

    operations = [
        migrations.AlterField(
            model_name="helper",
            name="person",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="pairings",
                to="cases.helperperson",
                verbose_name="帮扶人",
            ),
        ),
    ]
