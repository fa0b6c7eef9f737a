from django.core.management.base import BaseCommand

from common.commands import day_option
from reservations.calendar import ensure_calendar_around


class Command(BaseCommand):
    help = (
        "Charge les jours fériés et les vacances scolaires (zone A) de l'année scolaire précédente, "
        "en cours et suivante. Sans effet sur une année déjà chargée (corrections conservées)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", help="Date du jour (AAAA-MM-JJ) ; par défaut, aujourd'hui.")

    def handle(self, *args, today=None, **options):
        day = day_option(today)
        created = ensure_calendar_around(day)
        self.stdout.write(
            self.style.SUCCESS(f"Calendrier scolaire à jour : {created} période(s) ajoutée(s).")
        )
