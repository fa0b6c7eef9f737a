"""The child's calendar feed: what a calendar app reads at the private address, the family's
page with that address, its regeneration, and who reaches what."""

import datetime
import html
import re
import secrets
import zoneinfo

import icalendar
import pytest
import recurring_ical_events
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from families.models import ChildHousehold
from reservations.models import Booking, CalendarFeed, Closure, Holiday
from tests.factories import SchoolFactory
from tests.portail.test_pages import PUBLIC_ROUTES
from tests.urlwalk import parent_routes

from .conftest import MONDAY, make_family

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
BEFORE_DST_END = datetime.date(2026, 10, 23)  # Friday: summer time (UTC+2)
AFTER_DST_END = datetime.date(2026, 11, 2)  # Monday: winter time since Sunday 25 October
WEEK = datetime.timedelta(weeks=1)


def _book(child, slot, day, **fields):
    return Booking.objects.create(child=child, slot=slot, date=day, school=child.school, **fields)


def _feed_url(client, parent, child) -> str:
    client.force_login(parent)
    page = client.get(reverse("reservations:calendar_subscribe", args=[child.pk]))
    assert page.status_code == 200
    url = page.context["feed_url"]
    client.logout()
    return url


def _fetch(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response


def _events(body: bytes) -> dict:
    """{UID: event} of the feed as icalendar parses it."""
    calendar = icalendar.Calendar.from_ical(body)
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


@pytest.fixture
def booked(child, slots, school):
    """Léa's bookings on both sides of the end of summer time, one in December, a walk-in, and
    a booking cancelled by her family."""
    return {
        "before": _book(child, slots["matin"], BEFORE_DST_END),
        "after": _book(child, slots["matin"], AFTER_DST_END),
        "december": _book(child, slots["soir-1"], MONDAY),
        "walk_in": _book(
            child,
            slots["soir-2"],
            MONDAY,
            origin=Booking.Origin.WALK_IN,
            presence=Booking.Presence.PRESENT,
        ),
        "cancelled": _book(
            child, slots["matin"], MONDAY + datetime.timedelta(days=1), status="cancelled"
        ),
    }


def test_feed_holds_bookings_closures_and_holidays_in_paris_time(
    client, parent, child, school, booked, today
):
    """The feed lists each booking with its créneau, place and Paris times (07:20 on both
    sides of the October time change), the school's closures and the holidays as all-day
    events, and nothing cancelled nor of another school."""
    school.address = "4 avenue du Prainet"
    school.save()
    closure = Closure.objects.create(
        start_date=datetime.date(2026, 12, 10),
        end_date=datetime.date(2026, 12, 10),
        school=school,
        reason="Grève du personnel communal",
    )
    elsewhere = Closure.objects.create(
        start_date=datetime.date(2026, 12, 11),
        end_date=datetime.date(2026, 12, 11),
        school=SchoolFactory(name="École du Bourg"),
        reason="Travaux au Bourg",
    )
    response = _fetch(client, _feed_url(client, parent, child))

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Paris"]
    events = _events(response.content)
    host = "127.0.0.1"
    before = events[f"reservation-{booked['before'].pk}@{host}"]
    after = events[f"reservation-{booked['after'].pk}@{host}"]
    assert before.decoded("DTSTART") == datetime.datetime(2026, 10, 23, 7, 20, tzinfo=PARIS)
    assert before.decoded("DTSTART").utcoffset() == datetime.timedelta(hours=2)
    assert after.decoded("DTSTART") == datetime.datetime(2026, 11, 2, 7, 20, tzinfo=PARIS)
    assert after.decoded("DTSTART").utcoffset() == datetime.timedelta(hours=1)
    assert after.decoded("DTEND") == datetime.datetime(2026, 11, 2, 8, 20, tzinfo=PARIS)
    assert before["DTSTART"].params["TZID"] == "Europe/Paris"
    assert "Matin 07h20-08h20" in str(after["SUMMARY"])
    assert str(after["LOCATION"]) == "École du Prainet, 4 avenue du Prainet"
    assert "DTSTAMP" in after
    walk_in = events[f"reservation-{booked['walk_in'].pk}@{host}"]
    assert "Accueil sans réservation" in str(walk_in["DESCRIPTION"])
    assert f"reservation-{booked['cancelled'].pk}@{host}" not in events

    strike = events[f"fermeture-{closure.pk}@{host}"]
    assert str(strike["SUMMARY"]) == "Fermeture : Grève du personnel communal"
    assert strike.decoded("DTSTART") == datetime.date(2026, 12, 10)
    assert strike.decoded("DTEND") == datetime.date(2026, 12, 11)
    assert f"fermeture-{elsewhere.pk}@{host}" not in events
    # The Toussaint holidays span the time change: an all-day event, dates only.
    toussaint = Holiday.objects.get(kind="school", start_date__month=10, start_date__year=2026)
    holiday = events[f"conge-{toussaint.pk}@{host}"]
    assert holiday.decoded("DTSTART") == toussaint.start_date
    assert holiday.decoded("DTEND") == toussaint.end_date + datetime.timedelta(days=1)
    assert toussaint.start_date < datetime.date(2026, 10, 25) < toussaint.end_date


def test_a_calendar_client_reads_the_same_events(client, parent, child, booked, today):
    """Read as a calendar app would (recurring-ical-events), the feed gives the same events at
    the same times as the bookings, closures and holidays it was written from."""
    body = _fetch(client, _feed_url(client, parent, child)).content
    written = {
        uid: (event.decoded("DTSTART"), event.decoded("DTEND"), str(event["SUMMARY"]))
        for uid, event in _events(body).items()
    }
    read = {
        str(event["UID"]): (event.start, event.end, str(event["SUMMARY"]))
        for event in recurring_ical_events.of(icalendar.Calendar.from_ical(body)).between(
            datetime.date(2026, 1, 1), datetime.date(2030, 1, 1)
        )
    }
    assert read == written
    expected = {
        f"reservation-{booking.pk}@127.0.0.1": (
            datetime.datetime.combine(booking.date, booking.slot.start_time, tzinfo=PARIS),
            datetime.datetime.combine(booking.date, booking.slot.end_time, tzinfo=PARIS),
        )
        for key, booking in booked.items()
        if key != "cancelled"
    }
    bookings_read = {
        uid: times[:2] for uid, times in read.items() if uid.startswith("reservation-")
    }
    assert bookings_read == expected
    # A 07:20 booking before the time change is 05:20 UTC; after it, 06:20 UTC.
    utc = {uid: start.astimezone(datetime.UTC).time() for uid, (start, _end) in expected.items()}
    assert utc[f"reservation-{booked['before'].pk}@127.0.0.1"] == datetime.time(5, 20)
    assert utc[f"reservation-{booked['after'].pk}@127.0.0.1"] == datetime.time(6, 20)
    holidays = {uid for uid in read if uid.startswith("conge-")}
    assert len(holidays) == Holiday.objects.filter(end_date__gte=datetime.date(2026, 8, 26)).count()


def test_a_booking_cancelled_by_the_family_leaves_the_feed(client, parent, child, booked, today):
    """Once the family removes a booking, the next fetch of the feed no longer has it."""
    url = _feed_url(client, parent, child)
    uid = f"reservation-{booked['december'].pk}@127.0.0.1"
    assert uid in _events(_fetch(client, url).content)

    client.force_login(parent)
    response = client.post(reverse("reservations:booking_delete", args=[booked["december"].pk]))
    assert response.status_code == 302
    client.logout()

    assert uid not in _events(_fetch(client, url).content)


def test_regenerating_the_address_kills_the_old_one(client, parent, child, booked, today):
    """« Régénérer le lien » asks first (GET changes nothing), then gives a new address: the
    old one is a 404 at once, the new one works."""
    old = _feed_url(client, parent, child)
    client.force_login(parent)
    regenerate = reverse("reservations:calendar_regenerate", args=[child.pk])
    confirm = client.get(regenerate)
    assert "qui cessera aussitôt de fonctionner" in html.unescape(confirm.content.decode())
    assert _fetch(client, old)

    response = client.post(regenerate, follow=True)

    assert "l'ancien ne fonctionne plus" in html.unescape(response.content.decode())
    new = response.context["feed_url"]
    assert new != old
    client.logout()
    assert client.get(old).status_code == 404
    assert f"reservation-{booked['december'].pk}@127.0.0.1" in _events(_fetch(client, new).content)


def test_another_familys_child_and_guessed_tokens_are_404(client, child, school, booked, today):
    """Another family reaches neither the page nor the regeneration of Léa's address, and its
    own feed tells nothing of her; a guessed or malformed token is a 404."""
    other = make_family("BERNARD", school, children=("Nina",))
    intruder = other.guardians.first().user
    own_url = _feed_url(client, child.family.guardians.first().user, child)
    client.force_login(intruder)
    assert (
        client.get(reverse("reservations:calendar_subscribe", args=[child.pk])).status_code == 404
    )
    digest = CalendarFeed.objects.get(child=child).token_digest
    regenerate = reverse("reservations:calendar_regenerate", args=[child.pk])
    assert client.post(regenerate).status_code == 404
    assert CalendarFeed.objects.get(child=child).token_digest == digest

    other_url = _feed_url(client, intruder, other.children.get())
    body = _fetch(client, other_url).content.decode()
    assert "Léa" not in body and "reservation-" not in body
    assert client.get(own_url).status_code == 200
    for token in (secrets.token_hex(32), "0" * 64, "abc"):
        assert client.get(f"/agenda/flux/{token}.ics").status_code == 404


def test_only_the_feed_is_open_without_login(client, child, booked, today):
    """Deny by default still holds: among the parents' routes, the feed is the only new one a
    visitor reaches without logging in; its page and regeneration ask to log in."""
    open_routes = set()
    for route in parent_routes():
        callback = _callback(route)
        if callback is not None and not getattr(callback, "login_required", True):
            open_routes.add(route.name)
    assert {name for name in open_routes if not name.startswith(("account_", "mfa_"))} == (
        PUBLIC_ROUTES | {"reservations:calendar_feed"}
    )
    for name in ("reservations:calendar_subscribe", "reservations:calendar_regenerate"):
        response = client.get(reverse(name, args=[child.pk]))
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))


def _callback(route):
    from django.urls import get_resolver

    for pattern in _patterns(get_resolver()):
        if _full_name(pattern) == route.name:
            return pattern[1].callback
    return None


def _patterns(resolver, namespace=""):
    from django.urls import URLResolver

    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = (
                f"{namespace}:{entry.namespace}"
                if namespace and entry.namespace
                else (entry.namespace or namespace)
            )
            yield from _patterns(entry, ns)
        else:
            yield namespace, entry


def _full_name(pattern):
    namespace, entry = pattern
    name = entry.name or ""
    return f"{namespace}:{name}" if namespace and name else name


def test_feed_answers_in_constant_queries_with_cache_headers(client, parent, child, slots, today):
    """The feed costs the same queries for 2 bookings as for 40; it may be kept privately for
    an hour, and an unchanged feed answers 304 to the app that has it."""
    url = _feed_url(client, parent, child)
    _book(child, slots["matin"], MONDAY)
    _book(child, slots["soir-1"], MONDAY)
    _fetch(client, url)  # the first fetch stores the holidays of the coming school year
    with CaptureQueriesContext(connection) as few:
        first = _fetch(client, url)
    for offset in range(1, 21):
        day = MONDAY + datetime.timedelta(days=offset)
        _book(child, slots["matin"], day)
        _book(child, slots["soir-1"], day)
    with CaptureQueriesContext(connection) as many:
        second = _fetch(client, url)
    assert len(_events(second.content)) > len(_events(first.content)) + 30
    assert len(many.captured_queries) == len(few.captured_queries) <= 5

    cache = second["Cache-Control"]
    assert "private" in cache and "max-age=3600" in cache
    assert client.get(url, headers={"if-none-match": second["ETag"]}).status_code == 304
    assert re.fullmatch(r'"[0-9a-f]{32}"', second["ETag"])


def test_each_household_of_a_shared_child_has_its_own_days(client, child, school, booked, today):
    """In résidence alternée, the second household subscribes to the child's calendar with its
    own address and finds its own days only; the first household's feed does not list them;
    once the office unlinks the second household, its address is a 404."""
    second = make_family("MARTIN", school, children=())
    ChildHousehold.objects.create(child=child, family=second)
    theirs = Booking.objects.create(
        child=child, family=second, slot=booked["december"].slot, date=MONDAY + WEEK, school=school
    )
    first_url = _feed_url(client, child.family.guardians.first().user, child)
    second_url = _feed_url(client, second.guardians.first().user, child)
    assert second_url != first_url

    first_feed = _events(_fetch(client, first_url).content)
    second_feed = _events(_fetch(client, second_url).content)
    assert f"reservation-{theirs.pk}@127.0.0.1" in second_feed
    assert f"reservation-{theirs.pk}@127.0.0.1" not in first_feed
    assert f"reservation-{booked['december'].pk}@127.0.0.1" not in second_feed

    ChildHousehold.objects.filter(child=child).delete()
    assert client.get(second_url).status_code == 404
    assert client.get(first_url).status_code == 200
