from django.core.management.base import BaseCommand, CommandError

from bench.seeding import seed_bench
from common.commands import day_option


class Command(BaseCommand):
    help = "Crée (sans doublon) les données de démonstration et un volume de N familles de test."

    def add_arguments(self, parser):
        parser.add_argument(
            "--families", type=int, required=True, help="Nombre de familles de test à créer."
        )
        parser.add_argument(
            "--today", help="Date du jour à utiliser (AAAA-MM-JJ) ; par défaut, aujourd'hui."
        )

    def handle(self, *args, families, today=None, **options):
        day = day_option(today)
        if families < 0:
            raise CommandError("--families attend un nombre positif ou nul.")
        created = seed_bench(families=families, today=day)
        if created:
            details = ", ".join(f"{label} : {count}" for label, count in created.items())
        else:
            details = "rien à ajouter"
        self.stdout.write(
            self.style.SUCCESS(
                f"Volume de test prêt au {day:%d/%m/%Y} ({families} familles) — {details}."
            )
        )
