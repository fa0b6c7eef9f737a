from django.apps import AppConfig


class BillingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "billing"
    verbose_name = "Facturation"

    def ready(self):
        from .directdebit import services

        # The "Prélèvement automatique" requests of enrolment create mandates here.
        services.register_hooks()

        from common import refcache

        from .directdebit.models import DirectDebitTeleservice

        # The régies that offer direct debit leave the cache when a téléservice's régie changes.
        refcache.invalidate_on_change(services.REFERENCE, DirectDebitTeleservice)

        from families.models import SchoolYear
        from reservations.models import Activity, Slot

        from .invoicing import REFERENCE
        from .models import Regie, RegieActivity, Tariff, TariffBracket

        # The régies, and the créneaux and price grids of their estimates, leave the cache on any
        # change.
        refcache.invalidate_on_change(
            REFERENCE, Regie, RegieActivity, Slot, Activity, Tariff, TariffBracket, SchoolYear
        )
