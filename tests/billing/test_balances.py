"""The "Paiements" page's balances: "Solde au" and "Solde réel"."""

import datetime

import pytest
from django.urls import reverse

from billing.invoicing import Biller
from billing.models import Invoice, Payment
from billing.selectors import family_balances
from billing.services import payment_record
from reservations.models import Booking
from tests.conftest import client_for

from .conftest import book, issue, make_family

pytestmark = pytest.mark.django_db


@pytest.fixture
def family(regies, slots, today):
    """October invoiced (4 mornings, 8,00 €, 3,00 € paid); in November 5 mornings, one evening
    as a walk-in, one excused morning and one booking in December."""
    family = make_family()
    child = family.children.get()
    for day in (5, 6, 8, 9):
        book(child, slots["matin"], datetime.date(2026, 10, day))
    issue(regies)
    payment_record(
        invoice=Invoice.objects.get(),
        amount_cents=300,
        paid_on=datetime.date(2026, 11, 12),
        means=Payment.Means.CASH,
    )
    for day in (2, 3, 5, 6, 9):
        book(child, slots["matin"], datetime.date(2026, 11, day))
    book(child, slots["matin"], datetime.date(2026, 11, 10), presence=Booking.Presence.EXCUSED)
    book(
        child,
        slots["soir-2"],
        datetime.date(2026, 11, 12),
        origin=Booking.Origin.WALK_IN,
        presence=Booking.Presence.PRESENT,
    )
    book(child, slots["matin"], datetime.date(2026, 12, 1))
    book(child, slots["mercredi"], datetime.date(2026, 11, 4))
    return family


def test_solde_au_and_solde_reel(family, today):
    """Solde au = what is left on unpaid invoices; Solde réel adds this month not yet invoiced."""
    balances = {b.regie.slug: b for b in family_balances(family, on=today)}

    periscolaire = balances["periscolaire"]
    assert periscolaire.total_cents == periscolaire.portal_cents == 800 - 300
    assert periscolaire.pending_cents == 5 * 200 + 180 + 100
    assert periscolaire.real_cents == 500 + 1280
    assert (balances["alai"].total_cents, balances["alai"].real_cents) == (0, 1250)


def test_each_regie_counts_its_own_regularisations(client, family, regies, slots, today):
    """An Alaï Wednesday cancelled after its invoice is given back on Alaï's Solde réel, a
    morning the office added to an invoiced périscolaire month is billed on the périscolaire's:
    each Solde réel counts what its own « Mes réservations » lists, nothing of the other."""
    child = family.children.get()
    wednesday = book(child, slots["mercredi"], datetime.date(2026, 10, 7))
    issue(regies, "alai")
    Booking.objects.filter(pk=wednesday.pk).update(status=Booking.Status.CANCELLED)
    book(child, slots["matin"], datetime.date(2026, 10, 12), origin=Booking.Origin.STAFF)

    balances = {b.regie.slug: b for b in family_balances(family, on=today)}

    assert balances["periscolaire"].pending_cents == 5 * 200 + 180 + 100 + 200
    assert balances["alai"].pending_cents == 1250 - 1250
    assert (balances["alai"].total_cents, balances["alai"].real_cents) == (1250, 1250)
    for slug, balance in balances.items():
        draft = Biller(regies[slug]).not_invoiced(family, today=today)
        assert balance.pending_cents == draft.total_cents
    page = client_for(client, family).get(reverse("billing:regie_list")).content.decode()
    assert "19,80 €" in page  # périscolaire: 5,00 € + 14,80 €
    page = client_for(client, family).get(reverse("billing:regie_bookings", args=["alai"]))
    assert "Régularisation du 07/10/2026 — Léa" in page.content.decode()


def test_paiements_page_shows_each_regie_block(client, family, today):
    """The page shows each régie's block, both balances and the explanation of Solde réel."""
    page = client_for(client, family).get(reverse("billing:regie_list")).content.decode()

    assert "Régie de recette accueil de loisirs d&#x27;ALAI (101005)" in page
    assert "Régie de recette périscolaire municipale" in page
    assert "Solde au 26/11/2026" in page
    assert "5,00 €" in page and "17,80 €" in page and "12,50 €" in page
    assert "Solde réel" in page and "<summary>" in page
    assert (
        "la somme des factures impayées + le mois en cours, ceci ne représente donc pas la "
        "somme à régler dans l'immédiat"
    ) in page
    for label in ("Mes réservations", "Mes factures", "Relevé de compte", "Attestation fiscale"):
        assert label in page
    assert reverse("billing:invoice_list", args=["periscolaire"]) in page


def test_regie_bookings_page_lists_what_is_not_invoiced(client, family, today):
    """ "Mes réservations" of a régie lists the priced bookings not invoiced yet."""
    page = client_for(client, family).get(reverse("billing:regie_bookings", args=["periscolaire"]))
    text = page.content.decode()
    assert "Léa — Matin 07h20-08h20" in text
    assert "12,80 €" in text
