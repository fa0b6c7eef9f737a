from django.core.management.base import BaseCommand

from billing.recovery.services import switch_to_recovery
from common.commands import day_option
from common.money import format_cents


class Command(BaseCommand):
    help = (
        "Met en recouvrement les factures encore impayées dont la date limite de paiement est "
        "passée, prévient chaque famille (Échanges et e-mail) et ferme leurs paiements en ligne "
        "en cours. Sans doublon : relancer ne change et n'envoie rien."
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", help="Date du jour AAAA-MM-JJ ; par défaut, aujourd'hui.")

    def handle(self, *args, today=None, **options):
        day = day_option(today)
        result = switch_to_recovery(today=day)
        if not result.count:
            self.stdout.write(f"Aucune facture à mettre en recouvrement au {day:%d/%m/%Y}.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.count} facture(s) mise(s) en recouvrement au {day:%d/%m/%Y} "
                f"({format_cents(result.due_cents)} restant dus), "
                f"{len(result.family_ids)} foyer(s) prévenu(s)."
            )
        )
