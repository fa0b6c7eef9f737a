"""Demo data for the whole portal: the logins of the README and two families."""

import datetime

from django.contrib.auth.models import Group
from django.db import transaction

from billing import demo as billing_demo
from enrolment import demo as enrolment_demo
from exchanges import demo as exchanges_demo
from families import demo as families_demo
from families.models import Guardian
from reservations import demo as reservations_demo

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
    exchanges_demo.seed_threads(
        lagrange,
        today,
        guardian_user=lagrange.guardians.first().user,
        conversations=exchanges_demo.LAGRANGE_THREADS,
    )
    exchanges_demo.seed_threads(
        voisin,
        today,
        guardian_user=voisin.guardians.first().user,
        conversations=exchanges_demo.VOISIN_THREADS,
    )
    enrolment_demo.seed_requests(lagrange, today, plan=enrolment_demo.LAGRANGE_REQUESTS)
    enrolment_demo.seed_requests(voisin, today, plan=enrolment_demo.BERNARD_REQUESTS)
    # The reservations rely on it: Léa and Lalo are enrolled (effective) in both services this year.
    enrolment_demo.ensure_enrolments(lagrange, today, children=["Léa", "Lalo"])
    reservations_demo.seed_bookings(lagrange, today)
    # After the bookings of the reservations demo: invoices in each state for both families.
    billing_demo.seed_invoices({"parent": lagrange, "voisin": voisin}, today)
    # Résidence alternée: Tom's mother keeps his record; his father's family is his second
    # household. No bookings: each household books its own weeks from the agenda.
    roche, _, _ = families_demo.seed_shared_custody(today, schools)
    enrolment_demo.ensure_enrolments(roche, today, children=["Tom"])
    return {"parent": lagrange, "voisin": voisin}
