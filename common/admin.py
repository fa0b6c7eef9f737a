"""What every app's admin shares and that knows no app: read-only lists and inlines, links
between admin pages, and CSV cells that no spreadsheet runs as formulas."""

import json

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from . import outbox
from .models import OutboxItem

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP: prefix with a quote)."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class ReadOnlyMixin:
    """Records that change only through the services (or are history): listed and shown, never
    added, edited or deleted in the admin, whatever the staff member's permissions."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """A read-only list and page."""


class ReadOnlyTabularInline(ReadOnlyMixin, admin.TabularInline):
    """A read-only table of related rows on an object's page."""

    extra = 0
    can_delete = False


def related_link(field: str, *, description: str, label=str, ordering: str | None = None):
    """An admin column (for `list_display`, `fields` and `readonly_fields` by its attribute
    name): a link to the admin page of the object in `field`, shown as `label(object)`; "—"
    when empty. Assign it to a ModelAdmin attribute: `invoice_link = related_link("invoice", …)`.
    """

    @admin.display(description=description, ordering=ordering)
    def column(obj):
        related = getattr(obj, field)
        if related is None:
            return "—"
        meta = related._meta
        return change_link(f"{meta.app_label}.{meta.model_name}", related.pk, label(related))

    return staticmethod(column)


def change_link(model: str, pk: int | None, label) -> str:
    """A link to the admin page of the `model` ("app_label.modelname") row `pk`, or "—"."""
    if pk is None:
        return "—"
    app_label, model_name = model.lower().split(".")
    url = reverse(f"admin:{app_label}_{model_name}_change", args=[pk])
    return format_html('<a href="{}">{}</a>', url, label)


@admin.register(OutboxItem)
class OutboxItemAdmin(ReadOnlyAdmin):
    """What requests promised to send (e-mails, notices): its state, its attempts and its last
    error; "Réessayer maintenant" sends again what failed or waits for its next attempt."""

    list_display = [
        "label_or_task",
        "state",
        "attempts",
        "created_at",
        "next_attempt_at",
        "delivered_at",
        "short_error",
    ]
    list_filter = ["state", "task"]
    search_fields = ["label", "task"]
    date_hierarchy = "created_at"
    fields = [
        "label",
        "task",
        "state",
        "attempts",
        "created_at",
        "next_attempt_at",
        "delivered_at",
        "last_error",
        "payload",
    ]
    readonly_fields = fields
    actions = ["retry_now"]
    list_per_page = 50

    @admin.display(description="objet", ordering="label")
    def label_or_task(self, item):
        return str(item)

    @admin.display(description="dernière erreur")
    def short_error(self, item):
        return (item.last_error[:117] + "…") if len(item.last_error) > 120 else item.last_error

    @admin.display(description="contenu")
    def payload(self, item):
        if item.sensitive:
            return "Contenu masqué (lien personnel), effacé une fois envoyé."
        return format_html(
            "<code>{}</code>",
            json.dumps({"args": item.args, "kwargs": item.kwargs}, ensure_ascii=False)[:2000],
        )

    def has_retry_permission(self, request):
        return request.user.has_perm("common.change_outboxitem")

    @admin.action(description="Réessayer maintenant", permissions=["retry"])
    def retry_now(self, request, queryset):
        count = outbox.retry(queryset)
        if count:
            self.message_user(
                request, f"{count} envoi(s) remis en file, tentés à l'instant.", messages.SUCCESS
            )
        else:
            self.message_user(
                request,
                "Aucun envoi à réessayer : ceux choisis sont déjà partis.",
                messages.WARNING,
            )
