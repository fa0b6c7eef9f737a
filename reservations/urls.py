import datetime

from django.urls import path, register_converter

from .views import feeds
from .views import parents as views
from .views import waitlist as waitlist_views


class IsoDateConverter:
    """A day in the path as yyyy-mm-dd; anything that is not a real date is a 404."""

    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value):
        day = datetime.date.fromisoformat(value)  # ValueError → no match, a 404
        if not 2000 <= day.year <= 2100:
            raise ValueError("out of the portal's years")
        return day

    def to_url(self, value):
        return value.isoformat() if isinstance(value, datetime.date) else value


register_converter(IsoDateConverter, "jour")

app_name = "reservations"

urlpatterns = [
    path("", views.agenda_home, name="agenda"),
    path("saisie-groupee/", views.bulk_entry, name="bulk_entry"),
    path("liste-attente/", waitlist_views.waitlist_list, name="waitlist"),
    path("liste-attente/<int:pk>/quitter/", waitlist_views.waitlist_leave, name="waitlist_leave"),
    path("<int:child_id>/<int:year>/<int:month>/", views.month, name="month"),
    path("<int:child_id>/<jour:day>/", views.day, name="day"),
    path("<int:child_id>/absence/", views.absence_create, name="absence_create"),
    path("reservations/<int:pk>/", views.booking_detail, name="booking_detail"),
    path("reservations/<int:pk>/supprimer/", views.booking_delete, name="booking_delete"),
    path("absences/<int:pk>/", views.absence_detail, name="absence_detail"),
    path("absences/<int:pk>/certificat/", views.absence_certificate, name="absence_certificate"),
    path(
        "<int:child_id>/agenda-en-ligne/",
        feeds.calendar_subscribe,
        name="calendar_subscribe",
    ),
    path(
        "<int:child_id>/agenda-en-ligne/regenerer/",
        feeds.calendar_regenerate,
        name="calendar_regenerate",
    ),
    path("flux/<slug:token>.ics", feeds.calendar_feed, name="calendar_feed"),
]
