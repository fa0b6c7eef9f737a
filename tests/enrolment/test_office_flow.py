import html
import re

import pytest
from django.core import mail
from django.urls import reverse

from enrolment import kinds, services
from enrolment.models import Enrolment, EnrolmentRequest, RequestDocument, Teleservice
from exchanges.models import Thread
from tests.enrolment.helpers import document, draft_for, make_teleservice, submitted_for, upload

State = EnrolmentRequest.State
DocState = RequestDocument.State


def text(response) -> str:
    return html.unescape(response.content.decode())


def admin_url(name, *args):
    return reverse(f"admin:enrolment_{name}", args=args)


def test_full_office_flow(
    client, family_a, periscolaire, assistant, today, django_capture_on_commit_callbacks
):
    """Refuse a document with a reason → the family reads it in Échanges and by e-mail → replaces it
    through the link → the office validates it and accepts → the enrolment exists, "Clos" is shown."""
    parent = family_a.guardians.first().user
    request = submitted_for(
        family_a, periscolaire, documents=["attestation-caf", "justificatif-domicile", "assurance"]
    )
    domicile = document(request, "justificatif-domicile")

    client.force_login(assistant)
    page = text(client.get(admin_url("enrolmentrequest_change", request.pk)))
    assert "Justificatif de domicile" in page and ">Accepter la demande</button>" not in page
    download = client.get(admin_url("requestdocument_download", request.pk, domicile.pk))
    assert download.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            admin_url("requestdocument_decision", request.pk, domicile.pk),
            {"decision": "refuser", "reason": "Facture de plus de 3 mois."},
        )
    assert response.status_code == 302
    domicile.refresh_from_db()
    assert (domicile.state, domicile.reason) == (DocState.REFUSED, "Facture de plus de 3 mois.")

    thread = Thread.objects.for_family(family_a).get()
    assert thread.teleservice == periscolaire.label and thread.family_unread
    assert "Facture de plus de 3 mois." in thread.messages.get().body
    [link_mail] = [
        message for message in mail.outbox if message.subject.startswith("[Portail famille] Justif")
    ]
    assert link_mail.to == [parent.email]
    assert "Facture de plus de 3 mois." in link_mail.body
    link = re.search(
        r"https://portail\.example\.org(/demandes/remplacer/\S+/)", link_mail.body
    ).group(1)

    client.force_login(parent)
    assert "Facture de plus de 3 mois." in text(
        client.get(reverse("exchanges:thread_detail", args=[thread.pk]))
    )
    page = text(client.get(link))
    assert "Justificatif de domicile" in page and "Facture de plus de 3 mois." in page
    response = client.post(link, {"file": upload("nouvelle-facture.pdf", validated=False)})
    assert response.status_code == 302 and response.url == request.get_absolute_url()
    domicile.refresh_from_db()
    request.refresh_from_db()
    assert (domicile.state, domicile.original_name) == (DocState.PENDING, "nouvelle-facture.pdf")
    assert request.needs_review

    client.force_login(assistant)
    for item in request.documents.all():
        client.post(
            admin_url("requestdocument_decision", request.pk, item.pk), {"decision": "valider"}
        )
    assert ">Accepter la demande</button>" in text(
        client.get(admin_url("enrolmentrequest_change", request.pk))
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(admin_url("enrolmentrequest_accept", request.pk), follow=True)
    assert "mettez à jour le quotient familial" in text(response)
    assert reverse("admin:families_family_change", args=[family_a.pk]) in text(response)

    enrolment = Enrolment.objects.get()
    assert (enrolment.child, enrolment.service, enrolment.school_year, enrolment.effective_on) == (
        request.child,
        periscolaire.service,
        periscolaire.school_year,
        today,
    )
    assert f"Votre demande n° {request.number} est acceptée" in mail.outbox[-1].body
    client.force_login(parent)
    page = text(client.get(reverse("enrolment:request_list")))
    assert re.search(rf"{request.number}.*?Clos", page, re.S)
    assert "Périscolaire — 2026-2027" in text(client.get(reverse("families:family_detail")))
    timeline = [event.message for event in request.events.all()]
    assert any("refusé : Facture de plus de 3 mois." in line for line in timeline)
    assert any(line.startswith("Nouveau fichier envoyé") for line in timeline)
    assert timeline[-1].startswith("Demande acceptée")


def test_office_attaches_a_document_for_the_family(
    client, family_a, periscolaire, assistant, today
):
    """Staff attach a document sent by e-mail: it replaces the refused one, pending, logged in the timeline."""
    request = submitted_for(family_a, periscolaire)
    services.document_refuse(
        document=document(request, "attestation-caf"), user=assistant, reason="Illisible"
    )
    client.force_login(assistant)
    caf = document(request, "attestation-caf")
    response = client.post(
        admin_url("enrolmentrequest_attach", request.pk),
        {"document_type": caf.document_type_id, "file": upload("recu.pdf", validated=False)},
    )
    assert response.status_code == 302
    caf.refresh_from_db()
    assert (caf.state, caf.original_name, caf.uploaded_by, caf.replace_nonce) == (
        DocState.PENDING,
        "recu.pdf",
        assistant,
        "",
    )
    assert "par le pôle administratif" in request.events.last().message


def test_office_refuses_the_request_with_a_reason(
    client, family_a, periscolaire, assistant, today, django_capture_on_commit_callbacks
):
    """« Refuser la demande » without a reason does nothing; with one, the family is told."""
    request = submitted_for(family_a, periscolaire)
    client.force_login(assistant)
    client.post(admin_url("enrolmentrequest_refuse", request.pk), {"reason": ""})
    request.refresh_from_db()
    assert request.state == State.SUBMITTED
    with django_capture_on_commit_callbacks(execute=True):
        client.post(admin_url("enrolmentrequest_refuse", request.pk), {"reason": "Hors commune."})
    request.refresh_from_db()
    assert (request.state, request.refusal_reason) == (State.REFUSED, "Hors commune.")
    message = Thread.objects.for_family(family_a).get().messages.get()
    assert "Hors commune." in message.body
    assert "Hors commune." in mail.outbox[-1].body


def test_review_needs_the_change_permission(client, family_a, periscolaire, today):
    """Staff who may only view requests (Régisseur) cannot validate a document."""
    from django.contrib.auth.models import Group

    from tests.factories import UserFactory

    regisseur = UserFactory(is_staff=True)
    regisseur.groups.add(Group.objects.get(name="Régisseur"))
    request = submitted_for(family_a, periscolaire)
    item = document(request, "attestation-caf")
    client.force_login(regisseur)
    assert client.get(admin_url("enrolmentrequest_change", request.pk)).status_code == 200
    response = client.post(
        admin_url("requestdocument_decision", request.pk, item.pk), {"decision": "valider"}
    )
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.state == DocState.PENDING


def test_admin_list_filters_documents_to_review_and_searches_children(
    client, family_a, family_b, periscolaire, assistant, today
):
    """The office filters requests with documents to review and finds one by the child's name."""
    waiting = submitted_for(family_a, periscolaire)
    draft = draft_for(family_b, periscolaire)
    client.force_login(assistant)
    page = text(client.get(admin_url("enrolmentrequest_changelist") + "?a_revoir=oui"))
    assert waiting.number in page and draft.number not in page
    page = text(client.get(admin_url("enrolmentrequest_changelist") + "?q=Bob"))
    assert draft.number in page and waiting.number not in page


def test_kind_hooks_can_stop_a_submission_and_act_on_acceptance(family_a, assistant, today):
    """A higher app's hooks run: validate_submission may refuse, on_accept acts with the acceptance."""
    from django.core.exceptions import ValidationError

    teleservice = make_teleservice(Teleservice.Kind.PRELEVEMENT)
    accepted = []

    def owes_money(request):
        raise ValidationError("Des factures restent impayées.")

    def create_mandate(request, *, user, today):
        accepted.append(request.pk)

    # Billing registers its own hooks for this kind (they need a régie and real bank details):
    # set aside while this test exercises the mechanism alone.
    kind_hooks = kinds.get_kind("prelevement").hooks
    registered = {name: functions[:] for name, functions in kind_hooks.items()}
    for functions in kind_hooks.values():
        functions.clear()
    kinds.register_hook("prelevement", "validate_submission", owes_money)
    kinds.register_hook("prelevement", "on_accept", create_mandate)
    try:
        answers = {
            "account_holder": "Camille",
            "iban": "FR76",
            "bic": "AGRIFRPP",
            "mandate_accepted": True,
        }
        request = draft_for(family_a, teleservice, documents=["rib"], answers=answers)
        with pytest.raises(ValidationError, match="impayées"):
            services.enrolment_request_submit(enrolment_request=request, user=None, today=today)
        kinds.unregister_hook("prelevement", "validate_submission", owes_money)
        services.enrolment_request_submit(enrolment_request=request, user=None, today=today)
        services.document_validate(document=request.documents.get(), user=assistant)
        assert (
            services.enrolment_request_accept(
                enrolment_request=request, user=assistant, today=today
            )
            is None
        )
        assert accepted == [request.pk]
    finally:
        for name, functions in registered.items():
            kind_hooks[name][:] = functions
