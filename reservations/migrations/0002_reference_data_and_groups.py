"""The activities and créneaux of the tutorial, and what each staff group may do."""

from django.db import migrations

from common.permissions import grant_permissions
from reservations.reference import ensure_reference_data

GRANTS = {
    "Assistant administratif": {
        "reservations": {
            "holiday": ["view", "add", "change", "delete"],
            "closure": ["view", "add", "change"],
            "activity": ["view"],
            "slot": ["view", "change"],
            "slotcapacity": ["view", "add", "change", "delete"],
            "capacityoverride": ["view", "add", "change", "delete"],
            "booking": [
                "view",
                "add",
                "change",
                "take_attendance",
                "book_past_deadline",
                "exceed_capacity",
            ],
            "absence": ["view", "change"],
        },
    },
    "Régisseur": {
        "reservations": {
            "holiday": ["view"],
            "closure": ["view"],
            "activity": ["view"],
            "slot": ["view"],
            "booking": ["view"],
            "absence": ["view"],
        },
    },
    "Animateur": {
        "reservations": {
            "closure": ["view"],
            "activity": ["view"],
            "slot": ["view"],
            "booking": ["view", "take_attendance"],
        },
    },
}


def seed(apps, schema_editor):
    ensure_reference_data(apps.get_model)
    grant_permissions(apps, GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("reservations", "0001_initial"),
        ("enrolment", "0002_services_and_groups"),
        ("families", "0002_staff_groups"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
