"""Card payment: Stripe Checkout pages for invoices, the signed webhook, the nightly
reconciliation and the payment issues the régisseur follows up."""
