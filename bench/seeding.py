"""The bench volume: N realistic families on top of the demo data (`seed_bench`, `make bench`).

`seed_bench` runs the demo seed, then each step of `SEED_STEPS` in order. A step is a function
`step(context) -> dict[str, int]` that creates what is missing for the first `context.families`
bench families and returns how many rows it created per model (zero on a second run). Each app
that brings volume (threads, requests, bookings, invoices) adds its own step to the list, after
the steps whose rows it builds on.

Everything is deterministic: family number i always gets the same people, children and QF, so a
larger N only adds the families that are missing.
"""

import datetime
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from exchanges.models import Message, Thread
from families import demo as families_demo
from families.models import Child, ChildContact, Family, Guardian, School
from portail.demo import seed_demo

BENCH_EMAIL_DOMAIN = "bench.example.org"
BENCH_PASSWORD = "bench-portail"

LAST_NAMES = [
    "MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU",
    "LAURENT", "SIMON", "MICHEL", "LEFEBVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL",
    "FOURNIER", "GIRARD", "BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT",
    "MULLER", "LEFEVRE", "FAURE", "ANDRE", "MERCIER", "BLANC", "GUERIN", "BOYER", "GARNIER",
    "CHEVALIER", "FRANCOIS", "LEGRAND", "GAUTHIER", "GARCIA", "PERRIN", "ROBIN", "CLEMENT",
    "MORIN", "NICOLAS", "HENRY", "ROUSSEL", "MATHIEU", "GAUTIER", "MASSON", "NGUYEN", "DIALLO",
    "BENOIT", "LOPEZ", "CHAUVIN", "BRUN", "MEUNIER", "BARBIER", "ARNAUD", "COLIN",
]  # fmt: skip
MOTHER_FIRST_NAMES = [
    "Camille", "Julie", "Aurélie", "Sophie", "Émilie", "Céline", "Laure", "Nadia", "Claire",
    "Sarah", "Amandine", "Élodie", "Fatima", "Anne", "Mélanie", "Caroline", "Hélène", "Inès",
]  # fmt: skip
FATHER_FIRST_NAMES = [
    "Nicolas", "Julien", "Thomas", "Sébastien", "Mehdi", "Romain", "Guillaume", "Antoine",
    "Maxime", "Pierre", "Karim", "Vincent", "Jérôme", "Olivier", "Benjamin", "Yann",
]  # fmt: skip
GIRL_FIRST_NAMES = [
    "Emma", "Jade", "Louise", "Alice", "Chloé", "Lina", "Rose", "Léna", "Mila", "Anna",
    "Ambre", "Julia", "Inaya", "Zoé", "Lou", "Agathe", "Romy", "Iris",
]  # fmt: skip
BOY_FIRST_NAMES = [
    "Gabriel", "Léo", "Raphaël", "Arthur", "Louis", "Jules", "Adam", "Maël", "Lucas", "Hugo",
    "Noah", "Sacha", "Gabin", "Nino", "Tom", "Ethan", "Aaron", "Malo",
]  # fmt: skip
STREETS = [
    "avenue de la République", "chemin du Prainet", "rue de la Pépinière", "avenue Leclerc",
    "chemin des Cerisiers", "rue du Bourg", "avenue Charles de Gaulle", "rue Joliot-Curie",
    "chemin de la Raude", "allée des Tilleuls", "rue des Érables", "place Hippolyte Peyron",
]  # fmt: skip
# Class of a child by age on 31 December of the school year's first calendar year.
CLASS_BY_AGE = {3: "PS", 4: "MS", 5: "GS", 6: "CP", 7: "CE1", 8: "CE2", 9: "CM1", 10: "CM2"}
HEALTH_NOTES = [
    "Allergie aux arachides (PAI).",
    "Asthme : Ventoline dans le cartable.",
    "Intolérance au lactose.",
    "Porte des lunettes.",
]


@dataclass
class BenchContext:
    """What every seed step needs: the target volume, "today" and the reference data."""

    families: int
    today: datetime.date
    schools: list[School]
    school_years: list = field(default_factory=list)

    @cached_property
    def password_hash(self) -> str:
        """One hash for every bench login: hashing N passwords with Argon2 would take minutes."""
        return make_password(BENCH_PASSWORD)


def bench_email(number: int, guardian: int = 1) -> str:
    """The e-mail address of guardian 1 or 2 of bench family `number` (1-based)."""
    return f"parent{number:05d}.{guardian}@{BENCH_EMAIL_DOMAIN}"


def bench_families():
    """The families created by seed_bench (not the demo ones)."""
    return Family.objects.filter(
        guardians__user__email__endswith=f"@{BENCH_EMAIL_DOMAIN}"
    ).distinct()


def seed_families(context: BenchContext) -> dict[str, int]:
    """Families 1..N, each with 1–2 verified guardians, 1–3 children, their contacts and a QF."""
    User = get_user_model()
    wanted = {bench_email(number): number for number in range(1, context.families + 1)}
    existing = set(User.objects.filter(email__in=wanted).values_list("email", flat=True))
    numbers = [number for email, number in wanted.items() if email not in existing]
    if not numbers:
        return {}
    plans = [_family_plan(number, context) for number in numbers]

    families = Family.objects.bulk_create([plan["family"] for plan in plans], batch_size=500)
    users = User.objects.bulk_create(
        [user for plan in plans for user, _ in plan["guardians"]], batch_size=500
    )
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=user, email=user.email, verified=True, primary=True) for user in users],
        batch_size=500,
    )
    guardians = []
    children = []
    for plan, family in zip(plans, families, strict=True):
        for user, guardian in plan["guardians"]:
            guardian.user, guardian.family = user, family
            guardians.append(guardian)
        for child, _ in plan["children"]:
            child.family = family
            children.append(child)
    Guardian.objects.bulk_create(guardians, batch_size=500)
    Child.objects.bulk_create(children, batch_size=500)
    contacts = []
    for plan in plans:
        for child, child_contacts in plan["children"]:
            for contact in child_contacts:
                contact.child = child
                contacts.append(contact)
    ChildContact.objects.bulk_create(contacts, batch_size=500)
    return {
        "families.Family": len(families),
        "accounts.User": len(users),
        "account.EmailAddress": len(users),
        "families.Guardian": len(guardians),
        "families.Child": len(children),
        "families.ChildContact": len(contacts),
    }


BUSY_FAMILY_THREADS = 200  # bench family 1: the thread list scenario of the bench


def seed_threads(context: BenchContext) -> dict[str, int]:
    """Threads with two messages each: 200 for bench family 1, 0 to 4 for the others."""
    families = list(bench_families().exclude(threads__isnull=False).order_by("pk"))
    if not families:
        return {}
    busy_family = (
        Family.objects.filter(guardians__user__email=bench_email(1))
        .values_list("pk", flat=True)
        .first()
    )
    threads, first_messages = [], []
    base = timezone.make_aware(datetime.datetime.combine(context.today, datetime.time(9)))
    for family in families:
        # One generator per family: a family drawn with no thread draws none again on a rerun.
        rng = random.Random(f"bench-threads-{family.pk}")
        for index in range(BUSY_FAMILY_THREADS if family.pk == busy_family else rng.randint(0, 4)):
            when = base - datetime.timedelta(hours=7 * index + rng.randint(0, 6))
            threads.append(
                Thread(
                    family=family,
                    subject=f"Échange n° {index + 1}",
                    created_at=when,
                    last_message_at=when,
                    family_unread=index % 7 == 0,
                )
            )
    threads = Thread.objects.bulk_create(threads, batch_size=500)
    for thread in threads:
        first_messages.append(
            Message(
                thread=thread,
                side=Message.Side.OFFICE,
                body="Bonjour, voici une information du pôle administratif.",
                created_at=thread.created_at,
            )
        )
        first_messages.append(
            Message(
                thread=thread,
                side=Message.Side.FAMILY,
                body="Merci, bien reçu.",
                created_at=thread.last_message_at,
            )
        )
    Message.objects.bulk_create(first_messages, batch_size=1000)
    counts = {"exchanges.Thread": len(threads), "exchanges.Message": len(first_messages)}
    return {label: count for label, count in counts.items() if count}


BUSY_FAMILY_REQUESTS = 50  # bench family 1: the "Mes demandes" scenario of the bench


def seed_requests(context: BenchContext) -> dict[str, int]:
    """Requests of this school year for each child (mostly accepted, with the effective enrolment),
    and 50 requests in all for bench family 1 (the others refused, this year or the last)."""
    from enrolment import demo as enrolment_demo
    from enrolment.models import EnrolmentRequest

    families = list(
        bench_families()
        .exclude(enrolment_requests__isnull=False)
        .order_by("pk")
        .prefetch_related("children")
    )
    if not families:
        return {}
    teleservices = enrolment_demo.ensure_teleservices(context.today)
    busy_family = (
        Family.objects.filter(guardians__user__email=bench_email(1))
        .values_list("pk", flat=True)
        .first()
    )
    rng = random.Random(20261127)
    base = timezone.make_aware(datetime.datetime.combine(context.today, datetime.time(9)))
    requests = []
    for family in families:
        plans = _request_plans(family, teleservices, rng, busy=family.pk == busy_family)
        requests += [
            _bench_request(family, number, plan, when=base, rng=rng)
            for number, plan in enumerate(plans, start=1)
        ]
    requests = EnrolmentRequest.objects.bulk_create(requests, batch_size=500)
    enrolments = _enrol_accepted(requests)
    counts = {"enrolment.EnrolmentRequest": len(requests), "enrolment.Enrolment": len(enrolments)}
    return {label: count for label, count in counts.items() if count}


def _request_plans(family, teleservices, rng: random.Random, *, busy: bool) -> list[tuple]:
    """(téléservice, child, state) of each request of `family`: one per child and service this
    year, mostly accepted; the busy family then gets refused ones up to BUSY_FAMILY_REQUESTS."""
    from enrolment.models import EnrolmentRequest, Teleservice

    state = EnrolmentRequest.State
    kinds = [Teleservice.Kind.PERISCOLAIRE, Teleservice.Kind.ALAI]
    children = list(family.children.all())
    plans = [
        (
            teleservices[("current", kind)],
            child,
            rng.choice([state.CLOSED] * 6 + [state.SUBMITTED, state.DRAFT, state.REFUSED]),
        )
        for child in children
        for kind in kinds
    ]
    index = 0
    while busy and children and len(plans) < BUSY_FAMILY_REQUESTS:
        when = "previous" if index % 3 else "current"
        kind = kinds[(index // len(children)) % 2]
        plans.append(
            (
                teleservices.get((when, kind)) or teleservices[("current", kind)],
                children[index % len(children)],
                state.REFUSED,
            )
        )
        index += 1
    return plans


def _bench_request(family, number: int, plan: tuple, *, when, rng: random.Random):
    """The unsaved request number `number` of `family`, made some days before `when`."""
    from enrolment.models import EnrolmentRequest

    state = EnrolmentRequest.State
    teleservice, child, request_state = plan
    made = when - datetime.timedelta(days=rng.randint(1, 120), hours=number)
    return EnrolmentRequest(
        number=f"B{family.pk}-{number:03d}",
        family=family,
        child=child,
        teleservice=teleservice,
        kind=teleservice.kind,
        school_year=teleservice.school_year,
        state=request_state,
        answers={"shared_custody": False, "rules_accepted": request_state != state.DRAFT},
        created_at=made,
        updated_at=made,
        submitted_at=None if request_state == state.DRAFT else made,
        decided_at=made if request_state in (state.CLOSED, state.REFUSED) else None,
        refusal_reason="Demande en double." if request_state == state.REFUSED else "",
    )


def _enrol_accepted(requests) -> list:
    """The effective enrolment of each accepted (closed) request, created unless it exists."""
    from enrolment.models import Enrolment, EnrolmentRequest

    return Enrolment.objects.bulk_create(
        [
            Enrolment(
                child=request.child,
                service=request.teleservice.service,
                school_year=request.school_year,
                effective_on=request.decided_at.date(),
                request=request,
            )
            for request in requests
            if request.state == EnrolmentRequest.State.CLOSED
        ],
        batch_size=500,
        ignore_conflicts=True,
    )


def bulk_scenario_family():
    """The bench family whose three children the bench's bulk-entry scenario books: the first
    (by number) with three children. None with too few bench families."""
    from django.db.models import Count

    return (
        bench_families()
        .annotate(n_children=Count("children", distinct=True))
        .filter(n_children=3)
        .order_by("pk")
        .first()
    )


def seed_bookings(context: BenchContext) -> dict[str, int]:
    """Bookings of the whole current school year for every enrolled bench child (mornings or
    evenings on two to four weekdays, some Wednesdays), past days marked present. The
    bulk-entry scenario's family gets none, and enrolments for next year, which it books."""
    from enrolment.models import Enrolment, Service
    from reservations.demo import seed_bench_bookings
    from reservations.models import Booking

    reserved = bulk_scenario_family()
    children = list(
        Child.objects.filter(family__in=bench_families())
        .exclude(pk__in=Booking.objects.values("child"))
        .exclude(family=reserved)
        .select_related("school")
        .order_by("pk")
    )
    created = {}
    if count := seed_bench_bookings(children, context.today):
        created["reservations.Booking"] = count
    if reserved is not None and len(context.school_years) > 2:
        next_year = context.school_years[2]
        wanted = [
            Enrolment(
                child=child,
                service=service,
                school_year=next_year,
                effective_on=next_year.start_date,
            )
            for child in reserved.children.all()
            for service in Service.objects.filter(slug__in=["periscolaire", "alai"])
            if not Enrolment.objects.filter(
                child=child, service=service, school_year=next_year
            ).exists()
        ]
        if wanted:
            Enrolment.objects.bulk_create(wanted)
            created["enrolment.Enrolment"] = len(wanted)
    return created


# Places per créneau and school: every bench booking fits, with room for a few more children
# (the bench's "book one créneau" and bulk entry must really book, never time a refusal).
CAPACITY_MARGIN = 0.10
CAPACITY_MIN_FREE = 3


def seed_capacities(context: BenchContext) -> dict[str, int]:
    """Size each school's créneaux to the bench's volume, as the office would for that many
    children: a créneau's places at a school (and any day's override) cover its busiest day
    plus a margin, never fewer than before. No créneau is then over capacity, at any size."""
    from django.db.models import Count

    from common import refcache
    from reservations.calendar import REFERENCE
    from reservations.models import Booking, CapacityOverride, Slot, SlotCapacity

    taken = {
        (row["slot"], row["school"], row["date"]): row["n"]
        for row in Booking.objects.active()
        .exclude(school=None)
        .values("slot", "school", "date")
        .annotate(n=Count("pk"))
        .order_by()
    }
    peaks = Counter()
    for (slot, school, _), count in taken.items():
        peaks[(slot, school)] = max(peaks[(slot, school)], count)

    def wanted(count: int) -> int:
        return count + max(CAPACITY_MIN_FREE, round(count * CAPACITY_MARGIN))

    defaults = dict(Slot.objects.values_list("pk", "default_capacity"))
    rows = {(c.slot_id, c.school_id): c for c in SlotCapacity.objects.all()}
    created, changed = [], []
    for (slot, school), peak in sorted(peaks.items()):
        places = wanted(peak)
        row = rows.get((slot, school))
        if row is None and places > defaults[slot]:
            created.append(SlotCapacity(slot_id=slot, school_id=school, places=places))
        elif row is not None and row.places < places:
            row.places = places
            changed.append(row)
    SlotCapacity.objects.bulk_create(created)
    SlotCapacity.objects.bulk_update(changed, ["places"])
    overrides = []
    for override in CapacityOverride.objects.all():
        count = taken.get((override.slot_id, override.school_id, override.date), 0)
        if override.places < wanted(count) and count:
            override.places = wanted(count)
            overrides.append(override)
    CapacityOverride.objects.bulk_update(overrides, ["places"])
    refcache.invalidate(REFERENCE)  # bulk writes send no signal: the cached capacities go
    counts = {
        "reservations.SlotCapacity": len(created) + len(changed),
        "reservations.CapacityOverride": len(overrides),
    }
    return {label: count for label, count in counts.items() if count}


def seed_invoices(context: BenchContext) -> dict[str, int]:
    """The invoices of the school year's months before last month, for every family, as the
    night job would have issued them: the bench then times last month's run as on a real 10th."""
    from billing.demo import seed_bench_invoices

    created = seed_bench_invoices(context.today)
    return {"billing.Invoice": created} if created else {}


# The bench volume, in dependency order. Later steps (exchanges: threads, one family with 200 of
# them; enrolment: requests; reservations: bookings; billing: invoices) go after seed_families.
SEED_STEPS: list[Callable[[BenchContext], dict[str, int]]] = [
    seed_families,
    seed_threads,
    seed_requests,
    seed_bookings,
    seed_capacities,
    seed_invoices,
]


@transaction.atomic
def seed_bench(*, families: int, today: datetime.date) -> dict[str, int]:
    """Create (idempotently) the demo data and `families` bench families; rows created per model."""
    if families < 0:
        raise ValueError("families must be zero or more")
    seed_demo(today)
    context = BenchContext(
        families=families,
        today=today,
        schools=families_demo.ensure_schools(),
        school_years=families_demo.ensure_school_years(today),
    )
    created = Counter()
    for step in SEED_STEPS:
        created.update(step(context))
    return dict(created)


def _family_plan(number: int, context: BenchContext) -> dict:
    """Unsaved rows of bench family `number`, the same on every run (seeded by the number)."""
    rng = random.Random(f"bench-family-{number}")
    name = rng.choice(LAST_NAMES)
    family = Family(
        name=name,
        address=f"{rng.randint(1, 120)} {rng.choice(STREETS)}",
        postal_code="69160",
        city="Tassin la Demi-Lune",
        phone=_phone(rng, "04"),
    )
    _draw_quotient(family, rng, context.today)
    return {
        "family": family,
        "guardians": _guardians_plan(number, name, rng, context),
        "children": _children_plan(name, rng, context),
    }


def _draw_quotient(family: Family, rng: random.Random, today: datetime.date) -> None:
    """Three families in four have a valid QF attestation, one in ten an expired one."""
    roll = rng.random()
    if roll < 0.75:  # a valid attestation
        family.quotient_familial = rng.randrange(250, 2600, 5)
        family.quotient_valid_until = datetime.date(today.year, 12, 31)
    elif roll < 0.85:  # an attestation that has expired
        family.quotient_familial = rng.randrange(250, 2600, 5)
        family.quotient_valid_until = datetime.date(today.year - 1, 12, 31)


def _guardians_plan(number: int, name: str, rng: random.Random, context: BenchContext) -> list:
    """(user, guardian) of the family's one or two guardians (mother and/or father), unsaved."""
    User = get_user_model()
    relationships = [Guardian.Relationship.MOTHER, Guardian.Relationship.FATHER]
    rng.shuffle(relationships)
    guardians = []
    for index in range(1 if rng.random() < 0.35 else 2):
        relationship = relationships[index]
        first_names = (
            MOTHER_FIRST_NAMES
            if relationship == Guardian.Relationship.MOTHER
            else FATHER_FIRST_NAMES
        )
        user = User(
            email=bench_email(number, index + 1),
            first_name=rng.choice(first_names),
            last_name=name,
            password=context.password_hash,
        )
        guardian = Guardian(
            relationship=relationship,
            mobile_phone=_phone(rng, rng.choice(["06", "07"])),
            work_phone=_phone(rng, "04") if rng.random() < 0.3 else "",
        )
        guardians.append((user, guardian))
    return guardians


def _children_plan(name: str, rng: random.Random, context: BenchContext) -> list:
    """(child, contacts) of the family's one to three children, eldest first, unsaved."""
    children = []
    first_year = families_demo.start_year_of(context.today)
    ages = sorted((rng.randint(3, 10) for _ in range(rng.choice([1, 1, 2, 2, 2, 3]))), reverse=True)
    for age in ages:
        sex = rng.choice(Child.Sex.values)
        child = Child(
            last_name=name,
            first_name=rng.choice(GIRL_FIRST_NAMES if sex == "F" else BOY_FIRST_NAMES),
            birth_date=datetime.date(first_year - age, rng.randint(1, 12), rng.randint(1, 28)),
            sex=sex,
            school=_school_for(age, context.schools, rng),
            school_class=CLASS_BY_AGE[age],
            health_notes=rng.choice(HEALTH_NOTES) if rng.random() < 0.15 else "",
        )
        children.append((child, _contacts_plan(name, rng)))
    return children


def _contacts_plan(name: str, rng: random.Random) -> list[ChildContact]:
    """A child's contacts, unsaved: a grandmother, and a neighbour for one child in two."""
    contacts = [
        ChildContact(
            full_name=f"{rng.choice(MOTHER_FIRST_NAMES)} {name}",
            relationship="Grand-mère",
            phone=_phone(rng, "06"),
            can_pick_up=True,
            is_emergency_contact=True,
        )
    ]
    if rng.random() < 0.5:
        contacts.append(
            ChildContact(
                full_name=f"{rng.choice(FATHER_FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
                relationship="Voisin",
                phone=_phone(rng, "07"),
                can_pick_up=True,
                is_emergency_contact=False,
            )
        )
    return contacts


def _school_for(age: int, schools: list[School], rng: random.Random) -> School:
    """A school that takes children of `age`: maternelle before 6, élémentaire from 6."""
    wanted = School.Level.MATERNELLE if age < 6 else School.Level.ELEMENTAIRE
    fitting = [school for school in schools if school.level in (wanted, School.Level.PRIMAIRE)]
    return rng.choice(fitting or schools)


def _phone(rng: random.Random, prefix: str) -> str:
    return " ".join([prefix, *(f"{rng.randint(0, 99):02d}" for _ in range(4))])
