"""Prices: the grid of a créneau for a school year, read by quotient familial.

A family pays the bracket containing its QF that is valid on the day of care; without a valid
QF (none, or past its validity date) it pays the top bracket. A `PriceBook` loads every grid
it may need in two queries, so that pricing thousands of bookings costs no query per booking.
"""

import bisect
import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from families.models import SchoolYear

from .models import Tariff


class TariffMissing(ValidationError):
    """A booking cannot be priced: no grid for its créneau and school year, or a grid that
    leaves its QF out."""


@dataclass(frozen=True)
class Grid:
    """One créneau's prices for one school year: brackets sorted by their lower bound."""

    label: str
    brackets: tuple[tuple[int, int | None, int], ...]  # (qf_min, qf_max or None, cents)
    surcharge_cents: int

    def unit_price(self, qf: int | None) -> int:
        """The price for a family whose valid QF is `qf` (None: top bracket)."""
        if qf is None:
            return self.brackets[-1][2]
        for qf_min, qf_max, cents in self.brackets:
            if qf_min <= qf and (qf_max is None or qf < qf_max):
                return cents
        raise TariffMissing(
            f"La grille « {self.label} » n'a pas de tranche pour un quotient familial de {qf} €."
        )


def grid_errors(brackets) -> list[str]:
    """What is wrong with a grid given as (qf_min, qf_max) pairs: it must start at 0, follow on
    without gap nor overlap, and end with an open bracket. Empty when the grid is sound."""
    rows = sorted(brackets, key=lambda row: row[0])
    if not rows:
        return ["Ajoutez au moins une tranche."]
    errors = []
    if rows[0][0] != 0:
        errors.append("La première tranche doit commencer à 0 €.")
    for (low, high), (next_low, _) in zip(rows, rows[1:], strict=False):
        if high is None:
            errors.append(f"La tranche qui commence à {low} € doit avoir une borne haute.")
        elif high != next_low:
            errors.append(
                f"La tranche [{low} ; {high}[ doit être suivie d'une tranche commençant à {high} €."
            )
    if rows[-1][1] is not None:
        errors.append("La dernière tranche ne doit pas avoir de borne haute.")
    return errors


class PriceBook:
    """Every grid of the given créneaux, with the school years, to price bookings in memory."""

    def __init__(self, slot_ids):
        years = list(
            SchoolYear.objects.order_by("start_date").values_list("pk", "start_date", "label")
        )
        self._year_starts = [start for _, start, _ in years]
        self._years = years
        self._grids = {}
        tariffs = (
            Tariff.objects.filter(slot__in=list(slot_ids))
            .select_related("slot", "school_year")
            .prefetch_related("brackets")
        )
        for tariff in tariffs:
            brackets = tuple(
                (b.qf_min, b.qf_max, b.unit_price_cents)
                for b in sorted(tariff.brackets.all(), key=lambda b: b.qf_min)
            )
            if brackets:
                self._grids[(tariff.slot_id, tariff.school_year_id)] = Grid(
                    f"{tariff.slot.label} {tariff.school_year.label}",
                    brackets,
                    tariff.walk_in_surcharge_cents,
                )

    def school_year(self, day: datetime.date):
        """(pk, label) of the school year `day` belongs to: the last one started by then."""
        index = bisect.bisect_right(self._year_starts, day) - 1
        if index < 0:
            return None
        pk, _, label = self._years[index]
        return pk, label

    def grid(self, slot, day: datetime.date) -> Grid:
        year = self.school_year(day)
        grid = self._grids.get((slot.pk, year[0])) if year else None
        if grid is None:
            year_label = year[1] if year else f"{day:%Y}"
            raise TariffMissing(
                f"Aucune grille tarifaire pour le créneau « {slot.label} » en {year_label} : "
                "saisissez-la dans l'administration (Facturation › Grilles tarifaires)."
            )
        return grid

    def unit_price(self, slot, day: datetime.date, qf: int | None) -> int:
        return self.grid(slot, day).unit_price(qf)

    def surcharge(self, slot, day: datetime.date) -> int:
        return self.grid(slot, day).surcharge_cents
