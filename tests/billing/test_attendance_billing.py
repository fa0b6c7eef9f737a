"""What the animateurs' register means for the invoice: présent and absent are billed, absent
excusé is not, a walk-in (by derogation too) pays the tariff and the surcharge."""

import datetime

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from billing.invoicing import invoicing_run
from billing.models import Invoice, InvoiceLine
from reservations.models import Booking
from tests.factories import ChildFactory, UserFactory

from .conftest import ISSUE_DAY, NOVEMBER, OCTOBER, book, make_family

pytestmark = pytest.mark.django_db

MON, TUE, THU, FRI = (datetime.date(2026, 10, day) for day in (5, 6, 8, 9))


def staff(group):
    user = UserFactory(is_staff=True, first_name="Inès", last_name="MOREL")
    user.groups.add(Group.objects.get(name=group))
    return user


def tap(client, booking, presence):
    response = client.post(
        reverse("pointage:attendance_mark"), {"reservation": booking.pk, "presence": presence}
    )
    assert response.status_code == 302


def invoice_of(family, month=OCTOBER):
    return Invoice.objects.live().get(family=family, regie__slug="periscolaire", period_start=month)


def test_register_states_billed_in_exact_cents(client, regies, slots, today):
    """Of four mornings at 2,00 €, the one marked « absent excusé » is not billed; présent,
    absent (not excused) and not marked are: 6,00 €. Excused later, an absence already
    invoiced comes back as −2,00 € on the next invoice."""
    family = make_family(qf=850)
    lea = family.children.get()
    bookings = {day: book(lea, slots["matin"], day) for day in (MON, TUE, THU, FRI)}
    client.force_login(staff("Animateur"))
    tap(client, bookings[MON], "present")
    tap(client, bookings[TUE], "absent")
    tap(client, bookings[THU], "excused")

    invoicing_run(regie=regies["periscolaire"], month=OCTOBER, today=ISSUE_DAY, notify=False)

    line = invoice_of(family).lines.get()
    assert (line.quantity, line.unit_price_cents, line.amount_cents) == (3, 200, 600)
    assert invoice_of(family).total_cents == 600

    tap(client, bookings[TUE], "excused")  # the family brought a certificate afterwards
    book(lea, slots["matin"], datetime.date(2026, 11, 2))
    book(lea, slots["matin"], datetime.date(2026, 11, 3))
    invoicing_run(
        regie=regies["periscolaire"],
        month=NOVEMBER,
        today=datetime.date(2026, 12, 10),
        notify=False,
    )
    november = invoice_of(family, NOVEMBER)
    regularisation = november.lines.get(kind=InvoiceLine.Kind.REGULARISATION)
    assert regularisation.amount_cents == -200
    assert november.total_cents == 2 * 200 - 200


def test_walk_in_by_derogation_is_billed_like_any_walk_in(client, regies, slots, today):
    """A child without an accepted enrolment, added by derogation, pays the tariff plus the
    walk-in surcharge: 2,00 € + 1,00 €."""
    lea = make_family(qf=850).children.get()
    newcomer_family = make_family("NOUVEAU", qf=850)
    newcomer = ChildFactory(family=newcomer_family, first_name="Zoé", school=lea.school)
    newcomer_family.children.exclude(pk=newcomer.pk).delete()
    client.force_login(staff("Assistant administratif"))
    client.post(
        reverse("pointage:attendance_walk_in"),
        {
            "ecole": lea.school_id,
            "creneau": slots["matin"].pk,
            "date": MON.isoformat(),
            "enfant": newcomer.pk,
            "derogation": "1",
            "motif": "Inscription en cours de traitement",
        },
    )
    assert Booking.objects.get(child=newcomer).is_override

    invoicing_run(regie=regies["periscolaire"], month=OCTOBER, today=ISSUE_DAY, notify=False)

    lines = {line.kind: line.amount_cents for line in invoice_of(newcomer_family).lines.all()}
    assert lines == {InvoiceLine.Kind.WALK_IN: 200, InvoiceLine.Kind.SURCHARGE: 100}
    assert invoice_of(newcomer_family).total_cents == 300
