from django.core.management.base import BaseCommand
from django.utils import timezone

from enrolment.services import purge_enrolment_data


class Command(BaseCommand):
    help = (
        "Supprime les brouillons de demande laissés sans modification et les justificatifs des demandes "
        "closes ou refusées dont la durée de conservation est écoulée."
    )

    def handle(self, *args, **options):
        result = purge_enrolment_data(now=timezone.now())
        self.stdout.write(
            self.style.SUCCESS(
                f"Brouillons supprimés : {result['drafts']} ; justificatifs supprimés : {result['documents']}."
            )
        )
