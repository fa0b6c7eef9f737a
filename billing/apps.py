from django.apps import AppConfig


class BillingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "billing"
    verbose_name = "Facturation"

    def ready(self):
        from .directdebit import services

        # The "Prélèvement automatique" requests of enrolment create mandates here.
        services.register_hooks()
