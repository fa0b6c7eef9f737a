"""French in templates: `pluriel` agrees a word with a number as French does (singular for 0
and 1, plural from 2 on), where Django's `pluralize` follows English (« 0 factures »)."""

from django import template

register = template.Library()


@register.filter
def pluriel(value, arg="s"):
    """`{{ n }} facture{{ n|pluriel }}`; `{{ n|pluriel:"al,aux" }}` for two forms."""
    singular, _, plural = arg.rpartition(",") if "," in arg else ("", "", arg)
    try:
        count = len(value) if hasattr(value, "__len__") and not isinstance(value, str) else value
        many = abs(float(count)) >= 2
    except (TypeError, ValueError):
        return ""
    return plural if many else singular
