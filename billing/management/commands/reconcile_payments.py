from django.core.management.base import BaseCommand
from django.utils import timezone

from billing import stripe_gateway
from billing.card.services import reconcile_sessions


class Command(BaseCommand):
    help = (
        "Rapproche les paiements par carte restés ouverts : interroge Stripe sur chaque session "
        "ancienne de plus de quelques minutes (ou expirée) et enregistre ce qui a été payé, une "
        "seule fois, comme le ferait le webhook. Relancer ne fait rien de plus."
    )

    def handle(self, *args, **options):
        if not stripe_gateway.is_configured():
            self.stdout.write(
                "Paiement en ligne non configuré (clés Stripe absentes) : rien à faire."
            )
            return
        report = reconcile_sessions(now=timezone.now())
        message = (
            f"{report.checked} session(s) examinée(s) : {report.paid} payée(s), "
            f"{report.expired} expirée(s)"
        )
        if report.errors:
            self.stdout.write(
                self.style.WARNING(f"{message}, {report.errors} sans réponse de Stripe.")
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"{message}."))
