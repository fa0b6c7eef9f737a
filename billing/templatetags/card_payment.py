"""{% card_payment_enabled as enabled %}: whether the green card button is offered at all."""

from django import template

from billing import stripe_gateway

register = template.Library()


@register.simple_tag
def card_payment_enabled() -> bool:
    """True when Stripe's keys are set; otherwise pages say "Paiement en ligne indisponible"."""
    return stripe_gateway.is_configured()
