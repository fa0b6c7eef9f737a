from django.urls import path

from . import views
from .card import views as card_views
from .directdebit import views as directdebit_views

app_name = "billing"

urlpatterns = [
    path("", views.regie_list, name="regie_list"),
    path("factures/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("factures/<int:pk>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("factures/<int:pk>/avoir/pdf/", views.credit_note_pdf, name="credit_note_pdf"),
    path("factures/<int:pk>/payer/", card_views.invoice_pay, name="invoice_pay"),
    path("factures/<int:pk>/paiement/", card_views.payment_return, name="payment_return"),
    path("stripe/webhook/", card_views.stripe_webhook, name="stripe_webhook"),
    path("mandats/<int:pk>/revoquer/", directdebit_views.mandate_revoke, name="mandate_revoke"),
    path("<slug:regie>/factures/", views.invoice_list, name="invoice_list"),
    path("<slug:regie>/prelevement/", directdebit_views.direct_debit, name="direct_debit"),
    path("<slug:regie>/reservations/", views.regie_bookings, name="regie_bookings"),
    path("<slug:regie>/releve/", views.statement, name="statement"),
    path("<slug:regie>/releve/pdf/", views.statement_pdf, name="statement_pdf"),
    path(
        "<slug:regie>/attestation-fiscale/", views.tax_certificate_list, name="tax_certificate_list"
    ),
    path(
        "<slug:regie>/attestation-fiscale/<int:year>/",
        views.tax_certificate,
        name="tax_certificate",
    ),
]
