"""What the billing admin modules share: read-only lists, links between admin pages, and CSV
cells that no spreadsheet runs as formulas."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP: prefix with a quote)."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that change only through the services: listed and shown, never edited here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def invoice_link(invoice_id: int, label) -> str:
    """A link to the invoice's admin page."""
    url = reverse("admin:billing_invoice_change", args=[invoice_id])
    return format_html('<a href="{}">{}</a>', url, label)


def family_link(family_id: int, label) -> str:
    """A link to the family's admin page."""
    url = reverse("admin:families_family_change", args=[family_id])
    return format_html('<a href="{}">{}</a>', url, label)
