"""Demo data for the whole portal: the logins of the README and two families."""

import datetime

from django.contrib.auth.models import Group
from django.db import transaction

from families import demo as families_demo
from families.models import Guardian

STAFF = [
    ("assistant@example.org", "assistant-portail", "Assistant administratif", "Claire", "MOREL"),
    ("regisseur@example.org", "regisseur-portail", "Régisseur", "Paul", "GIRAUD"),
    ("animateur@example.org", "animateur-portail", "Animateur", "Inès", "BENALI"),
]


@transaction.atomic
def seed_demo(today: datetime.date):
    """Create (idempotently) the demo logins, reference data and both demo families."""
    families_demo.verified_user(
        "admin@example.org",
        "admin-portail",
        first_name="Admin",
        last_name="PORTAIL",
        is_staff=True,
        is_superuser=True,
    )
    for email, password, group_name, first, last in STAFF:
        user = families_demo.verified_user(
            email, password, first_name=first, last_name=last, is_staff=True
        )
        user.groups.add(Group.objects.get(name=group_name))
    families_demo.ensure_school_years(today)
    schools = families_demo.ensure_schools()
    lagrange = families_demo.seed_family(
        email="parent@example.org",
        password="parent-portail",
        first_name="Marie",
        family_name="LAGRANGE",
        relationship=Guardian.Relationship.MOTHER,
        today=today,
        schools=schools,
        quotient=850,
        children=[
            ("Léa", 8, "CE2", "F", "Allergie aux arachides (PAI)."),
            ("Lalo", 5, "GS", "M", ""),
        ],
    )
    voisin = families_demo.seed_family(
        email="voisin@example.org",
        password="voisin-portail",
        first_name="Karim",
        family_name="BERNARD",
        relationship=Guardian.Relationship.FATHER,
        today=today,
        schools=schools[1:],
        address="3 chemin des Cerisiers",
        phone="06 55 44 33 22",
        children=[("Nina", 7, "CE1", "F", "")],
    )
    return {"parent": lagrange, "voisin": voisin}
