"""« Mes données »: everything the portal holds about a family, for its guardians to download
(RGPD right of access and portability), as JSON and as a readable PDF.

`family_data` reads every app with a bounded number of queries (one or two per kind of record,
whatever their number) and returns plain Python values — dates, integers in cents, strings,
lists and dicts with French keys — that both formats render. Files themselves (documents,
certificates, attachments) are listed, not included. An IBAN keeps only its country and last 4.
"""

import datetime
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from billing.models import CreditNote, Invoice, InvoiceLine, Mandate, Payment
from common.bank import mask_iban
from enrolment import kinds
from enrolment.models import Enrolment, EnrolmentRequest, RequestDocument, RequestEvent
from exchanges.models import Message, Thread
from families.models import Child, ChildContact, Guardian, GuardianEvent, GuardianInvitation
from reservations.models import Absence, Booking

FORMAT_VERSION = 1
OFFICE = "Pôle administratif"


def _person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.email


def _family(family) -> dict:
    return {
        "nom": family.name,
        "adresse": family.address,
        "complement_adresse": family.address_complement,
        "code_postal": family.postal_code,
        "commune": family.city,
        "telephone": family.phone,
        "quotient_familial": family.quotient_familial,
        "quotient_valable_jusqu_au": family.quotient_valid_until,
        "cree_le": family.created_at,
    }


def _guardians(family) -> list[dict]:
    return [
        {
            "nom": guardian.user.last_name,
            "prenom": guardian.user.first_name,
            "email": guardian.user.email,
            "lien": guardian.get_relationship_display(),
            "telephone_portable": guardian.mobile_phone,
            "telephone_professionnel": guardian.work_phone,
            "rattache_le": guardian.created_at,
        }
        for guardian in Guardian.objects.filter(family=family)
        .select_related("user")
        .order_by("created_at", "pk")
    ]


def _invitations(family) -> list[dict]:
    return [
        {
            "email": invitation.email,
            "etat": invitation.get_status_display(),
            "envoyee_le": invitation.created_at,
            "valable_jusqu_au": invitation.expires_at,
        }
        for invitation in GuardianInvitation.objects.for_family(family).order_by("created_at")
    ]


def _history(family) -> list[dict]:
    return [
        {"date": event.at, "evenement": event.get_kind_display(), "email": event.email}
        for event in GuardianEvent.objects.filter(family=family).order_by("at", "pk")
    ]


def _children(family) -> list[dict]:
    children = (
        Child.objects.for_family(family)
        .select_related("school")
        .prefetch_related(
            Prefetch("contacts", queryset=ChildContact.objects.order_by("pk")),
            Prefetch(
                "enrolments",
                queryset=Enrolment.objects.select_related("service", "school_year").order_by(
                    "school_year__start_date", "service__label"
                ),
            ),
        )
        .order_by("birth_date", "first_name", "pk")
    )
    return [
        {
            "nom": child.last_name,
            "prenom": child.first_name,
            "date_de_naissance": child.birth_date,
            "sexe": child.get_sex_display(),
            "ecole": child.school.name if child.school else "",
            "classe": child.school_class,
            "informations_de_sante": child.health_notes,
            "pai": child.has_pai,
            "cantine": child.canteen,
            "droit_a_l_image": child.image_rights,
            "personnes_autorisees_ou_a_prevenir": [
                {
                    "nom": contact.full_name,
                    "lien": contact.relationship,
                    "telephone": contact.phone,
                    "peut_venir_chercher": contact.can_pick_up,
                    "a_prevenir_en_cas_d_urgence": contact.is_emergency_contact,
                }
                for contact in child.contacts.all()
            ],
            "inscriptions_effectives": [
                {
                    "service": enrolment.service.label,
                    "annee_scolaire": enrolment.school_year.label,
                    "depuis_le": enrolment.effective_on,
                }
                for enrolment in child.enrolments.all()
            ],
        }
        for child in children
    ]


def _requests(family) -> list[dict]:
    requests = (
        EnrolmentRequest.objects.for_family(family)
        .select_related("teleservice", "child")
        .prefetch_related(
            Prefetch(
                "documents",
                queryset=RequestDocument.objects.select_related("document_type").order_by(
                    "uploaded_at", "pk"
                ),
            ),
            Prefetch("events", queryset=RequestEvent.objects.order_by("at", "pk")),
        )
        .order_by("created_at", "pk")
    )
    return [
        {
            "numero": request.number,
            "teleservice": request.teleservice.label,
            "enfant": f"{request.child.first_name} {request.child.last_name}"
            if request.child
            else "",
            "etat": request.get_state_display(),
            "creee_le": request.created_at,
            "envoyee_le": request.submitted_at,
            "decidee_le": request.decided_at,
            "motif_du_refus": request.refusal_reason,
            "reponses": [
                {"question": question, "reponse": answer}
                for question, answer in kinds.answer_rows(request)
            ],
            "documents": [
                {
                    "type": document.document_type.name,
                    "nom_du_fichier": document.original_name,
                    "format": document.content_type,
                    "taille_octets": document.size,
                    "etat": document.get_state_display(),
                    "motif": document.reason,
                    "depose_le": document.uploaded_at,
                    "verifie_le": document.reviewed_at,
                }
                for document in request.documents.all()
            ],
            "historique": [
                {"date": event.at, "par": event.actor_label, "message": event.message}
                for event in request.events.all()
            ],
        }
        for request in requests
    ]


def _bookings(family) -> list[dict]:
    bookings = (
        Booking.objects.for_family(family)  # its own bookings only (résidence alternée)
        .select_related("child", "slot")
        .order_by("date", "slot__position", "child__first_name", "pk")
    )
    return [
        {
            "date": booking.date,
            "enfant": booking.child.first_name,
            "creneau": booking.slot.label,
            "etat": booking.get_status_display(),
            "presence": booking.get_presence_display(),
            "origine": booking.get_origin_display(),
            "creee_le": booking.created_at,
            "annulee_le": booking.cancelled_at,
            "motif_d_annulation": booking.cancel_reason,
        }
        for booking in bookings
    ]


def _absences(family) -> list[dict]:
    absences = (
        Absence.objects.for_family(family).select_related("child").order_by("start_date", "pk")
    )
    return [
        {
            "enfant": absence.child.first_name,
            "du": absence.start_date,
            "au": absence.end_date,
            "motif": absence.reason,
            "certificat": absence.certificate_name,
            "etat": absence.get_status_display(),
            "note_du_pole_administratif": absence.office_note,
            "declaree_le": absence.declared_at,
            "decidee_le": absence.decided_at,
        }
        for absence in absences
    ]


def _invoices(family) -> list[dict]:
    invoices = (
        Invoice.objects.for_family(family)
        .select_related("regie")
        .prefetch_related(Prefetch("lines", queryset=InvoiceLine.objects.order_by("position")))
        .order_by("period_start", "regie__position", "pk")
    )
    return [
        {
            "numero": invoice.number,
            "regie": invoice.regie.name,
            "periode": invoice.period_label,
            "emise_le": invoice.issue_date,
            "a_payer_avant_le": invoice.due_date,
            "statut": invoice.get_status_display(),
            "montant_centimes": invoice.total_cents,
            "payeur": invoice.payer_name,
            "adresse_du_payeur": invoice.payer_address,
            "quotient_familial_applique": invoice.quotient_label,
            "mise_en_recouvrement_le": invoice.recovery_date,
            "date_de_prelevement": invoice.debit_date,
            "lignes": [
                {
                    "libelle": line.label,
                    "date": line.service_date,
                    "quantite": line.quantity,
                    "prix_unitaire_centimes": line.unit_price_cents,
                    "montant_centimes": line.amount_cents,
                }
                for line in invoice.lines.all()
            ],
        }
        for invoice in invoices
    ]


def _payments(family) -> list[dict]:
    payments = (
        Payment.objects.for_family(family).select_related("invoice").order_by("paid_on", "pk")
    )
    return [
        {
            "date": payment.paid_on,
            "facture": payment.invoice.number,
            "moyen": payment.get_means_display(),
            "reference": payment.reference,
            "montant_centimes": payment.amount_cents,
        }
        for payment in payments
    ]


def _credit_notes(family) -> list[dict]:
    notes = (
        CreditNote.objects.filter(invoice__family=family)
        .select_related("invoice")
        .order_by("issue_date", "pk")
    )
    return [
        {
            "numero": note.number,
            "facture_annulee": note.invoice.number,
            "emis_le": note.issue_date,
            "montant_centimes": note.amount_cents,
            "motif": note.reason,
        }
        for note in notes
    ]


def _mandates(family) -> list[dict]:
    mandates = Mandate.objects.filter(family=family).select_related("regie").order_by("pk")
    return [
        {
            "regie": mandate.regie.name,
            "rum": mandate.rum,
            "ics_du_creancier": mandate.creditor_ics,
            "titulaire_du_compte": mandate.account_holder,
            "iban": mask_iban(mandate.iban),
            "bic": mandate.bic,
            "signe_le": mandate.signed_on,
            "etat": mandate.get_status_display(),
            "revoque_le": mandate.revoked_at,
        }
        for mandate in mandates
    ]


def _threads(family) -> list[dict]:
    messages = Message.objects.select_related("author").prefetch_related("attachments")
    threads = (
        Thread.objects.for_family(family)
        .prefetch_related(Prefetch("messages", queryset=messages.order_by("created_at", "pk")))
        .order_by("created_at", "pk")
    )
    return [
        {
            "objet": thread.subject,
            "teleservice": thread.teleservice,
            "commence_le": thread.created_at,
            "messages": [
                {
                    "date": message.created_at,
                    "de": _person(message.author)
                    if message.side == Message.Side.FAMILY
                    else OFFICE,
                    "texte": message.body,
                    "pieces_jointes": [
                        {
                            "nom_du_fichier": attachment.original_name,
                            "format": attachment.content_type,
                            "taille_octets": attachment.size,
                        }
                        for attachment in message.attachments.all()
                    ],
                }
                for message in thread.messages.all()
            ],
        }
        for thread in threads
    ]


def family_data(family, *, now: datetime.datetime) -> dict:
    """Everything the portal holds about `family`, section by section."""
    return {
        "format": {"nom": "Portail famille — données du foyer", "version": FORMAT_VERSION},
        "genere_le": now,
        "foyer": _family(family),
        "responsables": _guardians(family),
        "invitations": _invitations(family),
        "historique_du_foyer": _history(family),
        "enfants": _children(family),
        "demandes": _requests(family),
        "reservations": _bookings(family),
        "absences": _absences(family),
        "factures": _invoices(family),
        "paiements": _payments(family),
        "avoirs": _credit_notes(family),
        "mandats": _mandates(family),
        "echanges": _threads(family),
    }


class _Encoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, datetime.datetime) and timezone.is_aware(o):
            o = timezone.localtime(o)  # Paris time, with its offset
        return super().default(o)


def to_json(data: dict) -> bytes:
    """The export as indented UTF-8 JSON (dates and times in ISO 8601, Paris time)."""
    return json.dumps(data, cls=_Encoder, ensure_ascii=False, indent=2).encode()


@transaction.atomic
def data_download_record(*, family, user, file_format: str) -> GuardianEvent:
    """Write down that `user` downloaded the data of `family` in `file_format`, for the office
    (the family's history in the admin)."""
    return GuardianEvent.objects.create(
        family=family,
        kind=GuardianEvent.Kind.DATA_DOWNLOADED,
        user=user,
        email=user.email,
        actor=user,
        note=f"Format {file_format.upper()}",
        at=timezone.now(),
    )
