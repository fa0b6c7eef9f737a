"""A child's calendar as an iCalendar feed that phones and calendar apps subscribe to.

The feed lives at a secret address (`CalendarFeed`): calendar apps cannot log in, so the token
in the address is the only check. It is long and random, derived from a stored key by an HMAC
under the project's secret key, and looked up by its SHA-256: neither the token nor anything
that compares it character by character is stored. An unknown token, an old one (the family
regenerated the address) or a guessed one finds nothing: a 404.

The feed holds the child's bookings made by the feed's household (one event per créneau and
day, in Europe/Paris time, with the créneau and the school in it), the closures of the child's
school or of the whole town, and the school holidays and public holidays (all-day events), from
FEED_PAST_DAYS ago onwards. In résidence alternée each household's feed has its own days only.
Cancelled bookings are left out. Read in a fixed number of queries whatever the number of
bookings.
"""

import datetime
import hashlib
import secrets
import zoneinfo
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils.crypto import salted_hmac
from icalendar import Calendar, Event

from .calendar import ensure_calendar
from .models import Booking, CalendarFeed, Closure, Holiday

FEED_PAST_DAYS = 92  # about a term: what a calendar app still shows of the past
FEED_AHEAD_DAYS = 366  # the holidays of the school years up to a year ahead are loaded
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
TOKEN_SALT = "reservations.CalendarFeed"
PRODID = "-//Ville de Tassin-la-Demi-Lune//Portail famille//FR"


def feed_token(feed: CalendarFeed) -> str:
    """The token of the feed's address: 64 hexadecimal characters (256 bits)."""
    return salted_hmac(TOKEN_SALT, feed.key, algorithm="sha256").hexdigest()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_key(feed: CalendarFeed) -> None:
    feed.key = secrets.token_hex(32)
    feed.token_digest = token_digest(feed_token(feed))


def feed_for(*, child, family) -> CalendarFeed:
    """The feed of `child` for `family`, created with a new address the first time."""
    feed = CalendarFeed.objects.filter(child=child, family=family).first()
    if feed is not None:
        return feed
    feed = CalendarFeed(child=child, family=family)
    _new_key(feed)
    with transaction.atomic():
        CalendarFeed.objects.bulk_create([feed], ignore_conflicts=True)
    # A concurrent first visit may have created it: the stored one is the address.
    return CalendarFeed.objects.get(child=child, family=family)


@transaction.atomic
def feed_regenerate(*, feed: CalendarFeed) -> CalendarFeed:
    """Give the feed a new address; the old one answers 404 from now on."""
    _new_key(feed)
    feed.created_at = datetime.datetime.now(datetime.UTC)
    feed.save(update_fields=["key", "token_digest", "created_at"])
    return feed


def find_feed(token: str) -> CalendarFeed | None:
    """The feed whose address holds `token`, with its child and school, or None."""
    # Only while the household still looks after the child (a second household unlinked by
    # the office loses the feed at once).
    looks_after = Q(child__family=F("family")) | Q(child__second_household__family=F("family"))
    return (
        CalendarFeed.objects.select_related("child__school")
        .filter(looks_after, token_digest=token_digest(token))
        .first()
    )


def _uid(kind: str, pk) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "portail-famille"
    return f"{kind}-{pk}@{host}"


def _place(school) -> str:
    if school is None:
        return ""
    return f"{school.name}, {school.address}" if school.address else school.name


def _booking_event(booking: Booking, child, stamp: datetime.datetime) -> Event:
    slot = booking.slot
    event = Event()
    event.add("uid", _uid("reservation", booking.pk))
    event.add("dtstamp", booking.created_at or stamp)
    event.add("dtstart", datetime.datetime.combine(booking.date, slot.start_time, tzinfo=PARIS))
    event.add("dtend", datetime.datetime.combine(booking.date, slot.end_time, tzinfo=PARIS))
    event.add("summary", f"{slot.activity.name} — {slot.label} ({child.first_name})")
    event.add("location", _place(booking.school))
    lines = [
        f"{child.first_name} {child.last_name.upper()}",
        f"Activité : {slot.activity.name}",
        f"Créneau : {slot.label} ({slot.hours})",
        f"Lieu : {_place(booking.school)}",
        f"Réservation n° {booking.number}",
    ]
    if booking.is_walk_in:
        lines.append("Accueil sans réservation")
    elif booking.presence == Booking.Presence.EXCUSED:
        lines.append("Absence excusée")
    event.add("description", "\n".join(lines))
    event.add("transp", "OPAQUE")
    return event


def _all_day(uid: str, summary: str, first, last, stamp, *, description="") -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", first)
    event.add("dtend", last + datetime.timedelta(days=1))  # exclusive end of an all-day event
    event.add("summary", summary)
    if description:
        event.add("description", description)
    event.add("transp", "TRANSPARENT")
    return event


def _closure_event(closure: Closure, stamp) -> Event:
    summary = f"Fermeture : {closure.reason}"
    if closure.activity_id:
        summary += f" ({closure.activity.name})"
    return _all_day(
        _uid("fermeture", closure.pk),
        summary,
        closure.start_date,
        closure.end_date,
        closure.created_at or stamp,
        description=f"Aucun accueil {closure.period_label} : {closure.scope_label}.",
    )


def _holiday_event(holiday: Holiday, stamp) -> Event:
    if holiday.kind == Holiday.Kind.PUBLIC:
        summary = f"Jour férié : {holiday.name}"
    elif holiday.name.lower().startswith("vacances"):
        summary = holiday.name  # « Vacances de la Toussaint »
    else:
        summary = f"Vacances scolaires : {holiday.name}"
    return _all_day(_uid("conge", holiday.pk), summary, holiday.start_date, holiday.end_date, stamp)


def calendar_for(feed: CalendarFeed, *, today: datetime.date, now: datetime.datetime) -> bytes:
    """The iCalendar text of the feed: the child's bookings, closures and holidays."""
    child = feed.child
    since = today - datetime.timedelta(days=FEED_PAST_DAYS)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"Agenda de {child.first_name} — Portail famille")
    calendar.add("x-wr-timezone", "Europe/Paris")
    calendar.add("refresh-interval", datetime.timedelta(hours=6), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT6H")
    bookings = (
        Booking.objects.active()
        .filter(child=child, family_id=feed.family_id, date__gte=since)
        .select_related("slot__activity", "school")
        .order_by("date", "slot__start_time", "pk")
    )
    for booking in bookings:
        calendar.add_component(_booking_event(booking, child, now))
    closures = (
        Closure.objects.filter(end_date__gte=since)
        .filter(Q(school__isnull=True) | Q(school_id=child.school_id))
        .select_related("activity", "school")
        .order_by("start_date", "pk")
    )
    for closure in closures:
        calendar.add_component(_closure_event(closure, now))
    ensure_calendar(since, today + datetime.timedelta(days=FEED_AHEAD_DAYS))
    for holiday in Holiday.objects.filter(end_date__gte=since).order_by("start_date", "pk"):
        calendar.add_component(_holiday_event(holiday, now))
    calendar.add_missing_timezones()
    return calendar.to_ical()
