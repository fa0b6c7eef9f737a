"""The activities and créneaux of the tutorial, shipped by a data migration (and re-created by
the demo and tests, which may run on a flushed database). Idempotent: existing rows, which
staff may have edited, are left as they are."""

import datetime

# (slug, name, service slug, position)
ACTIVITIES = [
    ("accueil-matin", "Accueil du matin", "periscolaire", 1),
    ("accueil-periscolaire", "Accueil périscolaire", "periscolaire", 2),
    ("mercredi", "Mercredi", "alai", 3),
]

# (code, activity slug, label, short label, start, end, admission until, ISO weekdays,
#  default capacity, position)
SLOTS = [
    ("matin", "accueil-matin", "Matin 07h20-08h20", "Matin", (7, 20), (8, 20), (8, 10), "1245", 40, 1),
    ("soir-1", "accueil-periscolaire", "soir 1 : 16h30 à 17h30", "Soir 1", (16, 30), (17, 30), None, "1245", 60, 2),
    ("soir-2", "accueil-periscolaire", "soir 2 : 17h30 à 18h30", "Soir 2", (17, 30), (18, 30), None, "1245", 40, 3),
    ("mercredi", "mercredi", "Mercredi", "Mercredi", (7, 30), (18, 30), (9, 30), "3", 48, 4),
]  # fmt: skip

# Used only when the enrolment services are missing (a flushed test database).
SERVICES = {
    "periscolaire": {"label": "Périscolaire"},
    "alai": {"label": "Accueil de loisirs d'Alaï (3-12 ans)", "min_age": 3, "max_age": 12},
}


def _time(value):
    return datetime.time(*value) if value else None


def ensure_reference_data(get_model=None):
    """Create the missing activities and créneaux; returns {slot code: slot}.

    `get_model` is `apps.get_model` in a migration, Django's registry otherwise."""
    if get_model is None:
        from django.apps import apps

        get_model = apps.get_model
    Service = get_model("enrolment", "Service")
    Activity = get_model("reservations", "Activity")
    Slot = get_model("reservations", "Slot")
    services = {
        slug: Service.objects.get_or_create(slug=slug, defaults=defaults)[0]
        for slug, defaults in SERVICES.items()
    }
    activities = {
        slug: Activity.objects.get_or_create(
            slug=slug, defaults={"name": name, "service": services[service], "position": position}
        )[0]
        for slug, name, service, position in ACTIVITIES
    }
    slots = {}
    for code, activity, label, short, start, end, admission, weekdays, capacity, position in SLOTS:
        slots[code] = Slot.objects.get_or_create(
            code=code,
            defaults={
                "activity": activities[activity],
                "label": label,
                "short_label": short,
                "start_time": _time(start),
                "end_time": _time(end),
                "admission_until": _time(admission),
                "weekdays": weekdays,
                "default_capacity": capacity,
                "position": position,
            },
        )[0]
    return slots
