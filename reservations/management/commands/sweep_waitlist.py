from django.core.management.base import BaseCommand

from common.commands import day_option
from reservations import waitlist


class Command(BaseCommand):
    help = (
        "Liste d'attente : retire, en prévenant chaque famille, les enfants en attente d'un jour "
        "dont le délai de 3 jours ouvrés est passé, et inscrit les suivants sur les places "
        "libres. Sans effet la seconde fois."
    )

    def add_arguments(self, parser):
        parser.add_argument("--today", help="Date du jour (AAAA-MM-JJ) ; par défaut, aujourd'hui.")

    def handle(self, *args, today=None, **options):
        outcome = waitlist.sweep(today=day_option(today))
        self.stdout.write(
            self.style.SUCCESS(
                f"Liste d'attente : {len(outcome.booked)} inscription(s) réservée(s), "
                f"{len(outcome.expired)} retirée(s) (délai dépassé), "
                f"{len(outcome.dropped)} retirée(s) (plus réservable)."
            )
        )
