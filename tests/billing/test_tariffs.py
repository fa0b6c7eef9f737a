"""Tariff grids: brackets by quotient familial, the top bracket without a valid QF."""

import datetime

import pytest

from billing.models import Tariff
from billing.tariffs import Grid, PriceBook, TariffMissing, grid_errors

GRID = Grid("Matin 2026-2027", ((0, 500, 110), (500, 800, 150), (800, None, 200)), 100)


@pytest.mark.parametrize(
    ("qf", "cents"),
    [(0, 110), (499, 110), (500, 150), (799, 150), (800, 200), (5000, 200), (None, 200)],
)
def test_bracket_edges_are_half_open(qf, cents):
    """A QF equal to a bracket's upper bound pays the next bracket; no QF pays the top one."""
    assert GRID.unit_price(qf) == cents


def test_a_grid_with_a_gap_refuses_to_guess():
    """A QF that no bracket covers is an error, never a silent price."""
    grid = Grid("Troué", ((0, 500, 110), (600, None, 200)), 0)
    with pytest.raises(TariffMissing):
        grid.unit_price(550)


def test_grid_errors_explain_gaps_overlaps_and_open_ends():
    """A grid must start at 0, follow on without gap and end with an open bracket."""
    assert grid_errors([(0, 500), (500, None)]) == []
    assert grid_errors([(100, None)]) == ["La première tranche doit commencer à 0 €."]
    assert "doit être suivie" in grid_errors([(0, 500), (600, None)])[0]
    assert grid_errors([(0, 500)]) == ["La dernière tranche ne doit pas avoir de borne haute."]


def test_price_book_uses_the_school_year_of_the_day(slots, school_years):
    """A booking is priced with the grid of the school year its date belongs to."""
    tariff = Tariff.objects.get(slot=slots["matin"], school_year__label="2025-2026")
    tariff.brackets.filter(qf_min=800).update(unit_price_cents=190)
    book = PriceBook([slots["matin"].pk])
    assert book.unit_price(slots["matin"], datetime.date(2026, 6, 1), 850) == 190
    assert book.unit_price(slots["matin"], datetime.date(2026, 10, 1), 850) == 200


def test_price_book_reports_a_missing_grid(slots, school_years):
    """Without a grid for the créneau and school year, the price book says which one is missing."""
    Tariff.objects.filter(slot=slots["soir-2"], school_year__label="2026-2027").delete()
    with pytest.raises(TariffMissing, match="soir 2"):
        PriceBook([slots["soir-2"].pk]).unit_price(slots["soir-2"], datetime.date(2026, 10, 1), 850)
