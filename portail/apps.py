from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortailConfig(AppConfig):
    name = "portail"
    verbose_name = "Site"


class OfficeAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the office's dashboard as its index (portail.sites)."""

    default = False  # "portail" itself stays PortailConfig
    default_site = "portail.sites.OfficeAdminSite"

    def ready(self):
        from .sites import name_applications

        name_applications()
        super().ready()
