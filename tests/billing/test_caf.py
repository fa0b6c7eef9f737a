"""The CAF figures: hours booked, attended and invoiced and children welcomed, per activity and
age group, for a month or a year; the admin page, its CSV and who may open them."""

import csv
import datetime
import io

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.caf import Period, caf_figures
from families.models import Child
from portail.demo import seed_demo
from reservations.models import Booking, Closure, Slot
from reservations.reference import ensure_reference_data
from reservations.services import closure_apply
from tests.factories import ChildFactory, GuardianFactory, SchoolFactory, UserFactory

pytestmark = pytest.mark.django_db

SEPTEMBER = Period(2026, 9)


def _by_activity(figures):
    """{activity name: {"Moins de 6 ans" | "6 ans et plus" | "Total": (booked, attended,
    invoiced hours, children)}}."""
    return {
        item.activity.name: {
            label: (row.booked_hours, row.attended_hours, row.invoiced_hours, row.children)
            for label, row in item.rows()
        }
        for item in figures.activities
    }


def _staff(group):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def demo(today):
    return seed_demo(today)


# September 2026 in the demo data, counted by hand.
#
# On TODAY (26/11/2026) the demo has invoiced October (issued on 10/11) and September (paid).
# September's bookings are those of billing.demo.MONTH_PATTERNS, all in the past, so all marked
# present; nothing is cancelled and there is no closure or holiday in September (school starts
# on Tuesday 1 September 2026). The reservations demo only books from 05/11 on.
# September 2026 has 4 Mondays (7, 14, 21, 28), 5 Tuesdays (1, 8, 15, 22, 29), 5 Wednesdays
# (2, 9, 16, 23, 30), 4 Thursdays (3, 10, 17, 24) and 4 Fridays (4, 11, 18, 25).
# Durations: matin 07:20-08:20 = 1 h, soir 1 16:30-17:30 = 1 h, soir 2 17:30-18:30 = 1 h,
# mercredi 07:30-18:30 = 11 h.
# Ages (families.demo: born on the 14th, 2 months apart, from the start of the school year):
# Léa 8 (14/03/2018), Lalo 5 (14/05/2021: under 6 all month), Nina 7 (14/03/2019).
# - Accueil du matin: Léa, matin Mon/Tue/Thu/Fri = 4 + 5 + 4 + 4 = 17 days → 17 h (6 and over).
# - Accueil périscolaire: Léa soir 1 Tue/Thu = 5 + 4 = 9 h and Nina soir 1 Mon/Tue/Thu/Fri =
#   17 h (6 and over: 26 h, 2 children); Lalo soir 2 Mon/Thu = 4 + 4 = 8 h (under 6, 1 child).
# - Mercredi: Léa, Lalo and Nina, 5 Wednesdays × 11 h = 55 h each: Lalo 55 h under 6, Léa and
#   Nina 110 h 6 and over.
# Every one of them is booked, attended and invoiced.
SEPTEMBER_BY_HAND = {
    "Accueil du matin": {
        "Moins de 6 ans": ("0", "0", "0", 0),
        "6 ans et plus": ("17", "17", "17", 1),
        "Total": ("17", "17", "17", 1),
    },
    "Accueil périscolaire": {
        "Moins de 6 ans": ("8", "8", "8", 1),
        "6 ans et plus": ("26", "26", "26", 2),
        "Total": ("34", "34", "34", 3),
    },
    "Mercredi": {
        "Moins de 6 ans": ("55", "55", "55", 1),
        "6 ans et plus": ("110", "110", "110", 2),
        "Total": ("165", "165", "165", 3),
    },
}


def test_demo_september_matches_the_hours_counted_by_hand(client, demo, today):
    """The CAF table of September 2026 for the demo data is the one counted by hand above,
    on the page as in the figures."""
    assert _by_activity(caf_figures(SEPTEMBER)) == SEPTEMBER_BY_HAND

    client.force_login(_staff("Régisseur"))
    page = client.get(reverse("admin:caf"), {"annee": 2026, "mois": 9})
    assert page.status_code == 200
    assert _by_activity(page.context["figures"]) == SEPTEMBER_BY_HAND
    html = page.content.decode()
    assert "<h2>Septembre 2026</h2>" in html
    assert "<svg" in html and "165 h" in html


def test_excused_absence_closure_and_unexcused_absence(demo, today):
    """A closure removes its bookings from every figure; an excused absence stays booked but is
    neither attended nor invoiced (though its invoice is not corrected yet); an unexcused
    absence is invoiced but not attended."""
    lea = Child.objects.get(first_name="Léa")
    matin = Slot.objects.get(code="matin")
    # Tuesday 15/09: Léa's matin (1 h) and soir 1 (1 h) cancelled by a closure of her school.
    closure = Closure.objects.create(
        start_date=datetime.date(2026, 9, 15),
        end_date=datetime.date(2026, 9, 15),
        school=lea.school,
        reason="Grève du personnel communal",
    )
    assert closure_apply(closure=closure) == 2
    # Monday 14/09: her matin excused; Friday 18/09: her matin an absence not excused.
    Booking.objects.filter(child=lea, slot=matin, date=datetime.date(2026, 9, 14)).update(
        presence=Booking.Presence.EXCUSED
    )
    Booking.objects.filter(child=lea, slot=matin, date=datetime.date(2026, 9, 18)).update(
        presence=Booking.Presence.ABSENT
    )

    figures = _by_activity(caf_figures(SEPTEMBER))

    # Matin: 17 booked − 1 closed = 16; attended 16 − excused − absent = 14; invoiced 16 − 1 = 15.
    assert figures["Accueil du matin"]["Total"] == ("16", "14", "15", 1)
    # Périscolaire: Léa's soir 1 of the 15th closed: 34 − 1 everywhere.
    assert figures["Accueil périscolaire"]["6 ans et plus"] == ("25", "25", "25", 2)


@pytest.fixture
def slots(db):
    return ensure_reference_data()


def test_a_child_turning_6_mid_month_counts_in_each_group_on_its_days(slots, today):
    """Born on 15/11/2020, a child is under 6 on Thursday 12 November 2026 and 6 on Monday
    16 November: one hour in each group, one child in each, one child in all."""
    school = SchoolFactory()
    family = GuardianFactory().family
    child = ChildFactory(family=family, school=school, birth_date=datetime.date(2020, 11, 15))
    for day in (datetime.date(2026, 11, 12), datetime.date(2026, 11, 16)):
        Booking.objects.create(
            child=child,
            slot=slots["matin"],
            date=day,
            school=school,
            presence=Booking.Presence.PRESENT,
        )

    figures = _by_activity(caf_figures(Period(2026, 11)))

    matin = figures["Accueil du matin"]
    assert matin["Moins de 6 ans"] == ("1", "1", "0", 1)
    assert matin["6 ans et plus"] == ("1", "1", "0", 1)
    assert matin["Total"] == ("2", "2", "0", 1)
    # The year counts the child once in each group and once in all.
    year = _by_activity(caf_figures(Period(2026)))["Accueil du matin"]
    assert [year[label][3] for label in ("Moins de 6 ans", "6 ans et plus", "Total")] == [1, 1, 1]


def test_the_régisseur_and_the_office_see_the_figures_an_animateur_does_not(client, db):
    """The page and its CSV open for the régisseur and the administrative assistant; an
    animateur gets 403, and the dashboard links the page only for those allowed."""
    for group in ("Régisseur", "Assistant administratif"):
        client.force_login(_staff(group))
        assert client.get(reverse("admin:caf")).status_code == 200
        assert client.get(reverse("admin:caf_csv")).status_code == 200
        assert reverse("admin:caf") in client.get(reverse("admin:index")).content.decode()
    client.force_login(_staff("Animateur"))
    assert client.get(reverse("admin:caf")).status_code == 403
    assert client.get(reverse("admin:caf_csv")).status_code == 403
    assert reverse("admin:caf") not in client.get(reverse("admin:index")).content.decode()


def test_csv_of_the_year_gives_each_month_then_the_year(client, demo, today):
    """The year's CSV (semicolons, UTF-8 with BOM) has a row per month, activity and age group,
    then the year's; September's rows are those counted by hand."""
    client.force_login(_staff("Assistant administratif"))
    response = client.get(reverse("admin:caf_csv"), {"annee": 2026, "mois": ""})

    assert response["Content-Disposition"] == 'attachment; filename="chiffres-caf-2026.csv"'
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert rows[0] == [
        "Période",
        "Activité",
        "Âge",
        "Heures réservées",
        "Heures réalisées",
        "Heures facturées",
        "Enfants accueillis",
    ]
    assert len(rows) == 1 + 13 * 3 * 3  # 12 months and the year, 3 activities, 3 rows each
    september = [row for row in rows if row[0] == "Septembre 2026"]
    assert september[6:] == [
        ["Septembre 2026", "Mercredi", "Moins de 6 ans", "55", "55", "55", "1"],
        ["Septembre 2026", "Mercredi", "6 ans et plus", "110", "110", "110", "2"],
        ["Septembre 2026", "Mercredi", "Total", "165", "165", "165", "3"],
    ]
    year_mercredi = [row for row in rows if row[0] == "Année 2026" and row[1] == "Mercredi"]
    assert year_mercredi[-1][5] > "165"  # October and November add to September


def test_a_period_not_offered_is_a_french_message_not_an_error(client, db):
    """A year or month outside the lists gives the figures of the default month with a message
    in French, never a server error."""
    client.force_login(_staff("Régisseur"))
    response = client.get(reverse("admin:caf"), {"annee": "1999", "mois": "13"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Choisissez une année de la liste" in html
    assert "Choisissez un mois de la liste" in html


def test_query_count_does_not_grow_with_the_bookings(client, demo, today):
    """The year's figures cost the same queries with a few more weeks of bookings."""
    client.force_login(_staff("Régisseur"))
    url = reverse("admin:caf")
    with CaptureQueriesContext(connection) as before:
        client.get(url, {"annee": 2026})
    lea = Child.objects.get(first_name="Léa")
    matin = Slot.objects.get(code="matin")
    for offset in range(30):
        Booking.objects.get_or_create(
            child=lea,
            slot=matin,
            date=datetime.date(2026, 6, 1) + datetime.timedelta(days=offset),
            defaults={"school": lea.school, "presence": Booking.Presence.PRESENT},
        )
    with CaptureQueriesContext(connection) as after:
        client.get(url, {"annee": 2026})
    assert len(after.captured_queries) == len(before.captured_queries)


def test_a_given_back_booking_and_a_cancelled_invoice_are_not_invoiced(demo, today):
    """A regularisation that gives a booking back (a negative charge) leaves it booked and
    attended but not invoiced; an invoice cancelled invoices none of its bookings."""
    from billing.models import BookingCharge, Invoice

    lea = Child.objects.get(first_name="Léa")
    matin = Slot.objects.get(code="matin")
    booking = Booking.objects.get(child=lea, slot=matin, date=datetime.date(2026, 9, 7))
    charge = BookingCharge.objects.get(booking=booking)
    BookingCharge.objects.create(
        booking=booking, line=charge.line, amount_cents=-charge.amount_cents
    )

    figures = _by_activity(caf_figures(SEPTEMBER))
    assert figures["Accueil du matin"]["Total"] == ("17", "17", "16", 1)

    Invoice.objects.filter(pk=charge.line.invoice_id).update(status=Invoice.Status.CANCELLED)

    figures = _by_activity(caf_figures(SEPTEMBER))
    assert figures["Accueil du matin"]["Total"] == ("17", "17", "0", 1)
    assert figures["Mercredi"]["Total"] == ("165", "165", "165", 3)
