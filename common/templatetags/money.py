"""{% load money %}: {{ invoice.total_cents|euros }} → "30,00 €"."""

from django import template

from common.money import format_cents

register = template.Library()


@register.filter
def euros(cents):
    """Integer cents as French euros: 3000 → "30,00 €"."""
    return format_cents(cents)
