"""Dates written the French way, whatever the locale of the process (night jobs, PDFs)."""

import datetime

MONTHS = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]  # fmt: skip


def month_name(day: datetime.date) -> str:
    """ "novembre 2026"."""
    return f"{MONTHS[day.month - 1]} {day.year}"


def long_date(day: datetime.date) -> str:
    """ "1er novembre 2026", "26 novembre 2026"."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {MONTHS[day.month - 1]} {day.year}"


def parse_month(value: str) -> datetime.date:
    """The first day of the month written "YYYY-MM"; ValueError otherwise."""
    year, _, month = (value or "").strip().partition("-")
    if len(year) != 4 or not year.isdigit() or not month.isdigit():
        raise ValueError(value)
    return datetime.date(int(year), int(month), 1)
