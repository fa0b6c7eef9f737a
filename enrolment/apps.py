from django.apps import AppConfig


class EnrolmentConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "enrolment"
    verbose_name = "Inscriptions et demandes"
