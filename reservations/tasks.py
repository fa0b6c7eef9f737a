from celery import shared_task
from django.utils import timezone

from .calendar import ensure_calendar_around


@shared_task
def load_calendar() -> int:
    """Store the holidays of the school years around today (monthly; does nothing once done)."""
    return ensure_calendar_around(timezone.localdate())
