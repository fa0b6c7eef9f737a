import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

import common.states
from common.permissions import grant_permissions

GRANTS = {
    "Assistant administratif": {"reservations": {"waitlistentry": ["view", "change"]}},
    "Régisseur": {"reservations": {"waitlistentry": ["view"]}},
}


def grant(apps, schema_editor):
    grant_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("families", "0002_staff_groups"),
        ("reservations", "0004_calendar_feed"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="booking",
            name="origin",
            field=models.CharField(
                choices=[
                    ("parent", "Agenda du portail"),
                    ("bulk", "Saisie groupée"),
                    ("staff", "Pôle administratif"),
                    ("walk_in", "Sans réservation (pointage)"),
                    ("waitlist", "Liste d'attente"),
                ],
                default="parent",
                max_length=10,
                verbose_name="origine",
            ),
        ),
        migrations.CreateModel(
            name="WaitlistEntry",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("date", models.DateField(verbose_name="date")),
                (
                    "position",
                    models.PositiveIntegerField(
                        default=0,
                        help_text="Les plus petits passent en premier.",
                        verbose_name="ordre",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("waiting", "En attente"),
                            ("booked", "Réservé"),
                            ("expired", "Délai dépassé"),
                            ("left", "Retiré par la famille"),
                            ("dropped", "Retiré (plus réservable)"),
                        ],
                        default="waiting",
                        max_length=10,
                        verbose_name="statut",
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, verbose_name="inscrit le"
                    ),
                ),
                (
                    "closed_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="sorti de la liste le"
                    ),
                ),
                (
                    "note",
                    models.CharField(blank=True, max_length=300, verbose_name="motif de sortie"),
                ),
                (
                    "booking",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="reservations.booking",
                        verbose_name="réservation obtenue",
                    ),
                ),
                (
                    "child",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="waitlist_entries",
                        to="families.child",
                        verbose_name="enfant",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="inscrit par",
                    ),
                ),
                (
                    "family",
                    models.ForeignKey(
                        help_text="Le foyer qui a inscrit l'enfant : la réservation obtenue sera la sienne.",
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="waitlist_entries",
                        to="families.family",
                        verbose_name="foyer",
                    ),
                ),
                (
                    "school",
                    models.ForeignKey(
                        help_text="L'école de l'enfant à l'inscription : celle dont une place doit se libérer.",
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="waitlist_entries",
                        to="families.school",
                        verbose_name="école",
                    ),
                ),
                (
                    "slot",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="waitlist_entries",
                        to="reservations.slot",
                        verbose_name="créneau",
                    ),
                ),
            ],
            options={
                "verbose_name": "inscription en liste d'attente",
                "verbose_name_plural": "liste d'attente",
                "ordering": ["date", "slot__position", "school", "position", "pk"],
                "indexes": [
                    models.Index(fields=["date", "slot", "school", "status"], name="waitlist_line"),
                    models.Index(fields=["child", "date"], name="waitlist_child_date"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status", "waiting")),
                        fields=("child", "slot", "date"),
                        name="waitlist_once_per_child_slot_day",
                        violation_error_message="Cet enfant est déjà en liste d'attente sur ce créneau ce jour-là.",
                    )
                ],
            },
            bases=(common.states.StateMachine, models.Model),
        ),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
