"""The régisseur's view of card payments: Checkout Sessions and Stripe events (read-only), and
the payment issues to follow up (money that did not fit an invoice, rejected debits), each
marked handled with a note saying what was done, by whom and when."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone

from billing import columns
from common.admin import ReadOnlyAdmin
from common.money import format_cents

from .models import CheckoutSession, PaymentIssue, StripeEvent
from .services import issue_resolve


@admin.register(CheckoutSession)
class CheckoutSessionAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "invoice_link",
        "family",
        "amount",
        "status",
        "payment_status",
        "expires_at",
        "payment",
    ]
    list_filter = ["status", "payment_status", "invoice__regie", "created_at"]
    search_fields = ["session_id", "invoice__number", "invoice__family__name"]
    list_select_related = ["invoice__family", "payment"]
    date_hierarchy = "created_at"
    fields = [
        "session_id",
        "invoice_link",
        "amount",
        "currency",
        "status",
        "payment_status",
        "created_by",
        "created_at",
        "expires_at",
        "updated_at",
        "payment",
    ]

    invoice_link = columns.invoice_link

    @admin.display(description="foyer", ordering="invoice__family__name")
    def family(self, obj):
        return obj.invoice.family

    @admin.display(description="montant", ordering="amount_cents")
    def amount(self, obj):
        return format_cents(obj.amount_cents)


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["received_at", "type", "event_id", "object_id", "outcome"]
    list_filter = ["type", "received_at"]
    search_fields = ["event_id", "object_id"]
    date_hierarchy = "received_at"
    fields = list_display


class HandledFilter(admin.SimpleListFilter):
    title = "état"
    parameter_name = "etat"

    def lookups(self, request, model_admin):
        return [("a-traiter", "À traiter"), ("traitees", "Traitées")]

    def queryset(self, request, queryset):
        if self.value() == "a-traiter":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "traitees":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        label="Suite donnée",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Par exemple : « Remboursé par Stripe le 02/12 » ou « Transmis au Trésor "
        "Public, bordereau 2026-118 ».",
        error_messages={"required": "Indiquez la suite donnée (remboursement, transmission…)."},
    )


@admin.register(PaymentIssue)
class PaymentIssueAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "invoice_link",
        "regie",
        "family",
        "amount",
        "reference",
        "state",
        "resolved_by",
    ]
    list_filter = [HandledFilter, "kind", "invoice__regie"]
    search_fields = ["invoice__number", "invoice__family__name", "reference"]
    list_select_related = ["invoice__regie", "invoice__family", "resolved_by"]
    actions = ["mark_resolved"]
    readonly_fields = [
        "kind",
        "invoice_link",
        "family",
        "amount",
        "currency",
        "payment",
        "reference",
        "detail",
        "created_at",
        "resolved_at",
        "resolved_by",
    ]
    fields = [*readonly_fields[:-2], "resolution", "resolved_at", "resolved_by"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.resolved_at:
            return [*self.readonly_fields, "resolution"]
        return self.readonly_fields

    invoice_link = columns.invoice_link

    @admin.display(description="régie", ordering="invoice__regie")
    def regie(self, obj):
        return obj.invoice.regie

    @admin.display(description="foyer", ordering="invoice__family__name")
    def family(self, obj):
        return obj.invoice.family

    @admin.display(description="montant reçu", ordering="amount_cents")
    def amount(self, obj):
        if obj.currency and obj.currency != "eur":
            return f"{obj.amount_cents} {obj.currency} (centimes)"
        return format_cents(obj.amount_cents)

    @admin.display(description="état", ordering="resolved_at")
    def state(self, obj):
        if obj.resolved_at:
            return f"Traitée le {timezone.localtime(obj.resolved_at):%d/%m/%Y}"
        return "À traiter"

    def save_model(self, request, obj, form, change):
        """Saving a note on an issue to handle marks it handled (who, when), through the same
        service as the list's action; nothing else can be changed here."""
        if not change or "resolution" not in form.changed_data or not obj.resolution.strip():
            return
        try:
            issue_resolve(issue=obj, resolution=obj.resolution, by=request.user, now=timezone.now())
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))

    @admin.action(
        description="Marquer comme traitées (avec la suite donnée)", permissions=["change"]
    )
    def mark_resolved(self, request, queryset):
        pending = list(queryset.filter(resolved_at__isnull=True).select_related("invoice"))
        if not pending:
            self.message_user(request, "Ces anomalies sont déjà traitées.", messages.WARNING)
            return None
        form = ResolveForm(request.POST if "resolution" in request.POST else None)
        if form.is_valid():
            now = timezone.now()
            for issue in pending:
                issue_resolve(
                    issue=issue,
                    resolution=form.cleaned_data["resolution"],
                    by=request.user,
                    now=now,
                )
            self.message_user(
                request,
                f"{len(pending)} anomalie(s) marquée(s) comme traitée(s).",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(request.get_full_path())
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Marquer des anomalies de paiement comme traitées",
            "issues": pending,
            "form": form,
            "action": "mark_resolved",
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/billing/paymentissue_resolve.html", context)
