"""The booking deadline: "les réservations et suppressions de sessions ne peuvent s'effectuer
qu'au maximum 3 jours ouvrés avant la date souhaitée".

A day can be booked or cancelled only if at least `MIN_WORKING_DAYS` working days lie strictly
between today and that day. Working days are Monday to Friday minus French public holidays; they
count the deadline only. Whether a créneau runs on a day (school holidays, closures) is another
question, answered by `reservations.calendar`.

Pure functions of their arguments: the callers (views, tasks) pass today as the Europe/Paris date.
"""

import datetime
from functools import lru_cache

import holidays

MIN_WORKING_DAYS = 3
ONE_DAY = datetime.timedelta(days=1)


@lru_cache(maxsize=64)
def public_holidays(year: int) -> dict[datetime.date, str]:
    """The French (metropolitan) public holidays of `year`, with their French names."""
    return dict(holidays.country_holidays("FR", years=year, language="fr"))


def public_holiday_name(day: datetime.date) -> str:
    """The name of the public holiday on `day`, or an empty string."""
    return public_holidays(day.year).get(day, "")


def is_working_day(day: datetime.date) -> bool:
    """Monday to Friday, and not a public holiday."""
    return day.weekday() < 5 and day not in public_holidays(day.year)


def working_days_between(start: datetime.date, end: datetime.date) -> int:
    """The number of working days strictly after `start` and strictly before `end`."""
    count = 0
    day = start + ONE_DAY
    while day < end:
        count += is_working_day(day)
        day += ONE_DAY
    return count


def is_modifiable(day: datetime.date, today: datetime.date) -> bool:
    """True if a booking on `day` can still be made or cancelled on `today`: at least three
    working days lie strictly between them (on Tuesday the 7th, Monday the 13th is the first)."""
    # Equivalent to counting working_days_between(today, day) >= 3, in constant time: the
    # count reaches 3 exactly after the third working day following today.
    return day > nth_working_day_after(today, MIN_WORKING_DAYS)


@lru_cache(maxsize=1024)
def nth_working_day_after(today: datetime.date, n: int) -> datetime.date:
    """The n-th working day after `today` (n ≥ 1)."""
    day, found = today, 0
    while found < n:
        day += ONE_DAY
        found += is_working_day(day)
    return day


def first_modifiable_day(today: datetime.date) -> datetime.date:
    """The first working day that can still be booked or cancelled on `today` (weekends and
    public holidays, though not counted against the rule, are never offered first)."""
    return nth_working_day_after(today, MIN_WORKING_DAYS + 1)


def last_day_to_modify(day: datetime.date) -> datetime.date:
    """The last date on which a booking on `day` can still be made or cancelled."""
    found, candidate = 0, day
    while found < MIN_WORKING_DAYS:
        candidate -= ONE_DAY
        found += is_working_day(candidate)
    # `candidate` is the third working day before `day`; any date before it leaves three between.
    return candidate - ONE_DAY
