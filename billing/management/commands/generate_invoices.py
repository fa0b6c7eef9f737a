from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from billing.invoicing import BATCH_SIZE, due_runs, invoicing_run
from billing.models import Regie
from common.commands import day_option
from common.dates import parse_month
from common.money import format_cents


class Command(BaseCommand):
    help = (
        "Émet les factures mensuelles. Sans --month : le mois dernier, pour chaque régie dont le "
        "jour d'émission est passé et qui n'est pas encore facturée (comme la tâche de nuit). "
        "Avec --month AAAA-MM : ce mois-là, pour toutes les régies (ou --regie). Sans doublon : "
        "relancer ne facture jamais deux fois un foyer, et termine une facturation interrompue."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", help="Mois à facturer, AAAA-MM (terminé).")
        parser.add_argument("--regie", help="Identifiant de la régie (alai, periscolaire).")
        parser.add_argument("--today", help="Date d'émission AAAA-MM-JJ ; par défaut, aujourd'hui.")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH_SIZE,
            help=f"Foyers facturés par transaction (par défaut {BATCH_SIZE}).",
        )

    def handle(self, *args, month=None, regie=None, today=None, batch_size=BATCH_SIZE, **options):
        if batch_size < 1:
            raise CommandError("--batch-size attend un nombre de foyers supérieur à zéro.")
        day = day_option(today)
        regies = Regie.objects.all()
        if regie:
            regies = regies.filter(slug=regie)
            if not regies:
                raise CommandError(f"Aucune régie « {regie} ».")
        if month:
            try:
                first = parse_month(month)
            except ValueError as exc:
                raise CommandError("--month attend un mois AAAA-MM.") from exc
            work = [(r, first) for r in regies]
        else:
            wanted = {r.pk for r in regies}
            work = [(r, m) for r, m in due_runs(day) if r.pk in wanted]
            if not work:
                self.stdout.write(
                    "Rien à facturer aujourd'hui (jour d'émission non atteint ou mois déjà facturé)."
                )
        for target, first in work:
            try:
                run = invoicing_run(
                    regie=target,
                    month=first,
                    today=day,
                    trigger="Commande generate_invoices",
                    batch_size=batch_size,
                )
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from exc
            self.stdout.write(
                self.style.SUCCESS(
                    f"{target.name} — {first:%m/%Y} : {run.invoices_issued} facture(s) émise(s) pour "
                    f"{format_cents(run.amount_cents)}, {run.families_seen} foyer(s) examiné(s), "
                    f"{run.skipped} sans nouvelle facture."
                )
            )
            if run.resumes_id:
                started = timezone.localtime(run.resumes.started_at)
                self.stdout.write(
                    f"La facturation interrompue du {started:%d/%m/%Y à %H:%M} est terminée."
                )
