"""The régisseur's direct-debit workplace: téléservices mapped to régies, mandates (IBAN masked),
SEPA batches (export form, file download) and rejections recorded on an invoice. Imported by
billing.admin; the pages call the same services as the command and the parent pages."""

import datetime

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from simple_history.admin import SimpleHistoryAdmin

from billing import columns
from billing.models import Invoice
from common.admin import ReadOnlyAdmin, change_link
from common.money import format_cents
from enrolment.admin import request_link as enrolment_request_link

from . import sepa, services
from .forms import ExportForm, RejectionForm
from .models import DebitRejection, DirectDebitTeleservice, Mandate, SepaBatch

EXPORT_PERMISSION = "billing.export_sepa"
REJECTION_PERMISSION = "billing.add_debitrejection"
REVOKE_PERMISSION = "billing.change_mandate"


def can_record_rejection(invoice: Invoice, user) -> bool:
    """The invoice change page offers "Enregistrer un rejet de prélèvement"."""
    return (
        user.has_perm(REJECTION_PERMISSION)
        and invoice.status == Invoice.Status.PAID
        and services.rejectable_payment(invoice) is not None
    )


@admin.register(DirectDebitTeleservice)
class DirectDebitTeleserviceAdmin(admin.ModelAdmin):
    list_display = ["teleservice", "regie"]
    list_filter = ["regie"]
    list_select_related = ["teleservice__school_year", "regie"]


@admin.register(Mandate)
class MandateAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = [
        "rum",
        "family_link",
        "regie",
        "status",
        "account_holder",
        "account",
        "signed_on",
        "sequence",
        "revoked_at",
    ]
    list_filter = ["regie", "status", "sequence"]
    search_fields = ["rum", "family__name", "account_holder", "family__guardians__user__email"]
    list_select_related = ["family", "regie"]
    fields = [
        "rum",
        "family_link",
        "regie",
        "status",
        "creditor_ics",
        "account_holder",
        "account",
        "bic",
        "signed_on",
        "sequence",
        "request_link",
        "created_at",
        "revoked_at",
        "revoked_by",
        "invoices_table",
    ]
    readonly_fields = fields
    actions = ["revoke"]

    family_link = columns.family_link

    @admin.display(description="compte (IBAN)")
    def account(self, obj):
        return obj.masked_iban

    request_link = staticmethod(enrolment_request_link)

    @admin.display(description="factures prélevées ou programmées")
    def invoices_table(self, obj):
        invoices = obj.invoices.order_by("-period_start")[:24]
        rows = (
            (
                change_link("billing.invoice", invoice.pk, invoice.number),
                invoice.get_status_display(),
                format_cents(invoice.total_cents),
                f"{invoice.debit_date:%d/%m/%Y}" if invoice.debit_date else "—",
            )
            for invoice in invoices
        )
        items = format_html_join("", "<li>{} — {}, {} (prélèvement le {})</li>", rows)
        return format_html("<ul>{}</ul>", items) if invoices else "—"

    def has_revoke_permission(self, request):
        """The list is read-only (has_change_permission is False): the action asks for the
        mandate's real permission instead."""
        return request.user.has_perm(REVOKE_PERMISSION)

    @admin.action(
        description="Révoquer les mandats choisis (à la demande écrite de la famille)",
        permissions=["revoke"],
    )
    def revoke(self, request, queryset):
        if not request.user.has_perm(REVOKE_PERMISSION):
            raise PermissionDenied
        done = 0
        for mandate in queryset.filter(status=Mandate.Status.ACTIVE):
            services.mandate_revoke(mandate=mandate, by=request.user, today=timezone.localdate())
            done += 1
        messages.success(
            request,
            f"{done} mandat(s) révoqué(s) ; les familles sont prévenues et leurs factures "
            "programmées redeviennent à régler.",
        )


@admin.register(SepaBatch)
class SepaBatchAdmin(ReadOnlyAdmin):
    change_list_template = "admin/billing/sepabatch/change_list.html"
    list_display = [
        "number",
        "regie",
        "collection_date",
        "invoice_count",
        "total",
        "created_at",
        "created_by",
        "file_link",
    ]
    list_filter = ["regie", "collection_date"]
    search_fields = ["number", "invoices__number"]
    list_select_related = ["regie", "created_by"]
    date_hierarchy = "collection_date"
    fields = [
        "number",
        "regie",
        "collection_date",
        "message_id",
        "invoice_count",
        "total",
        "created_at",
        "created_by",
        "file_link",
        "invoices_table",
    ]
    readonly_fields = fields

    @admin.display(description="montant total", ordering="total_cents")
    def total(self, obj):
        return format_cents(obj.total_cents)

    @admin.display(description="fichier pain.008")
    def file_link(self, obj):
        url = reverse("admin:billing_sepabatch_file", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, sepa.batch_filename(obj))

    @admin.display(description="prélèvements")
    def invoices_table(self, obj):
        invoices = obj.invoices.select_related("mandate").order_by("number")
        rows = (
            (
                change_link("billing.invoice", invoice.pk, invoice.number),
                invoice.family_label,
                format_cents(invoice.total_cents),
                invoice.mandate.rum if invoice.mandate else "—",
                invoice.get_status_display(),
            )
            for invoice in invoices
        )
        items = format_html_join("", "<li>{} — {} : {} (mandat {}) — {}</li>", rows)
        return format_html("<ul>{}</ul>", items)

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_export": request.user.has_perm(EXPORT_PERMISSION),
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("exporter/", view(self.export_view), name="billing_sepabatch_export"),
            path("<int:pk>/fichier/", view(self.file_view), name="billing_sepabatch_file"),
            *super().get_urls(),
        ]

    def file_view(self, request, pk):
        # The file carries the families' full IBANs: only for those who export.
        if not request.user.has_perm(EXPORT_PERMISSION):
            raise PermissionDenied
        batch = get_object_or_404(SepaBatch, pk=pk)
        response = HttpResponse(sepa.batch_bytes(batch), content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="{sepa.batch_filename(batch)}"'
        return response

    def export_view(self, request):
        if not request.user.has_perm(EXPORT_PERMISSION):
            raise PermissionDenied
        today = timezone.localdate()
        initial = {
            "collection_date": services.next_target_business_day(today + datetime.timedelta(days=5))
        }
        form = ExportForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                batch = sepa.create_batch(
                    regie=form.cleaned_data["regie"],
                    collection_date=form.cleaned_data["collection_date"],
                    by=request.user,
                    today=today,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                verb = (
                    "créé" if batch.was_created else "déjà exporté pour cette date (même fichier)"
                )
                messages.success(
                    request,
                    format_html(
                        "Lot {} {} : {} prélèvement(s), {} au {}. <a href='{}'>Télécharger {}</a>",
                        batch.number,
                        verb,
                        batch.invoice_count,
                        format_cents(batch.total_cents),
                        f"{batch.collection_date:%d/%m/%Y}",
                        reverse("admin:billing_sepabatch_file", args=[batch.pk]),
                        sepa.batch_filename(batch),
                    ),
                )
                return HttpResponseRedirect(
                    reverse("admin:billing_sepabatch_change", args=[batch.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Exporter un lot de prélèvement",
            "form": form,
            "submit_label": "Exporter le lot",
            "intro": "Crée le fichier pain.008 à remettre à la banque : chaque facture en "
            "prélèvement programmé de la régie dont la date de prélèvement est atteinte à "
            "l'échéance y figure une seule fois et devient payée par prélèvement. Un rejet se "
            "saisit ensuite sur la facture.",
        }
        return TemplateResponse(request, "admin/billing/form_page.html", context)


@admin.register(DebitRejection)
class DebitRejectionAdmin(ReadOnlyAdmin):
    list_display = [
        "invoice_link",
        "family",
        "rejected_on",
        "reason_code",
        "reason",
        "amount",
        "new_due_date",
        "recorded_by",
    ]
    list_filter = ["invoice__regie", "reason_code", "rejected_on"]
    search_fields = ["invoice__number", "invoice__family__name", "reason"]
    list_select_related = ["invoice", "reversal", "recorded_by"]
    fields = list_display + ["recorded_at"]
    readonly_fields = fields

    invoice_link = columns.invoice_link

    @admin.display(description="foyer")
    def family(self, obj):
        return obj.invoice.family_label

    @admin.display(description="montant rejeté")
    def amount(self, obj):
        return format_cents(-obj.reversal.amount_cents)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "facture/<int:invoice_pk>/",
                view(self.record_view),
                name="billing_debitrejection_record",
            ),
            *super().get_urls(),
        ]

    def record_view(self, request, invoice_pk):
        if not request.user.has_perm(REJECTION_PERMISSION):
            raise PermissionDenied
        invoice = get_object_or_404(Invoice.objects.select_related("regie"), pk=invoice_pk)
        today = timezone.localdate()
        payment = services.rejectable_payment(invoice)
        form = RejectionForm(request.POST or None, initial={"rejected_on": today}, today=today)
        if request.method == "POST" and form.is_valid():
            try:
                rejection = services.rejection_record(
                    invoice=invoice,
                    rejected_on=form.cleaned_data["rejected_on"],
                    reason_code=form.cleaned_data["reason_code"],
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                    today=today,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    f"Rejet enregistré : la facture {invoice.number} redevient impayée, à régler "
                    f"avant le {rejection.new_due_date:%d/%m/%Y} ; la famille est prévenue.",
                )
                return HttpResponseRedirect(
                    reverse("admin:billing_invoice_change", args=[invoice.pk])
                )
        intro = (
            f"Prélèvement du {payment.paid_on:%d/%m/%Y} : {format_cents(payment.amount_cents)} "
            f"({payment.reference}). Le rejet l'annule par un paiement opposé, la facture "
            "redevient impayée avec une nouvelle date limite et la famille est prévenue."
            if payment
            else f"La facture {invoice.number} n'a pas de prélèvement à rejeter."
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": Invoice._meta,
            "original": invoice,
            "title": f"Enregistrer un rejet de prélèvement — facture {invoice.number}",
            "form": form,
            "submit_label": "Enregistrer le rejet",
            "intro": intro,
        }
        return TemplateResponse(request, "admin/billing/form_page.html", context)
