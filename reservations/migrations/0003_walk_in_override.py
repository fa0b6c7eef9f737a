"""Walk-ins added by derogation (who, why, which rule), and the office's right to add them."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from common.permissions import grant_permissions

# The office may add to the register, by derogation, a child the rules would refuse.
GRANTS = {"Assistant administratif": {"reservations": {"booking": ["add_walkin_override"]}}}


def grant(apps, schema_editor):
    grant_permissions(apps, GRANTS)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Assistant administratif").first()
    if group:
        group.permissions.remove(
            *Permission.objects.filter(
                content_type__app_label="reservations", codename="add_walkin_override"
            )
        )


class Migration(migrations.Migration):
    dependencies = [
        ("families", "0006_outbox_permissions"),
        ("reservations", "0002_reference_data_and_groups"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="booking",
            options={
                "ordering": ["date", "slot__position", "pk"],
                "permissions": [
                    ("take_attendance", "Peut faire le pointage des enfants"),
                    (
                        "book_past_deadline",
                        "Peut réserver ou annuler après le délai de 3 jours ouvrés",
                    ),
                    ("exceed_capacity", "Peut réserver au-delà de la capacité d'un créneau"),
                    (
                        "add_walkin_override",
                        "Peut ajouter au pointage, par dérogation, un enfant non inscrit ou d'une autre école",
                    ),
                ],
                "verbose_name": "réservation",
                "verbose_name_plural": "réservations",
            },
        ),
        migrations.AddField(
            model_name="booking",
            name="override_by",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="dérogation accordée par",
            ),
        ),
        migrations.AddField(
            model_name="booking",
            name="override_reason",
            field=models.CharField(
                blank=True, max_length=300, verbose_name="motif de la dérogation"
            ),
        ),
        migrations.AddField(
            model_name="booking",
            name="override_rule",
            field=models.CharField(
                blank=True,
                help_text="Ce qui empêchait normalement d'ajouter l'enfant au pointage.",
                max_length=300,
                verbose_name="règle levée par la dérogation",
            ),
        ),
        migrations.AddConstraint(
            model_name="booking",
            constraint=models.CheckConstraint(
                condition=models.Q(("override_reason", ""), ("origin", "walk_in"), _connector="OR"),
                name="booking_override_only_for_walk_ins",
                violation_error_message="Seul un ajout au pointage peut se faire par dérogation.",
            ),
        ),
        migrations.RunPython(grant, revoke),
    ]
