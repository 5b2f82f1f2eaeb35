"""A cooperative's roster of ordinary members and admin-edited claim
categories: the new columns, nullable until 0007 fills them."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("programs", "0005_goods_value_of_goods_handouts"),
    ]

    operations = [
        migrations.CreateModel(
            name="ClaimCategory",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=50, unique=True, verbose_name="名称")),
                ("code", models.SlugField(max_length=32, unique=True, verbose_name="代码")),
                ("sort_order", models.PositiveSmallIntegerField(default=0, verbose_name="排序")),
                ("is_active", models.BooleanField(default=True, verbose_name="启用")),
            ],
            options={
                "verbose_name": "互助类别",
                "verbose_name_plural": "互助类别",
                "ordering": ["sort_order", "id"],
            },
        ),
        migrations.AddField(
            model_name="coopmember",
            name="name",
            field=models.CharField(default="", max_length=50, verbose_name="姓名"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="coopmember",
            name="id_number",
            field=models.CharField(default="", max_length=18, verbose_name="身份证号"),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="coopmember",
            name="unit",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="coop_members",
                to="accounts.unit",
                verbose_name="所属工会",
            ),
        ),
        migrations.AddField(
            model_name="coopmember",
            name="phone",
            field=models.CharField(blank=True, max_length=20, verbose_name="联系电话"),
        ),
        migrations.AlterField(
            model_name="coopmember",
            name="household",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="coop_memberships",
                to="cases.household",
                verbose_name="困难职工档案",
            ),
        ),
        migrations.AlterField(
            model_name="coopmember",
            name="joined_on",
            field=models.DateField(verbose_name="入会日期"),
        ),
        migrations.AddField(
            model_name="claim",
            name="category_ref",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="programs.claimcategory",
                verbose_name="互助类别",
            ),
        ),
        migrations.AddField(
            model_name="claim",
            name="entry",
            field=models.OneToOneField(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="coop_claim",
                to="funds.ledgerentry",
                verbose_name="支出分录",
            ),
        ),
        migrations.AddField(
            model_name="claim",
            name="paid_on",
            field=models.DateField(blank=True, null=True, verbose_name="发放日期"),
        ),
        migrations.AddField(
            model_name="claim",
            name="paid_by",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="发放人",
            ),
        ),
        migrations.AlterField(
            model_name="claim",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "待委员会表决"),
                    ("approved", "已通过，待发放"),
                    ("rejected", "未通过"),
                    ("paid", "已发放"),
                ],
                default="pending",
                max_length=10,
                verbose_name="状态",
            ),
        ),
    ]
