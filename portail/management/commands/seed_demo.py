from django.core.management.base import BaseCommand

from common.commands import day_option
from portail.demo import seed_demo


class Command(BaseCommand):
    help = "Crée (sans doublon) les comptes et données de démonstration du README."

    def add_arguments(self, parser):
        parser.add_argument(
            "--today", help="Date du jour à utiliser (AAAA-MM-JJ) ; par défaut, aujourd'hui."
        )

    def handle(self, *args, today=None, **options):
        day = day_option(today)
        families = seed_demo(day)
        self.stdout.write(
            self.style.SUCCESS(
                f"Données de démonstration prêtes au {day:%d/%m/%Y} : {', '.join(str(f) for f in families.values())}."
            )
        )
