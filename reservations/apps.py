from django.apps import AppConfig


class ReservationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "reservations"
    verbose_name = "Réservations et calendrier"

    def ready(self):
        from common import refcache
        from enrolment.models import Service
        from families.households import household_unlinked
        from families.models import SchoolYear

        from .calendar import REFERENCE
        from .models import (
            Activity,
            CalendarImport,
            CapacityOverride,
            Closure,
            Holiday,
            Slot,
            SlotCapacity,
        )
        from .services import second_household_removed

        # The agenda's reference data (créneaux, calendar, capacities) leaves the cache on any
        # change.
        refcache.invalidate_on_change(
            REFERENCE,
            Slot,
            Activity,
            Service,
            Holiday,
            Closure,
            CalendarImport,
            SchoolYear,
            SlotCapacity,
            CapacityOverride,
        )
        # A child's second household removed: its bookings of the child to come are cancelled.
        household_unlinked.connect(
            second_household_removed, dispatch_uid="second_household_removed"
        )
