"""The régisseur's list of invoices put in recovery, per régie and period of recovery dates, with
its CSV for the transmission to the Trésor Public. A page of the invoice admin (InvoiceAdmin
takes `RecoveryListMixin`), linked from the invoice list and from each régie's tools.

Who may see it: whoever may view invoices (`billing.view_invoice`: the régisseur, the
administrative assistant). The list shows nothing the invoice pages do not already show (number,
dates, amounts, payer, address), and a permission of its own would need a migration."""

import csv
import datetime

from django import forms
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from billing.forms import DATE_FORMATS, DateInput, PeriodForm
from billing.models import Regie
from common.admin import csv_safe

from .selectors import recovery_csv_rows, recovery_list


class RecoveryListForm(PeriodForm):
    """A régie and a period of recovery dates."""

    regie = forms.ModelChoiceField(
        label="Régie", queryset=Regie.objects.all(), empty_label=None, to_field_name="slug"
    )
    du = forms.DateField(
        label="Mises en recouvrement du", input_formats=DATE_FORMATS, widget=DateInput()
    )

    field_order = ["regie", "du", "au"]


def recovery_list_url(regie: Regie | None = None) -> str:
    url = reverse("admin:billing_invoice_recovery")
    return f"{url}?regie={regie.slug}" if regie else url


class RecoveryListMixin:
    """Adds the recovery list (page and CSV) to the invoice admin."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("recouvrement/", view(self.recovery_view), name="billing_invoice_recovery"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "recovery_list_url": recovery_list_url()}
        return super().changelist_view(request, extra_context)

    def recovery_view(self, request):
        if not request.user.has_perm("billing.view_invoice"):
            raise PermissionDenied
        start, end = default_period(timezone.localdate())
        regie = (
            Regie.objects.filter(slug=request.GET.get("regie") or "").first()
            or Regie.objects.first()
        )
        form = RecoveryListForm(
            request.GET if "du" in request.GET else None,
            initial={"regie": regie, "du": start, "au": end},
        )
        if form.is_bound and form.is_valid():
            regie = form.cleaned_data["regie"]
            start, end = form.cleaned_data["du"], form.cleaned_data["au"]
        data = recovery_list(regie, start, end) if regie else None
        if data is not None and not form.errors and request.GET.get("format") == "csv":
            return _csv_response(data)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Factures mises en recouvrement — {regie.name if regie else ''}",
            "form": form,
            "data": data,
            "query": f"regie={regie.slug}&du={start.isoformat()}&au={end.isoformat()}"
            if regie
            else "",
        }
        return TemplateResponse(request, "admin/billing/recovery_list.html", context)


def _csv_response(data) -> HttpResponse:
    filename = f"recouvrement-{data.regie.slug}-{data.start}-{data.end}"
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    response.write("\ufeff")  # lets spreadsheet software read the accents
    writer = csv.writer(response, delimiter=";")
    for row in recovery_csv_rows(data):
        writer.writerow([csv_safe(cell) for cell in row])
    return response


def default_period(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """This month, to today."""
    return today.replace(day=1), today
