"""visit_client_key: the key a phone or an API client gives a visit, so that
sending it twice records one visit."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0014_household_file_number_idx'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='visit',
            name='client_key',
            field=models.UUIDField(blank=True, null=True, verbose_name='客户端标识'),
        ),
        migrations.AddConstraint(
            model_name='visit',
            constraint=models.UniqueConstraint(
                fields=('visitor', 'client_key'), name='visit_client_key_uniq'
            ),
        ),
    ]
