"""« À faire » on the home page: what waits for the signed-in family now, read in a fixed
number of queries whatever the number of requests, invoices or messages.

In order: documents to replace (each links to its replacement form), requests held until the
family acts (and why), drafts not sent yet, invoices to pay (with the card payment), invoices
mises en recouvrement (paid to the Trésor Public from then on), unread messages.
"""

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone

from billing.models import Invoice
from common.money import format_cents
from enrolment import kinds, selectors
from enrolment.models import EnrolmentRequest
from exchanges.models import Thread

# Unread threads listed one by one; beyond, one line sends to « Échanges ».
MAX_THREADS = 3
ICONS = {
    "document": "bi-file-earmark-excel",
    "held": "bi-hourglass-split",
    "draft": "bi-pencil-square",
    "invoice": "bi-receipt",
    "recovery": "bi-bank2",
    "message": "bi-envelope-exclamation",
    "messages": "bi-chat-left-text",
}


@dataclass
class Todo:
    """One thing the family has to do: what, why, and where to do it."""

    kind: str  # document, held, draft, invoice, recovery, message, messages
    title: str
    text: str = ""
    url: str = ""
    action: str = ""
    invoice: Invoice | None = None
    links: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    @property
    def icon(self) -> str:
        return ICONS[self.kind]


def _request_label(enrolment_request: EnrolmentRequest) -> str:
    """« demande n° 2026-00008 (Périscolaire : Prélèvement automatique…, Léa) »."""
    who = f", {enrolment_request.child.first_name}" if enrolment_request.child_id else ""
    return f"demande n° {enrolment_request.number} ({enrolment_request.teleservice.label}{who})"


def _documents(family) -> list[Todo]:
    return [
        Todo(
            kind="document",
            title=f"Document à remplacer : « {document.document_type.name} »",
            text=(
                f"D{_request_label(document.request)[1:]}. "
                f"{'Motif du refus' if document.state == document.State.REFUSED else 'À mettre à jour'}"
                f" : {document.reason}"
            ),
            url=reverse("enrolment:document_replace", args=[document.request_id, document.pk]),
            action=f"Remplacer « {document.document_type.name} »",
        )
        for document in selectors.documents_to_replace(family)
    ]


def _requests(family) -> list[Todo]:
    """Requests held until the family acts, then drafts not sent yet."""
    requests = list(
        EnrolmentRequest.objects.for_family(family)
        .filter(state__in=[EnrolmentRequest.State.DRAFT, EnrolmentRequest.State.SUBMITTED])
        .select_related("teleservice", "child")
        .order_by("created_at", "pk")
    )
    holds = kinds.held_reasons(
        [item for item in requests if item.state == EnrolmentRequest.State.SUBMITTED]
    )
    held = [
        Todo(
            kind="held",
            title=f"Demande n° {item.number} en attente de votre part",
            text=holds[item.pk].text,
            url=item.get_parent_url(),
            action=f"Voir la demande n° {item.number}",
            links=holds[item.pk].links,
        )
        for item in requests
        if item.pk in holds
    ]
    drafts = [
        Todo(
            kind="draft",
            title=f"Brouillon à valider : {_request_label(item)}",
            text="Ce brouillon n'est pas encore envoyé au pôle administratif.",
            url=reverse("enrolment:request_update", args=[item.pk]),
            action="Compléter et valider ma demande",
        )
        for item in requests
        if item.state == EnrolmentRequest.State.DRAFT
    ]
    return held + drafts


def _invoices(family) -> list[Todo]:
    invoices = list(
        Invoice.objects.for_family(family)
        .filter(status__in=[Invoice.Status.UNPAID, Invoice.Status.RECOVERY])
        .with_paid()
        .select_related("regie")
        .order_by("due_date", "number")
    )
    to_pay = [
        Todo(
            kind="invoice",
            title=f"Facture n° {invoice.number} à régler : {format_cents(invoice.due_cents())}",
            text=f"{invoice.regie.name}, {invoice.period_label.lower()} : "
            f"à régler avant le {invoice.due_date:%d/%m/%Y}.",
            url=invoice.get_parent_url(),
            action=f"Voir la facture n° {invoice.number}",
            invoice=invoice,
        )
        for invoice in invoices
        if invoice.is_payable_online and invoice.due_cents()
    ]
    recovery = [
        Todo(
            kind="recovery",
            title=f"Facture n° {invoice.number} mise en recouvrement : "
            f"{format_cents(invoice.due_cents())}",
            text="Elle ne se règle plus sur le portail : le paiement se fait désormais auprès du "
            "Trésor Public, qui vous contacte par courrier.",
            url=invoice.get_parent_url(),
            action=f"Voir la facture n° {invoice.number}",
        )
        for invoice in invoices
        if invoice.in_recovery
    ]
    return to_pay + recovery


def _messages(family) -> list[Todo]:
    threads = list(
        Thread.objects.for_family(family)
        .unread_by_family()
        .only("pk", "subject", "last_message_at")
        .order_by("-last_message_at", "-pk")
    )
    todos = [
        Todo(
            kind="message",
            title=f"Message non lu : {thread.subject}",
            text=f"Reçu le {timezone.localtime(thread.last_message_at):%d/%m/%Y}.",
            url=thread.get_absolute_url(),
            action="Lire le message",
        )
        for thread in threads[:MAX_THREADS]
    ]
    if len(threads) > MAX_THREADS:
        todos.append(
            Todo(
                kind="messages",
                title=f"{len(threads)} messages non lus dans « Échanges »",
                url=reverse("exchanges:thread_list"),
                action="Voir tous les échanges",
            )
        )
    return todos


def family_todos(family) -> list[Todo]:
    """What waits for `family` now, most pressing first; empty when all is in order. At most
    six queries (two more only when a request is held), whatever the family holds."""
    if not family:
        return []
    return _documents(family) + _requests(family) + _invoices(family) + _messages(family)
