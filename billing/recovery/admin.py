"""The régisseur's recovery workplace in the admin.

- The recovery page (a page of the invoice admin: InvoiceAdmin takes `RecoveryListMixin`),
  linked from the invoice list and from each régie's tools. It opens on every invoice still to
  hand over to the Trésor Public, whatever the month it was put in recovery, with the totals;
  filters: régie, "à transmettre / transmises / toutes", recovery dates. Whoever may view
  invoices reads it (the régisseur, the administrative assistant).
- "Créer le bordereau": the invoices ticked on the page become the next numbered hand-over list
  of their régie (`billing.transmit_recovery`: the régisseur).
- The hand-over lists (RecoveryHandoverAdmin): list, page with its invoices, CSV and PDF for the
  Trésor Public; each invoice's page says whether and in which list it was handed over.
"""

import csv

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from billing.forms import DATE_FORMATS, DateInput
from billing.models import Invoice, Regie
from common.admin import ReadOnlyAdmin, change_link, csv_safe
from common.money import format_cents

from .models import TRANSMIT_PERMISSION, RecoveryHandover
from .pdfs import handover_pdf
from .selectors import (
    HandoverState,
    handover_csv_rows,
    handover_lines,
    handover_of,
    one_line,
    recovery_csv_rows,
    recovery_list,
)
from .services import handover_create


class RecoveryListForm(forms.Form):
    """Which invoices in recovery to show: régie, hand-over state, recovery dates (optional)."""

    regie = forms.ModelChoiceField(
        label="Régie",
        queryset=Regie.objects.all(),
        required=False,
        empty_label="Toutes les régies",
        to_field_name="slug",
    )
    etat = forms.ChoiceField(label="Transmission", choices=HandoverState.choices, required=False)
    du = forms.DateField(
        label="Mises en recouvrement du",
        input_formats=DATE_FORMATS,
        widget=DateInput(),
        required=False,
    )
    au = forms.DateField(label="au", input_formats=DATE_FORMATS, widget=DateInput(), required=False)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("du"), cleaned.get("au")
        if start and end and end < start:
            self.add_error("au", "La fin de la période doit suivre son début.")
        cleaned["etat"] = cleaned.get("etat") or HandoverState.PENDING
        return cleaned


def recovery_list_url(regie: Regie | None = None) -> str:
    url = reverse("admin:billing_invoice_recovery")
    return f"{url}?regie={regie.slug}" if regie else url


def _csv_response(rows, filename: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    response.write("\ufeff")  # lets spreadsheet software read the accents
    writer = csv.writer(response, delimiter=";")
    for row in rows:
        writer.writerow([csv_safe(cell) for cell in row])
    return response


def _handover_label(invoice: Invoice, handover: RecoveryHandover | None) -> str:
    if not invoice.in_recovery:
        return "—"
    if handover is None:
        return "À transmettre au Trésor Public"
    return format_html(
        'Transmise le {} — bordereau <a href="{}">{}</a>',
        f"{handover.date:%d/%m/%Y}",
        reverse("admin:billing_recoveryhandover_change", args=[handover.pk]),
        handover.number,
    )


class RecoveryListMixin:
    """Adds the recovery page (and its CSV) to the invoice admin, and the hand-over state to
    each invoice's page."""

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("recouvrement/", view(self.recovery_view), name="billing_invoice_recovery"),
            *super().get_urls(),
        ]

    def get_fields(self, request, obj=None):
        return _after(super().get_fields(request, obj), "recovery_date", "recovery_handover")

    def get_readonly_fields(self, request, obj=None):
        return _after(
            super().get_readonly_fields(request, obj), "recovery_date", "recovery_handover"
        )

    @admin.display(description="transmission au Trésor Public")
    def recovery_handover(self, obj):
        return _handover_label(obj, handover_of(obj) if obj.in_recovery else None)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "recovery_list_url": recovery_list_url()}
        return super().changelist_view(request, extra_context)

    def recovery_view(self, request):
        if not request.user.has_perm("billing.view_invoice"):
            raise PermissionDenied
        form = RecoveryListForm(request.GET or None)
        choice = form.cleaned_data if form.is_bound and form.is_valid() else {}
        data = recovery_list(
            regie=choice.get("regie"),
            state=choice.get("etat") or HandoverState.PENDING,
            start=choice.get("du"),
            end=choice.get("au"),
        )
        if request.GET.get("format") == "csv" and not form.errors:
            return _csv_response(recovery_csv_rows(data), _recovery_filename(data))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Factures mises en recouvrement",
            "form": form,
            "data": data,
            "state_label": HandoverState(data.state).label,
            "query": request.GET.urlencode(),
            "can_transmit": request.user.has_perm(TRANSMIT_PERMISSION),
            "handovers_url": reverse("admin:billing_recoveryhandover_changelist"),
        }
        return TemplateResponse(request, "admin/billing/recovery_list.html", context)


def _after(names, anchor: str, name: str):
    names = [field for field in names if field != name]
    position = names.index(anchor) + 1 if anchor in names else len(names)
    return [*names[:position], name, *names[position:]]


def _recovery_filename(data) -> str:
    parts = ["recouvrement", data.regie.slug if data.regie else "toutes-regies", data.state]
    if data.start:
        parts.append(f"du-{data.start}")
    if data.end:
        parts.append(f"au-{data.end}")
    return "-".join(parts)


@admin.register(RecoveryHandover)
class RecoveryHandoverAdmin(ReadOnlyAdmin):
    """The numbered hand-over lists, each with its invoices and its two downloads."""

    list_display = [
        "number",
        "regie",
        "created_at",
        "created_by",
        "invoice_count",
        "total",
        "downloads",
    ]
    list_filter = ["regie"]
    search_fields = ["number", "lines__invoice__number", "lines__invoice__payer_name"]
    list_select_related = ["regie", "created_by"]
    fields = [
        "number",
        "regie",
        "created_at",
        "created_by",
        "invoice_count",
        "total",
        "downloads",
        "invoices_table",
    ]
    readonly_fields = fields

    view_on_site = False  # the list's page is this one

    class Media:
        css = {"all": ["css/admin-recovery.css"]}

    @admin.display(description="montant transmis", ordering="total_cents")
    def total(self, obj):
        return format_cents(obj.total_cents)

    @admin.display(description="téléchargements")
    def downloads(self, obj):
        return format_html(
            '<a href="{}">PDF</a> · <a href="{}">CSV</a>',
            reverse("admin:billing_recoveryhandover_pdf", args=[obj.pk]),
            reverse("admin:billing_recoveryhandover_csv", args=[obj.pk]),
        )

    @admin.display(description="factures transmises")
    def invoices_table(self, obj):
        rows = (
            (
                line.position,
                change_link("billing.invoice", line.invoice.pk, line.invoice.number),
                line.invoice.payer_name,
                one_line(line.invoice.payer_address),
                line.invoice.period_label,
                f"{line.invoice.due_date:%d/%m/%Y}",
                format_cents(line.due_cents),
            )
            for line in handover_lines(obj)
        )
        body = format_html_join(
            "",
            "<tr><td>{}</td><td class='nowrap'>{}</td><td>{}</td><td>{}</td><td>{}</td>"
            "<td class='nowrap'>{}</td><td class='num'>{}</td></tr>",
            rows,
        )
        return format_html(
            "<div class='recovery-table'><table><thead><tr><th scope='col'>N°</th><th scope='col'>Facture</th>"
            "<th scope='col'>Débiteur</th><th scope='col'>Adresse</th>"
            "<th scope='col'>Période</th><th scope='col'>Date limite</th>"
            "<th scope='col' class='num'>Montant dû</th></tr></thead><tbody>{}</tbody></table></div>",
            body,
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("etablir/", view(self.create_view), name="billing_recoveryhandover_create"),
            path("<int:pk>/csv/", view(self.csv_view), name="billing_recoveryhandover_csv"),
            path("<int:pk>/pdf/", view(self.pdf_view), name="billing_recoveryhandover_pdf"),
            *super().get_urls(),
        ]

    def _handover(self, request, pk) -> RecoveryHandover:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(RecoveryHandover.objects.select_related("regie"), pk=pk)

    def csv_view(self, request, pk):
        handover = self._handover(request, pk)
        return _csv_response(handover_csv_rows(handover), handover.number)

    def pdf_view(self, request, pk):
        handover = self._handover(request, pk)
        response = HttpResponse(handover_pdf(handover), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{handover.number}.pdf"'
        return response

    def create_view(self, request):
        if not request.user.has_perm(TRANSMIT_PERMISSION):
            raise PermissionDenied
        return require_POST(self._create)(request)

    def _create(self, request):
        regie = Regie.objects.filter(slug=request.POST.get("regie", "")).first()
        back = HttpResponseRedirect(recovery_list_url(regie))
        ticked = [int(pk) for pk in request.POST.getlist("invoice") if pk.isdigit()]
        if regie is None:
            messages.error(request, "Choisissez la régie du bordereau.")
            return back
        invoice_ids = list(
            Invoice.objects.filter(pk__in=ticked, regie=regie).values_list("pk", flat=True)
        )
        if not invoice_ids:
            messages.error(request, f"Cochez au moins une facture de la {regie.name}.")
            return back
        try:
            handover = handover_create(
                regie=regie, by=request.user, today=timezone.localdate(), invoice_ids=invoice_ids
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return back
        messages.success(
            request,
            f"Bordereau {handover.number} établi : {handover.invoice_count} facture"
            f"{'s' if handover.invoice_count > 1 else ''}, {format_cents(handover.total_cents)}. "
            "Téléchargez-le (PDF ou CSV) pour le transmettre au Trésor Public.",
        )
        return HttpResponseRedirect(
            reverse("admin:billing_recoveryhandover_change", args=[handover.pk])
        )
