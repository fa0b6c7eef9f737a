"""Résidence alternée in the agenda: a child of the LAGRANGE household also belongs to the
MARTIN household; each books and cancels its own days and sees the other's as « Réservé par
l'autre foyer », nothing more."""

import datetime
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from families.households import household_link
from reservations.models import Absence, Booking, CapacityOverride, Closure
from reservations.services import closure_apply
from tests.factories import GuardianFactory

from .conftest import MONDAY, make_family

pytestmark = pytest.mark.django_db

D = datetime.date
TUESDAY = D(2026, 12, 8)
PAST_MONDAY = D(2026, 11, 30)  # past the deadline on TODAY (Thursday 2026-11-26)
PAST_TUESDAY = D(2026, 12, 1)
OTHER = "Réservé par l'autre foyer"


@pytest.fixture
def martin(slots, school_years, school):
    """The other parent's household, with its own account, address and QF, no child of its own."""
    guardian = GuardianFactory(
        family__name="MARTIN",
        family__address="8 impasse des Tilleuls",
        family__quotient_familial=450,
        family__quotient_valid_until=D(2027, 6, 30),
    )
    return guardian.family


@pytest.fixture
def shared(child, martin):
    """Léa (LAGRANGE) has MARTIN as her second household."""
    household_link(child=child, family=martin, by=None, now=timezone.now())
    return child


def login(client, family):
    client.force_login(family.guardians.first().user)
    return client


def day_url(child, day):
    return reverse("reservations:day", args=[child.pk, day])


def post_day(client, child, day, slot, *, tick=True, rendered=False):
    """The day panel submitted as a browser would, for one créneau."""
    data = {
        "affiches": [slot.pk],
        "reserves": [slot.pk] if rendered else [],
        "modifiables": [slot.pk],
        "creneau": [slot.pk] if tick else [],
        "confirmer": "1",
    }
    return client.post(day_url(child, day), data)


def month_html(client, child, year=2026, month=12):
    response = client.get(reverse("reservations:month", args=[child.pk, year, month]))
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_the_second_household_books_the_shared_child_for_itself(
    client, family, martin, shared, slots, today
):
    """MARTIN opens Léa's agenda (the enrolment is common) and books a day: the booking is
    MARTIN's, not LAGRANGE's."""
    login(client, martin)
    assert "Léa" in month_html(client, shared)

    post_day(client, shared, MONDAY, slots["matin"])

    booking = Booking.objects.active().get(child=shared)
    assert booking.family == martin
    assert booking.created_by == martin.guardians.first().user
    assert list(Booking.objects.for_family(family)) == []


def test_each_household_sees_the_others_days_as_reserved_by_the_other_and_nothing_more(
    client, family, martin, shared, slots, today
):
    """LAGRANGE books Monday, MARTIN Tuesday: on each one's month page and day panel the other's
    day reads « Réservé par l'autre foyer », without its number nor a link to it."""
    post_day(login(client, family), shared, MONDAY, slots["matin"])
    post_day(login(client, martin), shared, TUESDAY, slots["matin"])
    mine = Booking.objects.get(family=family)
    theirs = Booking.objects.get(family=martin)

    for household, own, other in ((family, mine, theirs), (martin, theirs, mine)):
        login(client, household)
        month = month_html(client, shared)
        assert month.count(OTHER) == 1
        assert reverse("reservations:booking_detail", args=[own.pk]) in month
        assert reverse("reservations:booking_detail", args=[other.pk]) not in month
        panel = unescape(client.get(day_url(shared, other.date)).content.decode())
        assert OTHER in panel
        assert f"n° {other.number}" not in panel
        assert reverse("reservations:booking_detail", args=[other.pk]) not in panel
        matin = slots["matin"].pk
        box = f'name="creneau" value="{matin}" id="creneau-{matin}" checked disabled'
        assert box in " ".join(panel.split())


def test_a_household_cannot_book_again_nor_cancel_the_others_day(
    client, family, martin, shared, slots, today
):
    """Forged posts: MARTIN ticking LAGRANGE's créneau, or unticking it, change nothing; its
    booking page and its removal are 404 for MARTIN."""
    post_day(login(client, family), shared, MONDAY, slots["matin"])
    booking = Booking.objects.get()

    login(client, martin)
    post_day(client, shared, MONDAY, slots["matin"])
    response = post_day(client, shared, MONDAY, slots["matin"], tick=False, rendered=True)

    assert response.status_code in (200, 302)
    booking.refresh_from_db()
    assert booking.is_active and booking.family == family
    assert Booking.objects.count() == 1
    for name in ("reservations:booking_detail", "reservations:booking_delete"):
        assert client.get(reverse(name, args=[booking.pk])).status_code == 404
    assert client.post(reverse("reservations:booking_delete", args=[booking.pk])).status_code == 404
    booking.refresh_from_db()
    assert booking.is_active


def test_the_first_household_cancels_only_its_own_bookings(
    client, family, martin, shared, slots, today
):
    """LAGRANGE cancels its own day; MARTIN's stays booked and is not LAGRANGE's to delete."""
    post_day(login(client, martin), shared, TUESDAY, slots["matin"])
    post_day(login(client, family), shared, MONDAY, slots["matin"])
    mine = Booking.objects.get(family=family)
    theirs = Booking.objects.get(family=martin)

    post_day(client, shared, MONDAY, slots["matin"], tick=False, rendered=True)
    assert client.post(reverse("reservations:booking_delete", args=[theirs.pk])).status_code == 404

    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert not mine.is_active
    assert theirs.is_active


def test_bulk_entry_even_weeks_for_one_household_odd_weeks_for_the_other(
    client, family, martin, shared, slots, today
):
    """Saisie groupée: MARTIN books the even weeks of December, LAGRANGE the odd ones; the
    preview of a household asking for every week lists the other's days under « réservé par
    l'autre foyer » and creates the rest."""

    def bulk(household, parity, step="apercu", token=None):
        data = {
            "enfants": [shared.pk],
            "action": "create",
            "du": "2026-12-02",
            "au": "2026-12-18",
            "creneaux": [slots["matin"].pk],
            "periodicite": parity,
            "etape": step,
        }
        if token:
            data["apercu"] = token
        return login(client, household).post(reverse("reservations:bulk_entry"), data)

    preview = bulk(martin, "even")
    bulk(martin, "even", "confirmer", preview.context["plan"].token())
    preview = bulk(family, "")
    html = unescape(preview.content.decode())
    assert "Réservé par l'autre foyer : 4" in html
    assert "6 réservations seront créées" in html
    bulk(family, "odd", "confirmer", bulk(family, "odd").context["plan"].token())

    weeks = {
        household: sorted(
            {b.date.isocalendar().week for b in Booking.objects.active().filter(family=household)}
        )
        for household in (family, martin)
    }
    assert weeks == {family: [49, 51], martin: [50]}
    assert Booking.objects.active().filter(family=martin).count() == 4
    assert Booking.objects.active().filter(family=family).count() == 6


def test_bulk_deletion_leaves_the_others_days_alone(client, family, martin, shared, slots, today):
    """LAGRANGE's « Supprimer » over the whole period deletes its own days only."""
    post_day(login(client, martin), shared, TUESDAY, slots["matin"])
    post_day(login(client, family), shared, MONDAY, slots["matin"])
    data = {
        "enfants": [shared.pk],
        "action": "delete",
        "du": "2026-12-07",
        "au": "2026-12-11",
        "creneaux": [slots["matin"].pk],
        "periodicite": "",
        "etape": "confirmer",
    }
    client.post(reverse("reservations:bulk_entry"), data)

    assert list(Booking.objects.active().values_list("family", "date")) == [(martin.pk, TUESDAY)]


def test_places_count_the_bookings_of_both_households(
    client, family, martin, shared, slots, school, today
):
    """One place left on Monday morning: MARTIN's booking of Léa takes it, another family's child
    is refused « complet »."""
    CapacityOverride.objects.create(slot=slots["matin"], school=school, date=MONDAY, places=1)
    neighbour = make_family("BERNARD", school, children=("Nina",))
    post_day(login(client, martin), shared, MONDAY, slots["matin"])

    nina = neighbour.children.get()
    post_day(login(client, neighbour), nina, MONDAY, slots["matin"])

    assert not Booking.objects.filter(child=nina).exists()
    assert Booking.objects.active().filter(date=MONDAY).count() == 1


def test_an_absence_covers_only_the_declaring_households_bookings_and_stays_its_own(
    client, family, martin, shared, slots, today
):
    """MARTIN declares Léa ill over two days past the deadline: only its own booking is marked
    absent; LAGRANGE sees neither the absence nor its certificate (404)."""
    Booking.objects.create(
        child=shared, family=family, slot=slots["matin"], date=PAST_MONDAY, school=shared.school
    )
    Booking.objects.create(
        child=shared, family=martin, slot=slots["matin"], date=PAST_TUESDAY, school=shared.school
    )
    login(client, martin)
    client.post(
        reverse("reservations:absence_create", args=[shared.pk]),
        {"du": PAST_MONDAY.isoformat(), "au": PAST_TUESDAY.isoformat(), "motif": "Grippe"},
    )

    absence = Absence.objects.get()
    assert absence.family == martin
    assert list(absence.bookings.values_list("date", flat=True)) == [PAST_TUESDAY]
    assert Booking.objects.get(family=family).presence == Booking.Presence.RESERVED
    login(client, family)
    assert client.get(reverse("reservations:absence_detail", args=[absence.pk])).status_code == 404
    assert "Grippe" not in month_html(client, shared, 2026, 11)


def test_a_closure_tells_each_household_of_its_own_bookings_only(
    family, martin, shared, slots, today
):
    """A closure over both households' days: each is told, in its own Échanges, of its day."""
    Booking.objects.create(
        child=shared, family=family, slot=slots["matin"], date=MONDAY, school=shared.school
    )
    Booking.objects.create(
        child=shared, family=martin, slot=slots["matin"], date=TUESDAY, school=shared.school
    )
    closure = Closure.objects.create(start_date=MONDAY, end_date=TUESDAY, reason="Grève")

    closure_apply(closure=closure)

    for household, own, other in ((family, MONDAY, TUESDAY), (martin, TUESDAY, MONDAY)):
        body = household.threads.get().messages.get().body
        assert f"le {own:%d/%m/%Y}" in body
        assert f"le {other:%d/%m/%Y}" not in body


def _queries(client, url) -> int:
    client.get(url)  # the first view after a save also reads and clears its flash messages
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_a_shared_child_costs_the_agenda_no_more_queries_than_any_child(
    client, family, martin, shared, slots, school, today
):
    """The month page and the day panel of a child in résidence alternée, with bookings of both
    households, take as many queries as those of a child of one household with the same
    bookings: the other household's days are told apart in memory."""
    post_day(login(client, family), shared, MONDAY, slots["matin"])
    post_day(login(client, martin), shared, TUESDAY, slots["matin"])
    alone = make_family("BERNARD", school, children=("Nina",))
    nina = alone.children.get()
    post_day(login(client, alone), nina, MONDAY, slots["matin"])
    post_day(client, nina, TUESDAY, slots["matin"])

    def costs(household, child):
        login(client, household)
        month = reverse("reservations:month", args=[child.pk, 2026, 12])
        return _queries(client, month), _queries(client, day_url(child, TUESDAY))

    assert costs(family, shared) == costs(martin, shared) == costs(alone, nina)


def test_the_second_household_cannot_edit_the_childs_record(client, family, martin, shared, today):
    """The child's record (contacts, health) stays with the first household: 404 for MARTIN,
    whose « Mon foyer » lists Léa under « En résidence alternée », without the first
    household's address, contacts or guardians."""
    shared.family.address = "5 rue du Premier Foyer"
    shared.family.save()
    login(client, martin)
    assert client.get(reverse("families:child_update", args=[shared.pk])).status_code == 404
    assert client.get(reverse("families:household_invite", args=[shared.pk])).status_code == 404
    page = client.get(reverse("families:family_detail")).content.decode()
    assert "En résidence alternée" in page and "Léa" in page
    for secret in (
        "5 rue du Premier Foyer",
        family.guardians.first().user.email,
        shared.contacts.first().full_name if shared.contacts.exists() else "Monique",
    ):
        assert secret not in page
