"""Reference and demo data of the families app (used by seed_demo, seed_bench and tests)."""

import datetime

from django.contrib.auth import get_user_model

from .models import Child, ChildContact, ChildHousehold, Family, Guardian, School, SchoolYear

# Zone A (Lyon) school years as published by the Ministry: rentrée and last day of class.
KNOWN_SCHOOL_YEARS = {
    2024: (datetime.date(2024, 9, 2), datetime.date(2025, 7, 4)),
    2025: (datetime.date(2025, 9, 1), datetime.date(2026, 7, 3)),
    2026: (datetime.date(2026, 9, 1), datetime.date(2027, 7, 2)),
}

SCHOOLS = [
    ("École du Prainet", School.Level.PRIMAIRE, "Chemin du Prainet, 69160 Tassin la Demi-Lune"),
    ("École Leclerc", School.Level.ELEMENTAIRE, "Avenue Leclerc, 69160 Tassin la Demi-Lune"),
    (
        "École maternelle du Centre",
        School.Level.MATERNELLE,
        "Place de la Mairie, 69160 Tassin la Demi-Lune",
    ),
    (
        "École de la Pépinière",
        School.Level.PRIMAIRE,
        "Rue de la Pépinière, 69160 Tassin la Demi-Lune",
    ),
]


def school_year_bounds(start_year: int):
    """Rentrée and last day of class of the school year starting in `start_year`."""
    if start_year in KNOWN_SCHOOL_YEARS:
        return KNOWN_SCHOOL_YEARS[start_year]
    start = datetime.date(start_year, 9, 1)
    while start.weekday() >= 5:
        start += datetime.timedelta(days=1)
    end = datetime.date(start_year + 1, 7, 1)
    while end.weekday() != 4:  # classes end on a Friday, early July
        end += datetime.timedelta(days=1)
    return start, end


def start_year_of(today: datetime.date) -> int:
    """The calendar year in which the school year of `today` starts (summer belongs to the next)."""
    return today.year if today.month >= 8 else today.year - 1


def ensure_school_years(today: datetime.date):
    """The previous, current and next school years around `today`, created if missing."""
    years = []
    first = start_year_of(today)
    for start_year in (first - 1, first, first + 1):
        start, end = school_year_bounds(start_year)
        year, _ = SchoolYear.objects.get_or_create(
            label=f"{start_year}-{start_year + 1}", defaults={"start_date": start, "end_date": end}
        )
        years.append(year)
    return years


def ensure_schools():
    return [
        School.objects.get_or_create(name=name, defaults={"level": level, "address": address})[0]
        for name, level, address in SCHOOLS
    ]


def verified_user(
    email, password, *, first_name="", last_name="", is_staff=False, is_superuser=False
):
    """A user whose e-mail address is verified (allauth), created or reset to the given password."""
    from allauth.account.models import EmailAddress

    User = get_user_model()
    user, created = User.objects.get_or_create(
        email=email,
        defaults={
            "first_name": first_name,
            "last_name": last_name,
            "is_staff": is_staff,
            "is_superuser": is_superuser,
        },
    )
    if created:
        user.set_password(password)
        user.save()
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    return user


def seed_family(
    *,
    email,
    password,
    first_name,
    family_name,
    relationship,
    children,
    today,
    schools,
    address="12 avenue de la République",
    phone="06 12 34 56 78",
    quotient=None,
):
    """A demo family with one guardian and its children; idempotent on the guardian's e-mail."""
    user = verified_user(email, password, first_name=first_name, last_name=family_name)
    guardian = Guardian.objects.filter(user=user).select_related("family").first()
    if guardian:
        return guardian.family
    family = Family.objects.create(
        name=family_name,
        address=address,
        postal_code="69160",
        city="Tassin la Demi-Lune",
        phone="04 78 00 00 00",
        quotient_familial=quotient,
        quotient_valid_until=datetime.date(today.year, 12, 31) if quotient else None,
    )
    Guardian.objects.create(user=user, family=family, relationship=relationship, mobile_phone=phone)
    for index, (first, age, school_class, sex, health) in enumerate(children):
        birth = datetime.date(start_year_of(today) - age, 3 + 2 * index, 14)
        child = Child.objects.create(
            family=family,
            last_name=family_name,
            first_name=first,
            birth_date=birth,
            sex=sex,
            school=schools[index % len(schools)],
            school_class=school_class,
            health_notes=health,
        )
        ChildContact.objects.create(
            child=child,
            full_name="Monique " + family_name,
            relationship="Grand-mère",
            phone="06 98 76 54 32",
            can_pick_up=True,
            is_emergency_contact=True,
        )
    return family


SHARED_CUSTODY_PASSWORD = "alternance-portail"


def seed_shared_custody(today, schools):
    """Résidence alternée: Tom lives alternately with his mother (ROCHE, QF 1300, whose
    household keeps his record) and his father (FAURE, QF 450, his second household, with no
    child of his own). Returns (first household, second household, Tom); idempotent."""
    first = seed_family(
        email="alternance-mere@example.org",
        password=SHARED_CUSTODY_PASSWORD,
        first_name="Julie",
        family_name="ROCHE",
        relationship=Guardian.Relationship.MOTHER,
        today=today,
        schools=schools[:1],
        address="27 rue de la Poste",
        phone="06 11 22 33 44",
        quotient=1300,
        children=[("Tom", 7, "CE1", "M", "")],
    )
    second = seed_family(
        email="alternance-pere@example.org",
        password=SHARED_CUSTODY_PASSWORD,
        first_name="Hugo",
        family_name="FAURE",
        relationship=Guardian.Relationship.FATHER,
        today=today,
        schools=schools[:1],
        address="4 allée des Érables",
        phone="06 77 88 99 00",
        quotient=450,
        children=[],
    )
    tom = first.children.get(first_name="Tom")
    ChildHousehold.objects.get_or_create(
        child=tom, defaults={"family": second, "origin": ChildHousehold.Origin.OFFICE}
    )
    return first, second, tom
