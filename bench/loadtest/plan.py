"""What each simulated parent does, chosen in the seeded database before the load: its account,
the child whose agenda it opens, the day and the créneau it books then cancels, and the invoice
whose PDF it downloads. Written to a JSON file that the locustfile reads (Locust runs in another
process, without Django).

Each account is a distinct bench family's first guardian: logins are rate-limited and locked
out per (e-mail, client address), so no two simulated parents share one. The day is one that
can still be changed on the pinned "today" (3-working-day rule), the créneau one the child is
enrolled in, does not have, and that has places left for every simulated parent sent to it.
"""

import datetime
import json
from collections import Counter

DAYS_AHEAD = 21  # the days looked at, from the first modifiable one
PLACES_SPARE = 2  # places left free on every créneau the plan sends parents to


def build_plan(*, users: int, today: datetime.date) -> dict:
    """The plan of `users` parents (an account each) and of the floor probe, on `today`."""
    from bench.seeding import BENCH_PASSWORD, bench_email

    parents = []
    taken = Counter()  # places the plan already promised, per (créneau, school, day)
    number, misses = 0, 0
    while len(parents) < users:
        batch = [bench_email(n) for n in range(number + 1, number + 1 + max(users, 50))]
        number += len(batch)
        found = _parents_for(batch, today, taken, wanted=users - len(parents))
        parents += found
        misses = 0 if found else misses + 1
        if misses >= 3 or not _exists(batch[-1]):
            break
    if len(parents) < users:
        raise RuntimeError(
            f"only {len(parents)} bench families have a créneau to book on a modifiable day "
            f"with places left (wanted {users}): seed more families"
        )
    return {
        "today": today.isoformat(),
        "password": BENCH_PASSWORD,
        "parents": parents,
        "floor": {"email": "parent@example.org", "password": "parent-portail"},
    }


def _exists(email: str) -> bool:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(email=email).exists()


def _parents_for(emails, today, taken: Counter, *, wanted: int) -> list[dict]:
    """The parents among `emails` with something to book, at most `wanted` of them."""
    from billing.models import Invoice
    from families.models import Child, Guardian
    from reservations.availability import Availability
    from reservations.deadlines import first_modifiable_day
    from reservations.models import Slot

    guardians = {
        g.family_id: g.user.email
        for g in Guardian.objects.filter(user__email__in=emails).select_related("user")
    }
    children = list(
        Child.objects.filter(family__in=guardians, school__isnull=False)
        .select_related("school")
        .order_by("family", "pk")
    )
    if not children:
        return []
    slots = list(Slot.objects.active().select_related("activity"))
    start = first_modifiable_day(today)
    end = start + datetime.timedelta(days=DAYS_AHEAD)
    availability = Availability(children, slots, start, end, today)
    invoices = {}
    for family_id, pk in (
        Invoice.objects.filter(family__in=guardians)
        .order_by("family", "-pk")
        .values_list("family", "pk")
    ):
        invoices.setdefault(family_id, pk)
    parents, seen = [], set()
    for child in children:
        if len(parents) >= wanted:
            break
        if child.family_id in seen or child.family_id not in invoices:
            continue
        target = _bookable(child, slots, availability, start, end, taken)
        if target is None:
            continue
        slot, day = target
        taken[(slot.pk, child.school_id, day)] += 1
        seen.add(child.family_id)
        parents.append(
            {
                "email": guardians[child.family_id],
                "child": child.pk,
                "day": day.isoformat(),
                "slot": slot.pk,
                "invoice": invoices[child.family_id],
            }
        )
    return parents


def _bookable(child, slots, availability, start, end, taken: Counter):
    """The first (créneau, day) the child can book with places to spare, or None."""
    day = start
    while day <= end:
        for slot in slots:
            if availability.book_refusal(child, slot, day):
                continue
            left = availability.places_left(slot, child.school_id, day)
            if left - taken[(slot.pk, child.school_id, day)] > PLACES_SPARE:
                return slot, day
        day += datetime.timedelta(days=1)
    return None


def write_plan(plan: dict, path) -> None:
    with open(path, "w", encoding="utf-8") as out:
        json.dump(plan, out, ensure_ascii=False, indent=1)
