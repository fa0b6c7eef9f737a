"""The waiting list: joining a full créneau, leaving, the order of the line, the automatic
booking when a place frees (and the family told), the deadline, the rules of any booking."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enrolment.models import Enrolment
from exchanges.models import Thread
from reservations import bulk, services, waitlist
from reservations.models import Booking, CapacityOverride, Closure, WaitlistEntry
from tests.factories import SchoolFactory, UserFactory
from tests.reservations.conftest import MONDAY, TUESDAY_PAST_DEADLINE, make_family

D = datetime.date


@pytest.fixture
def full_monday(slots, school_years, school):
    """« Matin » on Monday 7 December has one place at the school, taken by the DUPONT family."""
    CapacityOverride.objects.create(slot=slots["matin"], school=school, date=MONDAY, places=1)
    holder = make_family("DUPONT", school, children=["Hugo"])
    booking = Booking.objects.create(
        child=holder.children.get(), slot=slots["matin"], date=MONDAY, school=school
    )
    return booking


@pytest.fixture
def office(client, db):
    """The browser of an administrative assistant (the group's permissions, from the data
    migrations), signed in to the admin."""
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Assistant administratif"))
    client.force_login(user)
    return client


def _join(family, slot, day=MONDAY, *, today):
    child = family.children.get()
    return waitlist.join(
        child=child, slot=slot, day=day, by=family.guardians.first().user, today=today
    )


def _panel_post(client, child, day, data):
    return client.post(
        reverse("reservations:day", args=[child.pk, day]), data, HTTP_HX_REQUEST="true"
    )


def test_the_day_panel_offers_the_waiting_list_on_a_full_creneau(
    client, parent, child, slots, full_monday, today
):
    """A full créneau: « Complet » and « M'inscrire en liste d'attente »; once joined, the
    panel says the place in line and offers to leave."""
    client.force_login(parent)
    html = client.get(reverse("reservations:day", args=[child.pk, MONDAY])).content.decode()
    assert "Complet : il ne reste plus de place" in html
    assert html.count("M'inscrire en liste d'attente") == 1

    response = _panel_post(client, child, MONDAY, {"liste_attente": str(slots["matin"].pk)})

    page = response.content.decode()
    expected = {"F": "inscrite", "M": "inscrit"}.get(child.sex, "inscrit(e)")
    assert f"Léa est {expected} en liste d&#x27;attente pour « Matin 07h20-08h20 »" in page
    assert "Liste d'attente : <strong>1re place</strong>" in page
    assert "Quitter la liste d'attente" in page
    assert "M'inscrire en liste d'attente" not in page
    entry = WaitlistEntry.objects.get()
    assert (entry.child, entry.slot, entry.date, entry.is_waiting) == (
        child,
        slots["matin"],
        MONDAY,
        True,
    )


def test_joining_twice_is_refused(parent, family, slots, full_monday, today):
    """A child already in line for that créneau and day is not put in line again."""
    _join(family, slots["matin"], today=today)
    with pytest.raises(ValidationError, match="déjà en liste d'attente"):
        _join(family, slots["matin"], today=today)
    assert WaitlistEntry.objects.count() == 1


def test_joining_a_day_past_the_deadline_is_refused(
    client, parent, child, family, slots, school, today
):
    """The deadline of a booking holds for the waiting list too, and the panel offers no
    button on such a day."""
    CapacityOverride.objects.create(
        slot=slots["matin"], school=school, date=TUESDAY_PAST_DEADLINE, places=0
    )
    with pytest.raises(ValidationError, match="Délai dépassé"):
        _join(family, slots["matin"], TUESDAY_PAST_DEADLINE, today=today)
    client.force_login(parent)
    url = reverse("reservations:day", args=[child.pk, TUESDAY_PAST_DEADLINE])
    assert "liste d'attente" not in client.get(url).content.decode()
    response = _panel_post(
        client, child, TUESDAY_PAST_DEADLINE, {"liste_attente": str(slots["matin"].pk)}
    )
    assert "Délai dépassé" in response.content.decode()
    assert not WaitlistEntry.objects.exists()


def test_joining_when_a_place_is_free_is_refused(client, parent, child, family, slots, today):
    """A créneau with places left is booked, not waited for."""
    with pytest.raises(ValidationError, match="réservez directement"):
        _join(family, slots["soir-1"], today=today)
    client.force_login(parent)
    response = _panel_post(client, child, MONDAY, {"liste_attente": str(slots["soir-1"].pk)})
    assert "réservez directement ce créneau" in response.content.decode()
    assert not WaitlistEntry.objects.exists()


def test_a_child_not_enrolled_cannot_join(slots, school_years, school, full_monday, today):
    """Only a child who could be booked, were there a place, may wait for one."""
    family = make_family("MARTIN", school, children=["Nina"], enrolled=False)
    with pytest.raises(ValidationError, match="Inscription requise"):
        _join(family, slots["matin"], today=today)


def test_leaving_the_line(client, parent, child, family, slots, full_monday, today):
    """« Quitter la liste d'attente » asks, then takes the child out; those behind move up."""
    entry = _join(family, slots["matin"], today=today)
    second = make_family("BERNARD", child.school, children=["Zoé"])
    behind = _join(second, slots["matin"], today=today)
    client.force_login(parent)
    url = reverse("reservations:waitlist_leave", args=[entry.pk])
    assert "1re place" in client.get(url).content.decode()

    response = client.post(url, follow=True)

    assert "ne fait plus partie de la liste d&#x27;attente" in response.content.decode()
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.LEFT
    assert WaitlistEntry.objects.with_rank().get(pk=behind.pk).rank == 1
    full_monday_cancel(full_monday, today)
    assert not Booking.objects.active().filter(child=child).exists()
    assert Booking.objects.active().filter(child=second.children.get()).exists()


def full_monday_cancel(booking, today):
    """The DUPONT family cancels its Monday booking (« Supprimer »)."""
    holder = booking.child.family.guardians.first().user
    services.booking_cancel(booking=booking, by=holder, today=today)


def test_leaving_from_the_day_panel(client, parent, child, family, slots, full_monday, today):
    """The panel's « Quitter la liste d'attente » takes the child out of the line at once."""
    entry = _join(family, slots["matin"], today=today)
    client.force_login(parent)
    response = _panel_post(client, child, MONDAY, {"quitter_attente": str(entry.pk)})
    assert "ne fait plus partie de la liste d&#x27;attente" in response.content.decode()
    assert not WaitlistEntry.objects.waiting().exists()


def test_a_cancellation_books_the_first_in_line_and_tells_the_family(
    family, child, slots, school, full_monday, today, django_capture_on_commit_callbacks
):
    """The place freed by a cancellation goes to the first child in line, in the same
    transaction; its family gets a message in « Échanges » and an e-mail; the second child
    stays in line, now first."""
    first = _join(family, slots["matin"], today=today)
    other = make_family("BERNARD", school, children=["Zoé"])
    second = _join(other, slots["matin"], today=today)

    with django_capture_on_commit_callbacks(execute=True):
        full_monday_cancel(full_monday, today)

    booking = Booking.objects.active().get(slot=slots["matin"], date=MONDAY)
    assert booking.child == child and booking.origin == Booking.Origin.WAITLIST
    first.refresh_from_db()
    assert first.status == WaitlistEntry.Status.BOOKED and first.booking == booking
    assert WaitlistEntry.objects.with_rank().get(pk=second.pk).rank == 1
    thread = Thread.objects.get(family=family)
    assert thread.family_unread
    assert thread.subject == "Liste d'attente : Léa a une place le 07/12/2026"
    body = thread.messages.get().body
    assert f"La réservation n° {booking.number} est validée" in body
    assert "lundi 07/12/2026" in body
    assert not Thread.objects.filter(family=other).exists()
    sent = [m for m in mail.outbox if family.guardians.first().user.email in m.to]
    assert len(sent) == 1 and "Liste d'attente" in sent[0].subject


def test_the_order_of_the_line_is_respected(slots, school, full_monday, today):
    """Three children in line, two places freed: the first two, in order, are booked."""
    families = [make_family(name, school, children=[name.title()]) for name in ("A", "B", "C")]
    entries = [_join(f, slots["matin"], today=today) for f in families]
    CapacityOverride.objects.filter(slot=slots["matin"]).update(places=3)
    waitlist.refill(today=today, slot_ids=[slots["matin"].pk])

    statuses = [WaitlistEntry.objects.get(pk=e.pk).status for e in entries]
    assert statuses == ["booked", "booked", "waiting"]


def test_staff_reorder_changes_who_is_booked(office, slots, school, full_monday, today):
    """The office moves the second child up: it is the one booked when the place frees."""
    families = [make_family(name, school, children=[name.title()]) for name in ("A", "B")]
    first, second = [_join(f, slots["matin"], today=today) for f in families]
    changelist = reverse("admin:reservations_waitlistentry_changelist")

    response = office.post(
        changelist, {"action": "move_up", "_selected_action": [second.pk]}, follow=True
    )

    assert "monté d&#x27;un rang" in response.content.decode()
    full_monday_cancel(full_monday, today)
    assert WaitlistEntry.objects.get(pk=second.pk).status == WaitlistEntry.Status.BOOKED
    assert WaitlistEntry.objects.get(pk=first.pk).status == WaitlistEntry.Status.WAITING


def test_the_admin_list_shows_the_lines_in_order_with_filters(
    office, slots, school_years, school, today
):
    """Staff see each line in order, with its rank, and filter by créneau and day."""
    CapacityOverride.objects.create(slot=slots["matin"], school=school, date=MONDAY, places=0)
    for name in ("Zéphyr", "Amandine"):
        _join(make_family(name.upper(), school, children=[name]), slots["matin"], today=today)
    url = reverse("admin:reservations_waitlistentry_changelist")
    html = office.get(
        url, {"slot__id__exact": slots["matin"].pk, "date__gte": "2026-12-07"}
    ).content.decode()
    table = html[html.index('id="result_list"') :]
    assert table.index("Zéphyr") < table.index("Amandine")
    assert "Monter d&#x27;un rang dans la liste d&#x27;attente" in html
    assert "jour demandé" in html
    other = office.get(url, {"slot__id__exact": slots["soir-1"].pk}).content.decode()
    assert "Zéphyr" not in other[other.index("<main") :]
    later = office.get(url, {"date__gte": "2026-12-08"}).content.decode()
    assert "Zéphyr" not in later[later.index("<main") :]


def test_the_assistant_group_may_see_and_reorder(slots, school, today):
    """The data migration gives the assistants view and change on the waiting list."""
    from django.contrib.auth.models import Group

    perms = set(
        Group.objects.get(name="Assistant administratif").permissions.values_list(
            "codename", flat=True
        )
    )
    assert {"view_waitlistentry", "change_waitlistentry"} <= perms
    assert "delete_waitlistentry" not in perms


def test_a_day_past_the_deadline_empties_its_line_with_a_message(
    family, slots, school, full_monday, today
):
    """The nightly sweep: a line whose day is now past the deadline empties, each family told
    once; a second run does nothing."""
    entry = _join(family, slots["matin"], today=today)
    later = D(2026, 12, 3)  # Thursday: Monday 7 is no longer modifiable

    call_command("sweep_waitlist", "--today", later.isoformat())

    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.EXPIRED
    message = Thread.objects.get(family=family).messages.get()
    assert "Aucune place ne s'est libérée à temps" in message.body
    assert not Booking.objects.active().filter(child=entry.child).exists()
    waitlist.sweep(today=later)
    assert Thread.objects.get(family=family).messages.count() == 1


def test_a_place_freed_past_the_deadline_books_nobody(family, slots, school, full_monday, today):
    """Staff cancel past the deadline: the child in line is not booked but told, and leaves."""
    entry = _join(family, slots["matin"], today=today)
    later = D(2026, 12, 4)
    staff = full_monday.child.family.guardians.first().user
    services.booking_cancel(booking=full_monday, by=staff, today=later, staff=True)

    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.EXPIRED
    assert not Booking.objects.active().filter(slot=slots["matin"], date=MONDAY).exists()
    assert "Aucune place" in Thread.objects.get(family=family).messages.get().body


def test_promotion_respects_the_enrolment(family, child, slots, school, full_monday, today):
    """A child whose enrolment was withdrawn since joining is not booked: the next one is,
    and the first family is told why."""
    entry = _join(family, slots["matin"], today=today)
    other = make_family("BERNARD", school, children=["Zoé"])
    behind = _join(other, slots["matin"], today=today)
    Enrolment.objects.filter(child=child).delete()

    full_monday_cancel(full_monday, today)

    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistEntry.Status.DROPPED
    assert WaitlistEntry.objects.get(pk=behind.pk).status == WaitlistEntry.Status.BOOKED
    assert not Booking.objects.active().filter(child=child).exists()
    expected = {"F": "inscrite", "M": "inscrit"}.get(child.sex, "inscrit(e)")
    body = Thread.objects.get(family=family).messages.get().body
    assert f"Léa ne peut pas y être {expected} : inscription requise" in body


def test_promotion_respects_the_school(family, child, slots, full_monday, today):
    """A child who changed school waits for a place at its old school no more."""
    entry = _join(family, slots["matin"], today=today)
    child.school = SchoolFactory(name="École Leclerc")
    child.save()
    full_monday_cancel(full_monday, today)
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistEntry.Status.DROPPED
    assert not Booking.objects.active().filter(child=child).exists()


def test_a_closure_keeps_the_line_and_its_lifting_books_the_first(
    office, family, child, slots, school, full_monday, today
):
    """A closure frees the day's places but nobody is booked on a closed day; when the office
    lifts it for that day (shortened in the admin), the first child in line is booked."""
    entry = _join(family, slots["matin"], today=today)
    closure = Closure.objects.create(
        start_date=MONDAY, end_date=D(2026, 12, 8), school=school, reason="Grève"
    )
    services.closure_apply(closure=closure)
    assert WaitlistEntry.objects.get(pk=entry.pk).is_waiting
    assert not Booking.objects.active().filter(date=MONDAY).exists()

    response = office.post(
        reverse("admin:reservations_closure_change", args=[closure.pk]),
        {
            "start_date": "2026-12-08",
            "end_date": "2026-12-08",
            "school": school.pk,
            "activity": "",
            "reason": "Grève",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]

    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistEntry.Status.BOOKED
    assert Booking.objects.active().filter(child=child, date=MONDAY).exists()


def test_a_capacity_raised_by_staff_books_the_first(
    office, family, child, slots, school, full_monday, today
):
    """The office raises the day's capacity from the admin: the child in line is booked."""
    entry = _join(family, slots["matin"], today=today)
    override = CapacityOverride.objects.get(slot=slots["matin"], date=MONDAY)
    url = reverse("admin:reservations_capacityoverride_change", args=[override.pk])
    response = office.post(
        url,
        {
            "slot": slots["matin"].pk,
            "school": school.pk,
            "date": "2026-12-07",
            "places": 2,
            "reason": "Renfort",
        },
    )
    assert response.status_code == 302
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistEntry.Status.BOOKED


def test_a_bulk_deletion_frees_places_for_the_line(family, slots, school, full_monday, today):
    """Saisie groupée « Supprimer » frees places like « Supprimer » on one day."""
    entry = _join(family, slots["matin"], today=today)
    holder = full_monday.child.family
    request = bulk.BulkRequest(
        children=(full_monday.child,),
        action=bulk.DELETE,
        start=MONDAY,
        end=MONDAY,
        slots=(slots["matin"],),
    )
    bulk.apply(request, by=holder.guardians.first().user, today=today)
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistEntry.Status.BOOKED


def test_bulk_preview_offers_the_waiting_list_for_the_full_days(
    client, parent, child, slots, school, today
):
    """The bulk preview lists the full days and one choice puts them all in line; the free
    days are booked in the same confirmation."""
    tuesday = D(2026, 12, 8)
    for day in (MONDAY, tuesday):
        CapacityOverride.objects.create(slot=slots["matin"], school=school, date=day, places=0)
    client.force_login(parent)
    data = {
        "enfants": [child.pk],
        "action": "create",
        "du": "2026-12-07",
        "au": "2026-12-11",
        "creneaux": [slots["matin"].pk],
        "periodicite": "",
    }
    preview = client.post(reverse("reservations:bulk_entry"), data).content.decode()
    assert "M'inscrire en liste d'attente pour les 2 jours complets" in preview

    result = client.post(
        reverse("reservations:bulk_entry"), {**data, "etape": "confirmer", "liste_attente": "1"}
    ).content.decode()

    assert "Inscrit en liste d'attente : 2 jours" in result
    assert set(WaitlistEntry.objects.waiting().values_list("date", flat=True)) == {
        MONDAY,
        tuesday,
    }
    assert Booking.objects.active().filter(child=child).count() == 2  # Thursday and Friday


def test_parents_see_their_place_on_the_month_and_the_list(
    client, parent, child, family, slots, school, full_monday, today
):
    """The month grid marks the day with the place in line; « Mes listes d'attente » lists it."""
    _join(make_family("AVANT", school, children=["Paul"]), slots["matin"], today=today)
    _join(family, slots["matin"], today=today)
    client.force_login(parent)
    month = client.get(reverse("reservations:month", args=[child.pk, 2026, 12])).content.decode()
    assert "Matin · attente, 2e place" in month
    page = client.get(reverse("reservations:waitlist")).content.decode()
    assert "Liste d'attente : <strong>2e place</strong>" in page
    assert "Léa — Accueil du matin : Matin 07h20-08h20" in page


def test_another_family_entry_is_404(client, family, slots, school, full_monday, today):
    """Another family can neither see nor leave an entry: 404, and the panel's leave button
    with its id changes nothing."""
    entry = _join(family, slots["matin"], today=today)
    other = make_family("VOISIN", school, children=["Tom"])
    client.force_login(other.guardians.first().user)
    url = reverse("reservations:waitlist_leave", args=[entry.pk])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    _panel_post(client, other.children.get(), MONDAY, {"quitter_attente": str(entry.pk)})
    assert WaitlistEntry.objects.get(pk=entry.pk).is_waiting
    assert (
        family.children.get().first_name
        not in client.get(reverse("reservations:waitlist")).content.decode()
    )


def _count(client, url):
    """The queries of the page, once the cache of reference data is filled (a change of
    capacity empties it; the first page after one reads it again, whatever the waiting)."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_waiting_list_costs_the_month_and_the_panel_one_query(
    client, parent, child, family, slots, school, today
):
    """Showing the places in line costs the month page and the day panel one query each,
    whatever the number of days waited for."""
    client.force_login(parent)
    month = reverse("reservations:month", args=[child.pk, 2026, 12])
    panel = reverse("reservations:day", args=[child.pk, MONDAY])
    before = _count(client, month), _count(client, panel)
    days = [MONDAY, D(2026, 12, 8), D(2026, 12, 10), D(2026, 12, 11)]
    for day in days:
        CapacityOverride.objects.create(slot=slots["matin"], school=school, date=day, places=0)
    _join(family, slots["matin"], MONDAY, today=today)
    one = _count(client, month), _count(client, panel)
    for day in days[1:]:
        _join(family, slots["matin"], day, today=today)
    many = _count(client, month), _count(client, panel)

    assert "attente, 1re place" in client.get(month).content.decode()
    assert one == many
    assert one[0] <= before[0] + 1 and one[1] <= before[1] + 1


def test_the_sweep_runs_every_night_from_the_beat(family, slots, full_monday, today):
    """The beat runs the sweep each night just after midnight in Paris; its task empties the
    lines whose day is past the deadline, like the command."""
    from portail.celery import app
    from reservations.tasks import sweep_waitlist

    schedules = {e["task"]: e["schedule"] for e in app.conf.beat_schedule.values()}
    assert schedules["reservations.tasks.sweep_waitlist"].hour == {0}
    entry = _join(family, slots["matin"], today=today)
    with time_machine.travel(datetime.datetime(2026, 12, 3, 6, 0, tzinfo=datetime.UTC)):
        assert sweep_waitlist() == 1
    assert WaitlistEntry.objects.get(pk=entry.pk).status == WaitlistEntry.Status.EXPIRED
