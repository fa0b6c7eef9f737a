"""{% card_payment_enabled as enabled %}: whether the green card button is offered at all."""

from django import template

from billing.card.sessions import card_payment_enabled

register = template.Library()

# True when Stripe's keys are set; otherwise pages say "Paiement en ligne indisponible".
register.simple_tag(card_payment_enabled, name="card_payment_enabled")
