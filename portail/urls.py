from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("comptes/", include("allauth.urls")),
    path("foyer/mes-donnees/", views.my_data, name="my_data"),
    path("foyer/mes-donnees/json/", views.my_data_json, name="my_data_json"),
    path("foyer/mes-donnees/pdf/", views.my_data_pdf, name="my_data_pdf"),
    path("foyer/", include("families.urls")),
    path("echanges/", include("exchanges.urls")),
    path("demandes/", include("enrolment.urls")),
    path("agenda/", include("reservations.urls")),
    path("pointage/", include("reservations.staff_urls")),
    path("paiements/", include("billing.urls")),
    path("sante/", views.health, name="health"),
    path("accessibilite/", views.site_page, {"slug": "accessibilite"}, name="accessibility"),
    path("mentions-legales/", views.site_page, {"slug": "mentions-legales"}, name="legal_notice"),
    path(
        "donnees-personnelles/", views.site_page, {"slug": "donnees-personnelles"}, name="privacy"
    ),
    path(settings.ADMIN_URL, admin.site.urls),
]
