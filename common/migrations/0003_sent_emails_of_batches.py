import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("common", "0002_stored_document"),
    ]

    operations = [
        migrations.CreateModel(
            name="SentEmail",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=200, unique=True, verbose_name="clé")),
                (
                    "sent_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="envoyé le"
                    ),
                ),
            ],
            options={
                "verbose_name": "e-mail envoyé par lot",
                "verbose_name_plural": "e-mails envoyés par lot",
                "ordering": ["-sent_at", "-pk"],
            },
        ),
    ]
