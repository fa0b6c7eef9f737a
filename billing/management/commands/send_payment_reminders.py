from django.conf import settings
from django.core.management.base import BaseCommand

from billing.recovery.services import reminder_window, send_payment_reminders
from common.commands import day_option


class Command(BaseCommand):
    help = (
        "Envoie un rappel par e-mail pour chaque facture impayée dont la date limite de paiement "
        "tombe dans les PAYMENT_REMINDER_DAYS jours (un seul rappel par facture ; pas pour un "
        "prélèvement programmé). Relancer n'envoie rien de plus."
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", help="Date du jour AAAA-MM-JJ ; par défaut, aujourd'hui.")

    def handle(self, *args, today=None, **options):
        day = day_option(today)
        reminded = send_payment_reminders(today=day)
        start, end = reminder_window(day)
        window = f"date limite du {start:%d/%m/%Y} au {end:%d/%m/%Y}"
        if not reminded:
            self.stdout.write(f"Aucun rappel à envoyer ({window}).")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"{len(reminded)} rappel(s) de paiement envoyé(s) ({window}, "
                f"{settings.PAYMENT_REMINDER_DAYS} jours)."
            )
        )
