import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models
from django.db.models.functions import Coalesce


def last_sign_of_life(apps, schema_editor):
    """Runs recorded before the heartbeat: their last known activity is their end, or their
    start for one still marked running (it becomes interrupted once stale)."""
    InvoicingRun = apps.get_model("billing", "InvoicingRun")
    InvoicingRun.objects.update(heartbeat_at=Coalesce("finished_at", "started_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_payments"),
    ]

    operations = [
        migrations.AddField(
            model_name="invoicingrun",
            name="heartbeat_at",
            field=models.DateTimeField(
                default=django.utils.timezone.now,
                help_text="Mis à jour à chaque lot de factures validé.",
                verbose_name="dernier signe d'activité",
            ),
        ),
        migrations.AddField(
            model_name="invoicingrun",
            name="resumes",
            field=models.ForeignKey(
                blank=True,
                help_text="La facturation interrompue de ce mois que celle-ci termine.",
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="resumed_by",
                to="billing.invoicingrun",
                verbose_name="reprend la facturation",
            ),
        ),
        migrations.AlterField(
            model_name="invoicingrun",
            name="status",
            field=models.CharField(
                choices=[
                    ("running", "En cours"),
                    ("done", "Terminée"),
                    ("failed", "Échouée"),
                    ("interrupted", "Interrompue"),
                ],
                default="running",
                max_length=12,
                verbose_name="état",
            ),
        ),
        migrations.RunPython(last_sign_of_life, migrations.RunPython.noop),
    ]
