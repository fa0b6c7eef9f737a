"""The staff's site: Django's admin, whose index is the office's dashboard (portail.dashboard)
and which adds the occupancy of the coming weeks (portail.occupancy)."""

import csv

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from . import dashboard
from .occupancy import charts, csv_rows, occupancy

OCCUPANCY_PERMISSION = "reservations.view_booking"


class OfficeAdminSite(admin.AdminSite):
    site_header = "Portail famille — administration"
    site_title = "Portail famille — administration"
    index_title = "Tableau de bord"
    site_url = "/"
    index_template = "admin/dashboard.html"

    def index(self, request, extra_context=None):
        """The dashboard above the list of applications."""
        today = timezone.localdate()
        context = {
            "today": today,
            "sections": dashboard.sections_for(request.user, today),
            "can_see_occupancy": request.user.has_perm(OCCUPANCY_PERMISSION),
            **(extra_context or {}),
        }
        return super().index(request, context)

    def get_urls(self):
        return [
            path("occupation/", self.admin_view(self.occupancy_view), name="occupancy"),
            path("occupation/csv/", self.admin_view(self.occupancy_csv), name="occupancy_csv"),
            *super().get_urls(),
        ]

    def occupancy_view(self, request):
        """Places booked against places offered, per créneau, school and week: a chart and
        the table behind it."""
        if not request.user.has_perm(OCCUPANCY_PERMISSION):
            raise PermissionDenied
        data = occupancy(timezone.localdate())
        context = {
            **self.each_context(request),
            "title": "Occupation des quatre prochaines semaines",
            "subtitle": None,
            "occupancy": data,
            "charts": charts(data),
        }
        request.current_app = self.name
        return TemplateResponse(request, "admin/occupancy.html", context)

    def occupancy_csv(self, request):
        """The occupancy table as a CSV file (semicolons, UTF-8 with BOM, for spreadsheets)."""
        # Imported here: common.admin registers with this site, which must exist first.
        from common.admin import csv_safe

        if not request.user.has_perm(OCCUPANCY_PERMISSION):
            raise PermissionDenied
        today = timezone.localdate()
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="occupation-{today}.csv"'
        response.write("\ufeff")  # lets spreadsheet software read the accents
        writer = csv.writer(response, delimiter=";")
        for row in csv_rows(occupancy(today)):
            writer.writerow([csv_safe(cell) for cell in row])
        return response
