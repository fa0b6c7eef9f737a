"""Each booking and each absence names the household it belongs to (résidence alternée: a
child may have two), filled from the child's family for what exists."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill_families(apps, schema_editor):
    Child = apps.get_model("families", "Child")
    family_of_child = Subquery(
        Child.objects.filter(pk=OuterRef("child_id")).values("family_id")[:1]
    )
    for name in ("Booking", "Absence"):
        apps.get_model("reservations", name).objects.filter(family__isnull=True).update(
            family=family_of_child
        )


def family_field(null, **kwargs):
    return models.ForeignKey(
        null=null,
        on_delete=django.db.models.deletion.CASCADE,
        to="families.family",
        verbose_name="foyer",
        **kwargs,
    )


BOOKING = {
    "db_index": False,
    "related_name": "bookings",
    "help_text": "Le foyer qui a réservé : lui seul voit, supprime et paie cette réservation "
    "(l'un des deux foyers d'un enfant en résidence alternée).",
}
ABSENCE = {
    "related_name": "absences",
    "help_text": "Le foyer qui a signalé l'absence, pour ses propres réservations.",
}


class Migration(migrations.Migration):
    dependencies = [
        ("families", "0008_child_second_household"),
        ("reservations", "0005_waitlist"),
    ]

    operations = [
        migrations.AddField("absence", "family", family_field(True, **ABSENCE)),
        migrations.AddField("booking", "family", family_field(True, **BOOKING)),
        migrations.RunPython(fill_families, migrations.RunPython.noop),
        migrations.AlterField("absence", "family", family_field(False, **ABSENCE)),
        migrations.AlterField("booking", "family", family_field(False, **BOOKING)),
    ]
