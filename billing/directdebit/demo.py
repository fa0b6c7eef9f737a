"""Direct debit in the demo (seed_demo): the régies' creditor details, the direct-debit
téléservices mapped to the périscolaire régie, a mandate for each demo family whose request was
accepted (the neighbours), and the collection of its programmed invoices already due — as the
régisseur would have exported them. Idempotent."""

import datetime

from django.db.models import Min
from django.utils import timezone

from billing.models import Invoice, Regie
from billing.reference import ensure_demo_creditors
from enrolment.models import EnrolmentRequest, RequestEvent, Teleservice
from exchanges.models import Message, Thread

from . import sepa
from .models import DirectDebitTeleservice, Mandate
from .services import mandate_create, teleservice_regie

DEMO_TELESERVICE_PREFIX = "prelevement-automatique-"
DEMO_REGIE = "periscolaire"  # "Périscolaire : Prélèvement automatique Léo Lagrange"


def ensure_direct_debit() -> None:
    """Creditor details on the régies, and the demo direct-debit téléservices mapped."""
    ensure_demo_creditors()
    regie = Regie.objects.filter(slug=DEMO_REGIE).first()
    if regie is None:
        return
    for teleservice in Teleservice.objects.filter(
        kind=Teleservice.Kind.PRELEVEMENT, slug__startswith=DEMO_TELESERVICE_PREFIX
    ):
        DirectDebitTeleservice.objects.get_or_create(
            teleservice=teleservice, defaults={"regie": regie}
        )


def seed_mandates(families) -> list[Mandate]:
    """The mandate of each accepted direct-debit request of `families` that has none yet, as
    the acceptance made it (dated from the decision)."""
    made = []
    requests = EnrolmentRequest.objects.filter(
        family__in=list(families),
        kind=Teleservice.Kind.PRELEVEMENT,
        state=EnrolmentRequest.State.CLOSED,
        mandate__isnull=True,
    ).select_related("teleservice", "family")
    for enrolment_request in requests:
        regie = teleservice_regie(enrolment_request.teleservice)
        if regie is None:
            continue
        decided = enrolment_request.decided_at or timezone.now()
        mandate = mandate_create(
            enrolment_request=enrolment_request,
            regie=regie,
            user=None,
            today=timezone.localdate(decided),
        )
        Mandate.objects.filter(pk=mandate.pk).update(created_at=decided)
        RequestEvent.objects.create(
            request=enrolment_request,
            at=decided,
            actor_label="Pôle administratif",
            message=f"Demande acceptée : prélèvement automatique actif (mandat {mandate.rum}).",
        )
        threads = Thread.objects.filter(
            family=enrolment_request.family, subject__contains=mandate.rum
        )
        Message.objects.filter(thread__in=threads).update(created_at=decided)
        threads.update(created_at=decided, last_message_at=decided, family_unread=False)
        made.append(mandate)
    return made


def collect_due_debits(families, *, before: datetime.date, by=None) -> list:
    """Export, as the régisseur did, the batches of the demo families' programmed invoices of
    the months before `before` (a few days ahead of each debit date)."""
    batches = []
    while True:
        first = (
            Invoice.objects.filter(
                family__in=list(families),
                status=Invoice.Status.DIRECT_DEBIT,
                sepa_batch__isnull=True,
                period_start__lt=before,
            )
            .values("regie")
            .annotate(day=Min("debit_date"))
            .order_by("day")
            .first()
        )
        if first is None:
            return batches
        day = first["day"]
        batch = sepa.create_batch(
            regie=Regie.objects.get(pk=first["regie"]),
            collection_date=day,
            by=by,
            today=day - datetime.timedelta(days=5),
        )
        if not batch.was_created:  # that date was exported already: leave the rest
            return batches
        batches.append(batch)
