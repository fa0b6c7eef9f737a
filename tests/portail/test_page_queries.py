"""The queries of the parent's busiest pages, on the demo family (two children, bookings all
month, invoices of both régies in every state): each page stays within its budget, and costs
the same once other families, with their bookings and invoices, are added (bench volume).

Counted on the second request: the first of a fresh process fills the cache of reference data
(créneaux, calendar, price grids), as the first parent's page does in production."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench import agenda
from bench.seeding import seed_bench
from portail.demo import seed_demo

pytestmark = pytest.mark.django_db

DEMO_PARENT = "parent@example.org"

# page: (method, URL, data, queries at most); the ceilings were 10, 12, 14 and 12.
PAGES = {
    "agenda, month page": ("get", agenda.month_url, None, 7),
    "agenda, day panel": ("get", agenda.day_url, None, 7),
    "agenda, day save (book one créneau)": ("post", agenda.day_url, agenda.day_save_data, 12),
    "Paiements (two régies)": ("get", lambda: "/paiements/", None, 5),
}


def _queries(client, page) -> int:
    method, url, data, _ = PAGES[page]
    send = getattr(client, method)
    counts = []
    for _ in range(2):
        if method == "post":
            agenda.day_save_reset()
        args = (url(), data()) if data else (url(),)
        with CaptureQueriesContext(connection) as queries:
            response = send(*args)
        assert response.status_code == (302 if method == "post" else 200)
        if method == "post":
            assert agenda.day_save_refusal(response) is None  # it really booked
        counts.append(len(queries))
    return counts[-1]


@pytest.mark.parametrize("page", PAGES)
def test_the_page_costs_a_fixed_number_of_queries(client, today, page):
    seed_demo(today)
    client.force_login(get_user_model().objects.get(email=DEMO_PARENT))
    budget = PAGES[page][-1]

    alone = _queries(client, page)
    seed_bench(families=4, today=today)
    among_others = _queries(client, page)

    assert alone <= budget
    assert among_others == alone


def test_the_message_after_a_saved_day_writes_no_session(client, today):
    """Without JavaScript, saving a day redirects to the month page, which says what was done:
    the message rides in a cookie, so neither request writes the session row."""
    seed_demo(today)
    client.force_login(get_user_model().objects.get(email=DEMO_PARENT))
    client.get(agenda.month_url())  # reference data cached, as on any later request
    agenda.day_save_reset()

    with CaptureQueriesContext(connection) as queries:
        saved = client.post(agenda.day_url(), agenda.day_save_data())
        shown = client.get(saved["Location"])

    assert "Réservé le " in shown.content.decode()
    writes = [q["sql"] for q in queries if q["sql"].startswith(("UPDATE", "INSERT", "DELETE"))]
    assert not [sql for sql in writes if "accounts_session" in sql]
