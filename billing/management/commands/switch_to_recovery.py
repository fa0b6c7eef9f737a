import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.recovery import switch_to_recovery
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
        try:
            day = datetime.date.fromisoformat(today) if today else timezone.localdate()
        except ValueError as exc:
            raise CommandError("--today attend une date AAAA-MM-JJ.") from exc
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
