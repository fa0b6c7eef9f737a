from django.core.management.base import BaseCommand

from common import outbox
from common.models import OutboxItem


class Command(BaseCommand):
    help = (
        "Envoie ce qui attend dans la file des envois différés (e-mails, avis) : ce que le "
        "courtier n'a pas pu prendre et ce dont la tentative suivante est venue. Chaque envoi "
        "part une seule fois ; relancée, la commande n'envoie rien de plus."
    )

    def handle(self, *args, **options):
        sent = outbox.deliver_due()
        waiting = OutboxItem.objects.filter(state=OutboxItem.State.PENDING).count()
        failed = OutboxItem.objects.filter(state=OutboxItem.State.FAILED).count()
        self.stdout.write(f"{sent} envoi(s) fait(s) ; {waiting} en attente ; {failed} en échec.")
