"""{% if regie|offers_direct_debit %}: whether a régie's pages link to « Prélèvement automatique »."""

from django import template

from billing.directdebit.services import offers_direct_debit

register = template.Library()

register.filter("offers_direct_debit", offers_direct_debit)
