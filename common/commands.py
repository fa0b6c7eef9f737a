"""What management commands share: reading the dates given to their options."""

import datetime

from django.core.management.base import CommandError
from django.utils import timezone


def day_option(value: str | None, *, option: str = "--today") -> datetime.date:
    """The YYYY-MM-DD given to `option`, or today's date in Paris when it was left out;
    CommandError (in French) when it is not a date."""
    if value is None:
        return timezone.localdate()
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"{option} attend une date AAAA-MM-JJ.") from exc
