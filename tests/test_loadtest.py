"""`make loadtest`'s pieces that hold without the load itself: each simulated parent's plan, the
way the parents read and submit the day panel, the Locust file, and the database's checks after
the load (an overbooking or a duplicate booking made on purpose is found)."""

import datetime
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from bench.loadtest import checks
from bench.loadtest.forms import confirm_form, csrf_token, encode, panel_form
from bench.loadtest.plan import build_plan
from bench.seeding import seed_bench
from billing.models import Invoice
from families.models import Child
from reservations.availability import Availability
from reservations.deadlines import is_modifiable
from reservations.models import Booking, CapacityOverride, Slot

ROOT = Path(__file__).resolve().parent.parent
HTMX_PANEL = {"HX-Request": "true", "HX-Target": "panneau-jour"}


@pytest.fixture
def seeded(db, today, settings):
    """A tiny bench volume (demo data and four bench families) on the pinned today."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    seed_bench(families=4, today=today)
    return today


@pytest.fixture
def plan(seeded):
    return build_plan(users=3, today=seeded)


def test_each_parent_has_its_own_account_and_a_creneau_it_may_book(plan, today):
    """Three parents, three accounts; each one's child may book its créneau on its day (deadline,
    enrolment, places), and its invoice is its family's."""
    parents = plan["parents"]
    assert len({parent["email"] for parent in parents}) == 3
    for parent in parents:
        child = Child.objects.get(
            pk=parent["child"], family__guardians__user__email=parent["email"]
        )
        day = datetime.date.fromisoformat(parent["day"])
        slot = Slot.objects.select_related("activity").get(pk=parent["slot"])
        assert is_modifiable(day, today)
        assert Availability([child], [slot], day, day, today).book_refusal(child, slot, day) is None
        assert Invoice.objects.filter(pk=parent["invoice"], family=child.family).exists()


def test_the_parents_book_and_cancel_through_the_day_panel_as_rendered(client, plan):
    """The fields the simulated parent reads on the panel book the créneau, and the two steps of
    the removal cancel it: what Locust sends is what the portal expects."""
    parent = plan["parents"][0]
    client.force_login(get_user_model().objects.get(email=parent["email"]))
    url = f"/agenda/{parent['child']}/{parent['day']}/"
    slot = str(parent["slot"])
    booked = Booking.objects.active().filter(
        child=parent["child"], slot=parent["slot"], date=parent["day"]
    )

    html = client.get(url, headers=HTMX_PANEL).content.decode()
    fields = panel_form(html)
    assert slot in fields["modifiables"] and slot not in fields["creneau"]
    fields["creneau"].append(slot)
    html = client.post(url, dict_of(encode(fields, csrf_token(html))), headers=HTMX_PANEL)
    html = html.content.decode()
    assert "Réservé :" in html
    assert booked.count() == 1

    fields = panel_form(html)
    fields["creneau"].remove(slot)
    html = client.post(url, dict_of(encode(fields, csrf_token(html))), headers=HTMX_PANEL)
    html = html.content.decode()
    assert "Vous allez supprimer" in html
    assert booked.count() == 1
    response = client.post(
        url, dict_of(encode(confirm_form(html), csrf_token(html))), headers=HTMX_PANEL
    )
    assert "Supprimé :" in response.content.decode()
    assert booked.count() == 0


def dict_of(pairs):
    """(name, value) pairs as the test client takes a form: lists for repeated names."""
    out = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


def test_the_locust_file_declares_the_parents_and_the_floor_probe():
    """Locust loads the file (in its own process: Locust patches the standard library) and finds
    the parents and the floor probe."""
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "locust"),
            "-f",
            "bench/loadtest/locustfile.py",
            "--list",
        ],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) >= {"Parent", "Floor"}


def test_an_overbooking_made_during_the_load_fails_the_check(plan, today):
    """A créneau filled to its places passes; one booking more than its places, inserted without
    the booking service's lock (as a race would), fails and is named."""
    before = checks.overbooked()
    parent = plan["parents"][0]
    child = Child.objects.get(pk=parent["child"])
    day = datetime.date.fromisoformat(parent["day"])
    key = (parent["slot"], child.school_id, day)
    taken = Booking.objects.active().filter(slot=key[0], school=key[1], date=day).count()
    CapacityOverride.objects.create(slot_id=key[0], school_id=key[1], date=day, places=taken + 1)
    Booking.objects.create(child=child, slot_id=key[0], school_id=key[1], date=day)
    assert checks.check_after_load(before).ok

    other = Child.objects.exclude(
        pk__in=Booking.objects.active().filter(slot=key[0], date=day).values("child")
    ).first()
    Booking.objects.create(child=other, slot_id=key[0], school_id=key[1], date=day)

    result = checks.check_after_load(before)
    assert not result.ok
    assert result.over_capacity == {key: (0, taken + 2, taken + 1)}
    assert any("over capacity after the load" in line for line in result.lines())


@pytest.mark.postgres
def test_a_duplicate_booking_fails_the_check(plan):
    """Two active bookings of one child on the same créneau and day fail the check, even with the
    database's unique constraint gone (dropped here, inside the test's transaction)."""
    parent = plan["parents"][0]
    child = Child.objects.get(pk=parent["child"])
    constraint = next(
        c for c in Booking._meta.constraints if c.name == "booking_one_active_per_child_slot_day"
    )
    with connection.schema_editor() as editor:
        editor.remove_constraint(Booking, constraint)
    assert checks.duplicates() == []
    for _ in range(2):
        Booking.objects.create(
            child=child, slot_id=parent["slot"], school_id=child.school_id, date=parent["day"]
        )

    result = checks.check_after_load({})
    assert not result.ok
    assert result.duplicates == [
        (child.pk, parent["slot"], datetime.date.fromisoformat(parent["day"]), 2)
    ]
