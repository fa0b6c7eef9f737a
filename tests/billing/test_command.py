"""The generate_invoices command."""

import datetime

import pytest
from django.core.management import CommandError, call_command

from billing.models import Invoice

from .conftest import book, make_family

pytestmark = pytest.mark.django_db


def test_month_option_issues_that_month_for_every_regie(regies, slots, today, capsys):
    """--month issues the month for both régies and says what it did; running it again adds nothing."""
    child = make_family().children.get()
    book(child, slots["matin"], datetime.date(2026, 10, 5))
    book(child, slots["mercredi"], datetime.date(2026, 10, 7))

    call_command("generate_invoices", "--month", "2026-10", "--today", "2026-11-26")
    call_command("generate_invoices", "--month", "2026-10", "--today", "2026-11-26")

    assert sorted(Invoice.objects.values_list("number", flat=True)) == [
        "ALAI2026000001",
        "PERI2026000001",
    ]
    out = capsys.readouterr().out
    assert "1 facture(s) émise(s) pour 12,50 €" in out
    assert "0 facture(s) émise(s)" in out


def test_without_month_it_waits_for_the_issue_day(regies, slots, today, capsys):
    """Without --month, last month is issued only once the régie's issue day has come."""
    book(make_family().children.get(), slots["matin"], datetime.date(2026, 10, 5))

    call_command("generate_invoices", "--today", "2026-11-09")
    assert not Invoice.objects.exists()
    assert "Rien à facturer aujourd'hui" in capsys.readouterr().out
    call_command("generate_invoices", "--today", "2026-11-10", "--regie", "periscolaire")
    assert Invoice.objects.get().issue_date == datetime.date(2026, 11, 10)


def test_bad_arguments_are_explained(regies, today):
    """A malformed month, an unknown régie or a month not over stop with a French message."""
    with pytest.raises(CommandError, match="AAAA-MM"):
        call_command("generate_invoices", "--month", "octobre")
    with pytest.raises(CommandError, match="Aucune régie"):
        call_command("generate_invoices", "--regie", "piscine")
    with pytest.raises(CommandError, match="n'est pas terminé"):
        call_command("generate_invoices", "--month", "2026-11", "--today", "2026-11-26")
