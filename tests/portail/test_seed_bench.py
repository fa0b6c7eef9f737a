import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

from bench.seeding import BENCH_EMAIL_DOMAIN, bench_families, seed_bench
from families.models import Child, ChildContact, Family, Guardian

COUNTED_MODELS = ["accounts.User", "account.EmailAddress", "families.Family", "families.Guardian"]
COUNTED_MODELS += ["families.Child", "families.ChildContact"]


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    """The demo logins hash their passwords: Argon2 would take most of each test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def row_counts():
    return {label: apps.get_model(label).objects.count() for label in COUNTED_MODELS}


def test_seeds_the_requested_families(db, today):
    """seed_bench creates N families of 1–2 verified guardians and 1–3 schooled children each."""
    seed_bench(families=6, today=today)

    families = bench_families()
    assert families.count() == 6
    for family in families:
        assert 1 <= family.guardians.count() <= 2
        assert 1 <= family.children.count() <= 3
    guardians = Guardian.objects.filter(family__in=families)
    assert (
        EmailAddress.objects.filter(
            user__guardian__in=guardians, verified=True, primary=True
        ).count()
        == guardians.count()
    )
    children = Child.objects.filter(family__in=families)
    assert not children.filter(school=None).exists()
    assert not children.filter(contacts=None).exists()
    assert families.exclude(quotient_familial=None).exists()


def test_bench_guardians_can_log_in(db, today):
    """A bench guardian logs in by e-mail with the shared bench password."""
    seed_bench(families=2, today=today)

    user = get_user_model().objects.get(email=f"parent00001.1@{BENCH_EMAIL_DOMAIN}")
    assert user.check_password("bench-portail")


def test_keeps_the_demo_families(db, today):
    """The demo parent and neighbour exist beside the bench families."""
    seed_bench(families=3, today=today)

    assert Family.objects.filter(guardians__user__email="parent@example.org").exists()
    assert Family.objects.count() == 3 + 4  # the bench's and the demo's (see seed_demo)


def test_second_run_adds_nothing(db, today):
    """Running seed_bench twice with the same N adds no row the second time."""
    seed_bench(families=5, today=today)
    counts = row_counts()

    assert seed_bench(families=5, today=today) == {}
    assert row_counts() == counts


def test_a_larger_n_adds_only_the_missing_families(db, today):
    """Raising N adds the missing families, and the first ones stay as they were."""
    seed_bench(families=3, today=today)
    first = list(bench_families().values_list("pk", "name").order_by("pk"))
    seed_bench(families=5, today=today)

    assert bench_families().count() == 5
    assert list(bench_families().values_list("pk", "name").order_by("pk")[:3]) == first


def test_command_seeds_at_the_given_date(db, today):
    """`seed_bench --families N --today` seeds N families and a second call changes nothing."""
    call_command("seed_bench", families=4, today="2026-11-26")
    counts = row_counts()
    call_command("seed_bench", families=4, today="2026-11-26")

    assert bench_families().count() == 4
    assert row_counts() == counts
    assert ChildContact.objects.for_family(bench_families().first()).exists()


def test_no_creneau_is_over_capacity(db, today):
    """However few places the créneaux offer, the bench volume fits them: no créneau at any
    school on any day holds more bookings than its places, and each still takes a few more
    children (so the bench's "book one créneau" really books instead of timing a refusal)."""
    from django.db.models import Count

    from reservations.capacity import Capacities
    from reservations.models import Booking, Slot
    from reservations.reference import ensure_reference_data

    ensure_reference_data()
    Slot.objects.update(default_capacity=2)  # far fewer places than the bench's children

    seed_bench(families=20, today=today)

    taken = {
        (row["slot"], row["school"], row["date"]): row["n"]
        for row in Booking.objects.active()
        .values("slot", "school", "date")
        .annotate(n=Count("pk"))
        .order_by()
    }
    assert max(taken.values()) > 2  # the volume did not fit the places it was given
    capacities = Capacities(
        Slot.objects.all(),
        sorted({school for _, school, _ in taken}),
        min(day for _, _, day in taken),
        max(day for _, _, day in taken),
    )
    full = {key: n for key, n in taken.items() if n + 1 > capacities.places(*key)}
    assert full == {}
