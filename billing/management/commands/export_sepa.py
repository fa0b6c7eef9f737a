from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from billing.directdebit import sepa
from billing.models import Regie
from common.commands import day_option
from common.money import format_cents


class Command(BaseCommand):
    help = (
        "Exporte le lot de prélèvement SEPA (pain.008) d'une régie pour une date d'échéance : "
        "toutes les factures en prélèvement programmé dont la date de prélèvement est atteinte à "
        "cette date, une seule fois chacune. Relancé pour la même date, rend le même lot et le "
        "même fichier. Écrit le fichier (par défaut <numéro du lot>.xml dans le dossier courant ; "
        "--output - : sur la sortie standard) et affiche le numéro du lot."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--regie", required=True, help="Identifiant de la régie (periscolaire, alai)."
        )
        parser.add_argument(
            "--collection-date", required=True, help="Date d'échéance du prélèvement, AAAA-MM-JJ."
        )
        parser.add_argument(
            "--output",
            help="Chemin du fichier à écrire (un dossier : le fichier y prend le nom du lot ; - : sortie standard).",
        )
        parser.add_argument("--today", help="Date du jour AAAA-MM-JJ ; par défaut, aujourd'hui.")

    def handle(self, *args, regie, collection_date, output=None, today=None, **options):
        day = day_option(collection_date, option="--collection-date")
        now = day_option(today)
        target = Regie.objects.filter(slug=regie).first()
        if target is None:
            slugs = ", ".join(Regie.objects.values_list("slug", flat=True))
            raise CommandError(f"Aucune régie « {regie} » (régies : {slugs}).")
        try:
            batch = sepa.create_batch(regie=target, collection_date=day, by=None, today=now)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        content = sepa.batch_bytes(batch)
        summary = (
            f"Lot {batch.number} {'créé' if batch.was_created else 'déjà exporté (même fichier)'} : "
            f"{batch.invoice_count} prélèvement(s), {format_cents(batch.total_cents)}, échéance du "
            f"{batch.collection_date:%d/%m/%Y}"
        )
        if output == "-":
            self.stdout.write(content.decode("utf-8"), ending="")
            self.stderr.write(summary + ".")
            return
        path = Path(output) if output else Path(sepa.batch_filename(batch))
        if path.is_dir():
            path = path / sepa.batch_filename(batch)
        try:
            path.write_bytes(content)
        except OSError as exc:
            raise CommandError(f"Impossible d'écrire le fichier {path} : {exc.strerror}.") from exc
        self.stdout.write(self.style.SUCCESS(f"{summary} → {path}"))
