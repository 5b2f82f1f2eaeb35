"""With every row filled (0007): the claim's category becomes the foreign
key, the member's name, ID number and union are required, and an ID number
is on a cooperative's roster once."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("programs", "0007_fill_coop_roster_and_claim_categories")]

    operations = [
        migrations.RemoveField(model_name="claim", name="category"),
        migrations.RenameField(model_name="claim", old_name="category_ref", new_name="category"),
        migrations.AlterField(
            model_name="claim",
            name="category",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="claims",
                to="programs.claimcategory",
                verbose_name="互助类别",
            ),
        ),
        migrations.AlterField(
            model_name="coopmember",
            name="unit",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="coop_members",
                to="accounts.unit",
                verbose_name="所属工会",
            ),
        ),
        migrations.AddConstraint(
            model_name="coopmember",
            constraint=models.UniqueConstraint(
                fields=("cooperative", "id_number"), name="coop_member_id_once"
            ),
        ),
        migrations.AddIndex(
            model_name="coopmember",
            index=models.Index(fields=["cooperative", "name"], name="coop_member_name"),
        ),
    ]
