import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("common", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="StoredDocument",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("path", models.CharField(max_length=255, unique=True, verbose_name="fichier")),
                ("filename", models.CharField(max_length=200, verbose_name="nom du fichier")),
                (
                    "content_type",
                    models.CharField(
                        default="application/pdf", max_length=100, verbose_name="type"
                    ),
                ),
                ("sha256", models.CharField(max_length=64, verbose_name="empreinte SHA-256")),
                ("size", models.PositiveBigIntegerField(verbose_name="taille (octets)")),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="enregistré le"
                    ),
                ),
            ],
            options={
                "verbose_name": "document conservé",
                "verbose_name_plural": "documents conservés",
                "ordering": ["-created_at", "-pk"],
            },
        ),
    ]
