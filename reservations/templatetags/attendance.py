"""What the register's rows need in templates."""

from django import template

from reservations import attendance
from reservations.models import Booking

register = template.Library()

# The buttons of a row: presence, label, Bootstrap colour.
MARKS = [
    (Booking.Presence.PRESENT, "Présent", "success"),
    (Booking.Presence.ABSENT, "Absent", "danger"),
    (Booking.Presence.EXCUSED, "Absent excusé", "secondary"),
]


@register.simple_tag
def attendance_marks():
    """The three taps of a row: présent, absent, absent excusé."""
    return MARKS


@register.filter
def decided_by_office(booking) -> bool:
    """True when the row's presence comes from an absence the office has decided on."""
    return attendance.decided_by_office(booking)
