from celery import shared_task
from django.utils import timezone

from . import waitlist
from .calendar import ensure_calendar_around


@shared_task
def load_calendar() -> int:
    """Store the holidays of the school years around today (monthly; does nothing once done)."""
    return ensure_calendar_around(timezone.localdate())


@shared_task
def sweep_waitlist() -> int:
    """Every night: lines whose day is past the deadline empty (families told); free places go
    to the children waiting. Returns how many entries left a line."""
    return len(waitlist.sweep(today=timezone.localdate()))
