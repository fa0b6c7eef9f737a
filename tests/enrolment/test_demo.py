import pytest
from django.core.management import call_command

from bench.seeding import BUSY_FAMILY_REQUESTS, bench_email, seed_bench
from enrolment.models import Enrolment, EnrolmentRequest, RequestDocument
from families.models import Family, SchoolYear


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def test_seed_demo_files_requests_in_every_state_and_is_idempotent(db, today):
    """Both demo families get requests in every state (one with a refused document and its reason);
    a second run adds nothing."""
    call_command("seed_demo", "--today", today.isoformat())
    counts = (
        EnrolmentRequest.objects.count(),
        RequestDocument.objects.count(),
        Enrolment.objects.count(),
    )
    call_command("seed_demo", "--today", today.isoformat())
    assert (
        EnrolmentRequest.objects.count(),
        RequestDocument.objects.count(),
        Enrolment.objects.count(),
    ) == counts
    for email in ("parent@example.org", "voisin@example.org"):
        family = Family.objects.get(guardians__user__email=email)
        states = set(EnrolmentRequest.objects.for_family(family).values_list("state", flat=True))
        assert states == set(EnrolmentRequest.State.values)
        refused = RequestDocument.objects.for_family(family).filter(
            state=RequestDocument.State.REFUSED
        )
        assert refused.exists() and all(document.reason for document in refused)


def test_demo_children_lea_and_lalo_are_enrolled_in_both_services(db, today):
    """The demo parent's children are enrolled (effective) in both services for the current year."""
    call_command("seed_demo", "--today", today.isoformat())
    year = SchoolYear.objects.current(today)
    family = Family.objects.get(guardians__user__email="parent@example.org")
    for first_name in ("Léa", "Lalo"):
        child = family.children.get(first_name=first_name)
        services = set(
            Enrolment.objects.effective(year, on=today)
            .filter(child=child)
            .values_list("service__slug", flat=True)
        )
        assert services == {"periscolaire", "alai"}


def test_bench_gives_family_1_fifty_requests(db, today):
    """seed_bench gives bench family 1 its 50 requests and other families a few; a rerun adds none."""
    seed_bench(families=3, today=today)
    family = Family.objects.get(guardians__user__email=bench_email(1))
    assert EnrolmentRequest.objects.for_family(family).count() == BUSY_FAMILY_REQUESTS
    assert Enrolment.objects.for_family(family).exists()
    assert seed_bench(families=3, today=today) == {}
