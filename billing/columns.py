"""Admin columns several billing pages show: the invoice and the family, each as a link to its
admin page."""

from operator import attrgetter

from common.admin import related_link

invoice_link = related_link(
    "invoice", description="facture", label=attrgetter("number"), ordering="invoice__number"
)
cancelled_invoice_link = related_link(
    "invoice", description="facture annulée", label=attrgetter("number")
)
family_link = related_link("family", description="foyer", ordering="family__name")
