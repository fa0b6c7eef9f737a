"""The 3-working-day rule: `reservations.deadlines.is_modifiable(day, today)`."""

import datetime

import pytest

from reservations.deadlines import (
    first_modifiable_day,
    is_modifiable,
    is_working_day,
    last_day_to_modify,
    working_days_between,
)

D = datetime.date

# (today, day, modifiable, why)
CASES = [
    # The tutorial's week: on Tuesday 07, Wed 08 / Thu 09 / Fri 10 are "Non réservable",
    # Monday 13 is "Réservable" (October 2025 has the same calendar).
    (D(2025, 10, 7), D(2025, 10, 7), False, "today itself"),
    (D(2025, 10, 7), D(2025, 10, 8), False, "tutorial: Wednesday 08"),
    (D(2025, 10, 7), D(2025, 10, 9), False, "tutorial: Thursday 09"),
    (D(2025, 10, 7), D(2025, 10, 10), False, "tutorial: Friday 10"),
    (D(2025, 10, 7), D(2025, 10, 13), True, "tutorial: Monday 13"),
    (D(2025, 10, 7), D(2025, 10, 17), True, "tutorial: Friday 17"),
    (D(2025, 10, 7), D(2025, 10, 6), False, "a past day"),
    # Weekends do not count.
    (D(2025, 10, 10), D(2025, 10, 15), False, "Friday → Wednesday: Mon, Tue only"),
    (D(2025, 10, 10), D(2025, 10, 16), True, "Friday → Thursday: Mon, Tue, Wed"),
    (D(2025, 10, 11), D(2025, 10, 16), True, "Saturday → Thursday: Mon, Tue, Wed"),
    (D(2025, 10, 12), D(2025, 10, 15), False, "Sunday → Wednesday: Mon, Tue only"),
    (
        D(2025, 10, 7),
        D(2025, 10, 11),
        True,
        "Saturday 11 has Wed, Thu, Fri before it (no care anyway)",
    ),
    # 11 November (Tuesday in 2025) inside the window.
    (D(2025, 11, 7), D(2025, 11, 13), False, "Fri → Thu 13: Mon 10, Wed 12 (11 Nov skipped)"),
    (D(2025, 11, 7), D(2025, 11, 14), True, "Fri → Fri 14: Mon 10, Wed 12, Thu 13"),
    # Ascension (Thursday 14 May 2026); the bridge Friday is a working day, not a school day.
    (D(2026, 5, 11), D(2026, 5, 15), False, "Mon → Fri 15: Tue, Wed"),
    (D(2026, 5, 11), D(2026, 5, 18), True, "Mon → Mon 18: Tue, Wed, Fri 15 (Ascension skipped)"),
    (D(2026, 5, 12), D(2026, 5, 18), False, "Tue → Mon 18: Wed, Fri 15"),
    # Whit Monday (25 May 2026).
    (D(2026, 5, 20), D(2026, 5, 26), False, "Wed → Tue 26: Thu, Fri (Whit Monday skipped)"),
    (D(2026, 5, 20), D(2026, 5, 27), True, "Wed → Wed 27: Thu, Fri, Tue"),
    # 1 May (Friday in 2026) and 8 May.
    (D(2026, 4, 28), D(2026, 5, 4), False, "Tue → Mon 4 May: Wed, Thu (1 May skipped)"),
    (D(2026, 4, 28), D(2026, 5, 5), True, "Tue → Tue 5 May: Wed, Thu, Mon"),
    # A public holiday as the target day: the rule only counts the days between.
    (D(2026, 11, 3), D(2026, 11, 11), True, "Armistice itself: five working days before it"),
    (D(2026, 11, 6), D(2026, 11, 12), False, "day after Armistice: Mon 9, Tue 10 (11 Nov skipped)"),
    (D(2026, 12, 21), D(2026, 12, 25), True, "Christmas Day: Tue, Wed, Thu between"),
    (D(2026, 12, 22), D(2026, 12, 28), False, "Tue 22 → Mon 28: Wed, Thu (Christmas skipped)"),
    # Across the New Year.
    (D(2026, 12, 28), D(2027, 1, 4), True, "Mon 28 Dec → Mon 4 Jan: Tue, Wed, Thu (1 Jan skipped)"),
    (D(2026, 12, 29), D(2027, 1, 4), False, "Tue 29 Dec → Mon 4 Jan: Wed, Thu"),
]


@pytest.mark.parametrize(("today", "day", "expected", "why"), CASES, ids=[c[3] for c in CASES])
def test_is_modifiable(today, day, expected, why):
    """A day is modifiable only with at least 3 working days strictly between today and it."""
    assert is_modifiable(day, today) is expected


def test_positional_contract():
    """The contract is positional: is_modifiable(day, today)."""
    assert is_modifiable(D(2025, 10, 13), D(2025, 10, 7))
    assert not is_modifiable(D(2025, 10, 7), D(2025, 10, 13))


@pytest.mark.parametrize(
    ("today", "first"),
    [
        (D(2025, 10, 7), D(2025, 10, 13)),  # NOTES: Tuesday → next Monday
        (D(2025, 11, 7), D(2025, 11, 14)),  # NOTES: 11 November skipped
        (D(2026, 5, 11), D(2026, 5, 18)),  # NOTES: Ascension skipped, bridge Friday counted
        (D(2026, 11, 26), D(2026, 12, 2)),  # the demo's Thursday → Wednesday
        (D(2026, 11, 28), D(2026, 12, 3)),  # a Saturday
        (D(2026, 12, 22), D(2026, 12, 29)),  # Christmas Day skipped
    ],
)
def test_first_modifiable_day(today, first):
    """The first modifiable day is a working day, and the day before it is not modifiable."""
    assert first_modifiable_day(today) == first
    assert is_modifiable(first, today)
    assert is_working_day(first)
    assert not is_modifiable(first - datetime.timedelta(days=1), today) or not is_working_day(
        first - datetime.timedelta(days=1)
    )


@pytest.mark.parametrize(
    ("day", "last"),
    [
        (D(2025, 10, 13), D(2025, 10, 7)),  # Monday: until the Tuesday before
        (D(2025, 11, 14), D(2025, 11, 9)),  # across 11 November: until Sunday 9
        (D(2026, 12, 10), D(2026, 12, 6)),  # Thursday: until Sunday (Mon, Tue, Wed between)
    ],
)
def test_last_day_to_modify(day, last):
    """The last date on which a day can still be changed, as the day panel explains it."""
    assert last_day_to_modify(day) == last
    assert is_modifiable(day, last)
    assert not is_modifiable(day, last + datetime.timedelta(days=1))


def test_working_days_between_excludes_both_ends():
    """Only the days strictly between are counted."""
    assert working_days_between(D(2025, 10, 6), D(2025, 10, 10)) == 3
    assert working_days_between(D(2025, 10, 6), D(2025, 10, 7)) == 0


def test_exhaustive_agreement_with_the_definition():
    """Over two years, is_modifiable agrees with counting working days one by one."""
    today = D(2025, 8, 25)
    while today < D(2027, 8, 1):
        for offset in range(1, 12):
            day = today + datetime.timedelta(days=offset)
            between = [today + datetime.timedelta(days=n) for n in range(1, offset)]
            expected = sum(is_working_day(d) for d in between) >= 3
            assert is_modifiable(day, today) is expected, (today, day)
        today += datetime.timedelta(days=1)
