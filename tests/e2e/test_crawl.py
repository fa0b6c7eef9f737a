"""The crawl: every parent-facing page and state, at 360 and 1280 px, through axe-core and the
overflow, console, CSP and sub-resource checks, with a full-page screenshot of each."""

import datetime
import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
    yield_hotp_counters_from_time,
)
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.views.defaults import server_error
from playwright.sync_api import sync_playwright

from billing.card.models import CheckoutSession
from billing.directdebit.models import Mandate
from billing.models import Invoice, Regie
from enrolment import services as enrolment_services
from enrolment.models import EnrolmentRequest, RequestDocument, Teleservice
from exchanges import services as exchange_services
from exchanges.forms import ReplyForm
from exchanges.models import Message, Thread
from families import households, invitations
from families.models import Child, Family
from portail.demo import seed_demo
from reservations import services as reservation_services
from reservations.deadlines import first_modifiable_day
from reservations.forms import CertificateForm
from reservations.models import Absence, Booking, CapacityOverride, Slot, WaitlistEntry
from tests.conftest import TODAY
from tests.e2e.checks import find_overflow, nu_html_errors
from tests.e2e.conftest import ARTIFACTS, launch
from tests.e2e.crawl import (
    Click,
    Crawler,
    Download,
    ErrorState,
    LogIn,
    Partial,
    Submit,
    Visit,
    coverage_gaps,
)
from tests.factories import PASSWORD, ChildFactory, GuardianFactory, UserFactory
from tests.reservations.conftest import enrol
from tests.urlwalk import Route, parent_routes

pytestmark = pytest.mark.e2e

WIDTHS = (360, 1280)
HEIGHT = 800

# Routes the crawl does not open, and why.
EXCLUDED = {
    "health": "JSON for the monitoring (/sante/), not a page; covered by tests/portail",
    "billing:invoice_pay": (
        "POST that sends the browser to Stripe's checkout (a GET only redirects to the invoice); "
        "the green button is on the crawled invoice pages, and tests/e2e/test_journey_payment.py "
        "clicks it through the fake Stripe"
    ),
    "billing:stripe_webhook": (
        "Stripe's server-to-server POST (signed JSON), not a page; tests/billing/test_webhook*.py"
    ),
    "reservations:calendar_feed": (
        "iCalendar text for calendar apps at a secret address, not a page; "
        "tests/reservations/test_calendar_feed.py"
    ),
}

# Routes that render no page with the current settings. The crawl opens each one and checks that
# it still answers 404 or sends the browser elsewhere: the day one of them becomes a page, the
# crawl fails until the page is added to it.
UNREACHABLE = {
    "account_confirm_login_code": "exists only within a login by code, which is off",
}

SERVER_ERROR_PATH = "/erreur-serveur-simulee/"

# Children of the other demo family at Léa's school, not booked: one to add to the register
# without booking at each width.
WALK_IN_CHILDREN = {360: "Anis", 1280: "Basile"}

# A one-page PDF, enough for the upload checks (they read the bytes, not the name).
TINY_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def visitor_steps(data):
    """Pages seen before logging in (the reset and confirmation links work logged out)."""
    return [
        Visit("accueil-visiteur", "/", "home"),
        Visit("connexion", "/comptes/login/", "account_login", ErrorState()),
        Visit("inscription", "/comptes/signup/", "account_signup", ErrorState()),
        Visit(
            "mot-de-passe-oublie",
            "/comptes/password/reset/",
            "account_reset_password",
            ErrorState(),
        ),
        Visit(
            "mot-de-passe-oublie-envoye",
            "/comptes/password/reset/done/",
            "account_reset_password_done",
        ),
        Visit(
            "nouveau-mot-de-passe",
            data["reset_path"],
            "account_reset_password_from_key",
            ErrorState(),
        ),
        Visit(
            "nouveau-mot-de-passe-lien-invalide",
            "/comptes/password/reset/key/1-lien-perime/",
            "account_reset_password_from_key",
        ),
        Visit(
            "nouveau-mot-de-passe-enregistre",
            "/comptes/password/reset/key/done/",
            "account_reset_password_from_key_done",
        ),
        Visit("confirmer-adresse", data["confirm_path"], "account_confirm_email"),
        Visit(
            "confirmer-adresse-lien-invalide",
            "/comptes/confirm-email/lien-perime/",
            "account_confirm_email",
        ),
        Visit("verification-envoyee", "/comptes/confirm-email/", "account_email_verification_sent"),
        Visit("compte-inactif", "/comptes/inactive/", "account_inactive"),
        Visit("page-introuvable", "/page-introuvable/", None, status=404),
        Visit("accessibilite", "/accessibilite/", "accessibility"),
        Visit("mentions-legales", "/mentions-legales/", "legal_notice"),
        Visit("donnees-personnelles", "/donnees-personnelles/", "privacy"),
    ]


def parent_steps(data):
    """Pages of the demo parent (family LAGRANGE), logged in through the login form."""
    return [
        LogIn("parent@example.org", "parent-portail"),
        Visit("accueil", "/", "home"),
        Visit("foyer", "/foyer/", "families:family_detail"),
        Visit("foyer-modifier", "/foyer/modifier/", "families:family_update", ErrorState()),
        Visit("enfant-ajouter", "/foyer/enfants/ajouter/", "families:child_create", ErrorState()),
        Visit(
            "enfant-lea", f"/foyer/enfants/{data['lea_id']}/", "families:child_update", ErrorState()
        ),
        Visit(
            "invitation-nouvelle",
            "/foyer/invitations/nouvelle/",
            "families:invitation_create",
            ErrorState(),
        ),
        Visit(
            "invitation-annuler",
            f"/foyer/invitations/{data['invitation_id']}/annuler/",
            "families:invitation_revoke",
        ),
        Visit(
            "residence-alternee-inviter",
            f"/foyer/enfants/{data['lea_id']}/second-foyer/",
            "families:household_invite",
            ErrorState(),
        ),
        Visit(
            "residence-alternee-annuler",
            f"/foyer/second-foyer/invitations/{data['household_invitation_id']}/annuler/",
            "families:household_invitation_revoke",
        ),
        Visit("foyer-quitter", "/foyer/quitter/", "families:family_leave"),
        Visit("mes-donnees", "/foyer/mes-donnees/", "my_data"),
        Download("my_data_json", "/foyer/mes-donnees/json/", "application/json"),
        Download("my_data_pdf", "/foyer/mes-donnees/pdf/", "application/pdf"),
        Visit("echanges", "/echanges/", "exchanges:thread_list"),
        Visit(
            "echange-nouveau",
            "/echanges/nouveau/",
            "exchanges:thread_create",
            ErrorState(expect="Indiquez l'objet de votre message."),
        ),
        Visit(
            "echange",
            f"/echanges/{data['thread_id']}/",
            "exchanges:thread_detail",
            ErrorState(expect="Écrivez votre message avant de l'envoyer."),
        ),
        Download(
            "exchanges:attachment_download",
            f"/echanges/pieces-jointes/{data['attachment_id']}/",
            "application/pdf",
        ),
        *enrolment_steps(data),
        *agenda_steps(data),
        *billing_steps(data),
        Visit(
            "compte-adresse",
            "/comptes/email/",
            "account_email",
            ErrorState(
                form="main form:has(button[name=action_add])", submit="button[name=action_add]"
            ),
        ),
        Visit(
            "compte-mot-de-passe",
            "/comptes/password/change/",
            "account_change_password",
            ErrorState(),
        ),
        # Managing two-factor authentication asks for the password again first.
        Visit(
            "reauthentification", "/comptes/reauthenticate/", "account_reauthenticate", ErrorState()
        ),
        Submit(fields=(("input[name=password]", "parent-portail"),)),
        Visit("double-authentification", "/comptes/2fa/", "mfa_index"),
        Visit(
            "double-authentification-activer",
            "/comptes/2fa/totp/activate/",
            "mfa_activate_totp",
            ErrorState(),
        ),
        Visit("deconnexion", "/comptes/logout/", "account_logout"),
    ]


def enrolment_steps(data):
    """Mes demandes: the list, the téléservices, a draft, a request with a refused document
    (and its replacement by the e-mailed link), a document."""
    return [
        Visit("demandes", "/demandes/", "enrolment:request_list"),
        Visit("teleservices", "/demandes/teleservices/", "enrolment:teleservice_list"),
        Visit("demande-nouvelle", data["request_create_path"], "enrolment:request_create"),
        Visit(
            "demande-brouillon",
            f"/demandes/{data['draft_request_id']}/modifier/",
            "enrolment:request_update",
            ErrorState(form="main form[method=post]", expect="Le formulaire contient des erreurs"),
        ),
        Visit(
            "demande-envoyee",
            f"/demandes/{data['submitted_request_id']}/",
            "enrolment:request_detail",
            ErrorState(
                form="main form[action*='/remplacer/']",
                expect="Ajoutez le document.",
                route="enrolment:document_replace",
            ),
        ),
        Download("enrolment:document_download", data["document_path"], "application/pdf"),
        Visit(
            "justificatif-remplacer",
            data["replace_link_path"],
            "enrolment:document_replace_link",
            ErrorState(form="main form[method=post]", expect="Ajoutez le document."),
        ),
    ]


def agenda_steps(data):
    """Agenda: the month (with the day panel and a booking opened as htmx does), the day and the
    booking as plain pages, deleting a booking, bulk entry, absences."""
    lea = data["lea_id"]
    return [
        Visit("agenda", "/agenda/", "reservations:agenda"),
        Visit(
            "agenda-mois",
            f"/agenda/{lea}/{data['month_path']}/",
            "reservations:month",
            partials=(
                Partial("reservations:day", data["day_path"], "#panneau-jour"),
                Partial("reservations:booking_detail", data["booking_path"], "#panneau-jour"),
            ),
        ),
        Visit("agenda-jour", data["day_path"], "reservations:day"),
        Visit("reservation", data["booking_path"], "reservations:booking_detail"),
        Visit(
            "reservation-supprimer",
            f"{data['booking_path']}supprimer/",
            "reservations:booking_delete",
        ),
        Visit(
            "saisie-groupee",
            "/agenda/saisie-groupee/",
            "reservations:bulk_entry",
            ErrorState(expect="Choisissez au moins un enfant."),
        ),
        Visit(
            "absence-signaler",
            f"/agenda/{lea}/absence/",
            "reservations:absence_create",
            ErrorState(expect="Indiquez le premier jour d'absence."),
        ),
        Visit("absence", f"/agenda/absences/{data['absence_id']}/", "reservations:absence_detail"),
        Visit("agenda-jour-liste-attente", data["waitlist_day_path"], "reservations:day"),
        Visit("listes-attente", "/agenda/liste-attente/", "reservations:waitlist"),
        Visit(
            "liste-attente-quitter",
            f"/agenda/liste-attente/{data['waitlist_entry_id']}/quitter/",
            "reservations:waitlist_leave",
        ),
        Visit(
            "agenda-telephone", f"/agenda/{lea}/agenda-en-ligne/", "reservations:calendar_subscribe"
        ),
        Visit(
            "agenda-telephone-regenerer",
            f"/agenda/{lea}/agenda-en-ligne/regenerer/",
            "reservations:calendar_regenerate",
        ),
        Download(
            "reservations:absence_certificate",
            f"/agenda/absences/{data['absence_id']}/certificat/",
            "application/pdf",
        ),
    ]


def billing_steps(data):
    """Paiements: the régies and their balances, then for one régie its invoices, what is not
    invoiced yet, the statement (with its period form) and the tax certificates."""
    regie = data["regie"]
    steps = [
        Visit("paiements", "/paiements/", "billing:regie_list"),
        Visit("factures", f"/paiements/{regie}/factures/", "billing:invoice_list"),
        Visit(
            "reservations-a-facturer",
            f"/paiements/{regie}/reservations/",
            "billing:regie_bookings",
        ),
        Visit(
            "releve",
            f"/paiements/{regie}/releve/",
            "billing:statement",
            ErrorState(form="main form[method=get]"),
        ),
        Download("billing:statement_pdf", f"/paiements/{regie}/releve/pdf/", "application/pdf"),
        Visit(
            "attestations-fiscales",
            f"/paiements/{regie}/attestation-fiscale/",
            "billing:tax_certificate_list",
        ),
        Download(
            "billing:tax_certificate",
            f"/paiements/{regie}/attestation-fiscale/{TODAY.year - 1}/",
            "application/pdf",
        ),
        # No mandate: the invoices to settle first, and the request in progress.
        Visit("prelevement", "/paiements/periscolaire/prelevement/", "billing:direct_debit"),
    ]
    if data["invoice_id"]:  # until the demo data has invoices, the coverage check says so
        steps += [
            Visit(
                "facture", f"/paiements/factures/{data['invoice_id']}/", "billing:invoice_detail"
            ),
            Download(
                "billing:invoice_pdf",
                f"/paiements/factures/{data['invoice_id']}/pdf/",
                "application/pdf",
            ),
            Download(
                "billing:credit_note_pdf",
                f"/paiements/factures/{data['cancelled_invoice_id']}/avoir/pdf/",
                "application/pdf",
            ),
            # The périscolaire invoices: paid, impayée, cancelled and mise en recouvrement,
            # and the page of the one in recovery (no pay button, the Trésor Public's notice).
            Visit(
                "factures-periscolaire",
                "/paiements/periscolaire/factures/",
                "billing:invoice_list",
            ),
            Visit(
                "facture-en-recouvrement",
                f"/paiements/factures/{data['recovery_invoice_id']}/",
                "billing:invoice_detail",
            ),
            # Back from Stripe: waiting for the webhook (the page polls), then a paid invoice.
            Visit("paiement-en-cours", data["payment_pending_path"], "billing:payment_return"),
            Visit("paiement-confirme", data["payment_paid_path"], "billing:payment_return"),
        ]
    return steps


def staff_steps(data, width):
    """The animateur's register, once signed in with the password and the authenticator app's
    code (staff need one outside DEBUG): the list of the créneau, marking a child present (htmx),
    adding a child present without booking (one per width), the printable sheet."""
    secret = data["animateurs"][width]
    return [
        LogIn(f"animateur-{width}@example.org", PASSWORD),
        Submit(fields=(("input[name=code]", lambda: current_totp(secret)),)),
        Visit("pointage", data["register_path"], "pointage:attendance"),
        Click(
            "pointage-present",
            "main form[action$='/pointage/presence/'] button",
            "pointage:attendance_mark",
            "pointage:attendance",
        ),
        Click(
            "pointage-sans-reservation",
            "main form[action$='/pointage/sans-reservation/'] button[type=submit]",
            "pointage:attendance_walk_in",
            "pointage:attendance",
            choose=(
                (
                    "main form[action$='/pointage/sans-reservation/'] select",
                    f"BERNARD {WALK_IN_CHILDREN[width]} (CP)",
                ),
            ),
        ),
        Download(
            "pointage:attendance_pdf",
            data["register_path"].replace("/pointage/", "/pointage/pdf/"),
            "application/pdf",
        ),
    ]


def direct_debit_steps(data):
    """The neighbours (BERNARD) pay by direct debit: their mandate with its programmed invoice,
    and the confirmation page of its revocation (not confirmed)."""
    return [
        LogIn("voisin@example.org", "voisin-portail"),
        Visit("prelevement-mandat", "/paiements/periscolaire/prelevement/", "billing:direct_debit"),
        # Their invoices: the programmed debit beside the one already collected.
        Visit("factures-prelevement", "/paiements/periscolaire/factures/", "billing:invoice_list"),
        Visit(
            "facture-prelevement-programme",
            f"/paiements/factures/{data['programmed_invoice_id']}/",
            "billing:invoice_detail",
        ),
        Visit(
            "prelevement-revoquer",
            f"/paiements/mandats/{data['mandate_id']}/revoquer/",
            "billing:mandate_revoke",
        ),
    ]


def direct_debit_request_steps(data):
    """A family with nothing to settle files a direct-debit request: the form, sent empty (the
    answers and documents it needs), then with an IBAN whose check digits are wrong."""
    form = "main form[method=post]"
    return [
        LogIn("prelevement@example.org", PASSWORD),
        Visit(
            "prelevement-demande",
            data["direct_debit_request_path"],
            "enrolment:request_create",
            ErrorState(
                form=form,
                submit="button[value=submit]",
                expect="Répondez à cette question pour valider la demande.",
            ),
        ),
        Submit(
            form,
            fields=(
                ("input[name=q-account_holder]", "Jeanne DUMAS"),
                ("input[name=q-iban]", "FR77 3000 6000 0112 3456 7890 189"),
                ("input[name=q-bic]", "AGRIFRPP"),
            ),
            submit="button[value=submit]",
        ),
        Visit("prelevement-demande-iban-invalide", "", "enrolment:request_create"),
    ]


def newcomer_steps(data):
    """A verified parent who has no family yet, and has been invited to join LAGRANGE."""
    return [
        LogIn("nouveau@example.org", PASSWORD),
        Visit("accueil-sans-foyer", "/", "home"),
        Visit("foyer-creer", "/foyer/creer/", "families:family_create", ErrorState()),
        Visit(
            "invitation-accepter",
            data["invitation_path"],
            "families:invitation_accept",
            ErrorState(),
        ),
        Visit(
            "invitation-inconnue",
            "/foyer/invitations/accepter/lien-perime/",
            "families:invitation_accept",
            status=404,
        ),
    ]


def shared_custody_steps(data):
    """Tom's father (family FAURE), his second household in résidence alternée, invited by
    LAGRANGE to be Lalo's too."""
    return [
        LogIn("alternance-pere@example.org", "alternance-portail"),
        Visit("alternance-foyer", "/foyer/", "families:family_detail"),
        Visit("alternance-agenda", data["tom_month_path"], "reservations:month"),
        Visit(
            "alternance-accepter", data["household_invitation_path"], "families:household_accept"
        ),
        Visit(
            "alternance-invitation-inconnue",
            "/foyer/second-foyer/accepter/lien-perime/",
            "families:household_accept",
            status=404,
        ),
    ]


def passwordless_steps(width):
    """A parent without a password (e.g. created by the office) sets one: allauth first asks
    for a code sent by e-mail, since there is no password to confirm who they are."""
    email = f"sans-mot-de-passe-{width}@example.org"
    return [
        Visit(
            "mot-de-passe-code-demande",
            "/comptes/password/set/",
            "account_request_reauthentication_code",
        ),
        Submit(),
        Visit(
            "mot-de-passe-code",
            "",
            "account_confirm_reauthentication_code",
            ErrorState(form="main form:has(input[name=code])"),
        ),
        Submit(
            "main form:has(input[name=code])",
            fields=(("input[name=code]", lambda: last_code(email)),),
        ),
        Visit("mot-de-passe-definir", "", "account_set_password", ErrorState()),
    ]


def two_factor_steps(data, width):
    """A parent who protects the account with an authenticator app: the second login step,
    a reauthentication with a recovery code, then the pages that manage both."""
    secret, recovery_codes = data["two_factor"][width]
    return [
        LogIn(f"double-{width}@example.org", PASSWORD),
        Visit("connexion-code", "", "mfa_authenticate", ErrorState()),
        Submit(fields=(("input[name=code]", lambda: current_totp(secret)),)),
        Visit(
            "reauthentification-code",
            "/comptes/2fa/reauthenticate/",
            "mfa_reauthenticate",
            ErrorState(),
        ),
        Submit(fields=(("input[name=code]", recovery_codes[0]),)),
        Visit("double-authentification-active", "/comptes/2fa/", "mfa_index"),
        Visit(
            "double-authentification-desactiver",
            "/comptes/2fa/totp/deactivate/",
            "mfa_deactivate_totp",
        ),
        Visit("codes-de-secours", "/comptes/2fa/recovery-codes/", "mfa_view_recovery_codes"),
        Visit(
            "codes-de-secours-nouveaux",
            "/comptes/2fa/recovery-codes/generate/",
            "mfa_generate_recovery_codes",
        ),
        Download(
            "mfa_download_recovery_codes", "/comptes/2fa/recovery-codes/download/", "text/plain"
        ),
    ]


def last_code(email):
    """The code of the last e-mail to `email`: allauth puts it alone on its line. (The live
    server runs in this process: its e-mails land in Django's test outbox.)"""
    body = [message for message in mail.outbox if email in message.to][-1].body
    codes = re.findall(r"^\s*([A-Z0-9]{3,}(?:-[A-Z0-9]+)*)\s*$", body, re.MULTILINE)
    assert codes, body
    return codes[-1]


def current_totp(secret):
    """The authenticator app's code of the moment."""
    counters = list(yield_hotp_counters_from_time())  # the current one sits in the middle
    return format_hotp_value(hotp_value(secret, counters[len(counters) // 2]))


def _waiting_list(lea, parent):
    """On the first day Léa is booked on a créneau while others run, those she is not booked
    on full at her school: she waits in line for one, and the day panel offers the waiting list
    for the next."""
    bookings = Booking.objects.active().filter(child=lea, date__gte=first_modifiable_day(TODAY))
    for booking in bookings.order_by("date"):
        others = [
            slot
            for slot in Slot.objects.active().order_by("position")
            if slot.runs_on_weekday(booking.date)
            and not bookings.filter(date=booking.date, slot=slot).exists()
        ]
        if others:
            break
    for slot in others:
        CapacityOverride.objects.update_or_create(
            slot=slot, school=lea.school, date=booking.date, defaults={"places": 0}
        )
    return WaitlistEntry.objects.create(
        child=lea,
        family=lea.family,
        slot=others[0],
        date=booking.date,
        school=lea.school,
        position=1,
        created_by=parent,
    )


def crawl_data(mailbox):
    """Everything the crawl needs in the database, created before the browser starts."""
    seed_demo(TODAY)
    User = get_user_model()
    parent = User.objects.get(email="parent@example.org")
    family = Family.objects.get(guardians__user=parent)
    lea = Child.objects.get(family=family, first_name="Léa")
    UserFactory(email="nouveau@example.org", first_name="Zoé", last_name="MARTIN")

    # LAGRANGE invites the newcomer: the link (and its token) travels only in the e-mail.
    invitation = invitations.invitation_create(
        family=family, invited_by=parent, email="nouveau@example.org", now=timezone.now()
    )
    link = re.search(r"/foyer/invitations/accepter/[^/\s]+/", mailbox[-1].body)
    # LAGRANGE invites Tom's father to be Lalo's second household (résidence alternée).
    household_invitation = households.invitation_create(
        child=Child.objects.get(family=family, first_name="Lalo"),
        invited_by=parent,
        email="alternance-pere@example.org",
        now=timezone.now(),
    )
    household_link = re.search(r"/foyer/second-foyer/accepter/[^/\s]+/", mailbox[-1].body)
    tom = Child.objects.get(first_name="Tom", family__name="ROCHE")

    # A parent's reply with a PDF, sent as the reply form would.
    thread = Thread.objects.for_family(family).order_by("-last_message_at").first()
    form = ReplyForm(
        {"body": "Voici l'attestation CAF."},
        MultiValueDict(
            {
                "attachments": [
                    SimpleUploadedFile("attestation-caf.pdf", TINY_PDF, "application/pdf")
                ]
            }
        ),
    )
    assert form.is_valid(), form.errors
    message = exchange_services.message_post(
        thread=thread,
        side=Message.Side.FAMILY,
        author=parent,
        body=form.cleaned_data["body"],
        attachments=form.cleaned_data["attachments"],
    )

    # Requests: a draft, a submitted one with a document to replace (its e-mailed link), a file.
    requests = EnrolmentRequest.objects.for_family(family)
    draft = requests.filter(state=EnrolmentRequest.State.DRAFT).first()
    refused = (
        RequestDocument.objects.for_family(family)
        .filter(state=RequestDocument.State.REFUSED)
        .first()
    )
    stored = RequestDocument.objects.for_family(family).exclude(file="").first()
    teleservice = Teleservice.objects.open_on(TODAY).first() or Teleservice.objects.first()

    # Agenda: the first day that can still be changed, one of Léa's bookings from then on, her
    # absence (with a medical certificate) and the register of a créneau she is booked on.
    first_day = first_modifiable_day(TODAY)
    booking = (
        Booking.objects.active().filter(child=lea, date__gte=first_day).order_by("date").first()
    )
    absence = Absence.objects.for_family(family).first()
    certificate = CertificateForm(
        {}, MultiValueDict({"certificat": [SimpleUploadedFile("certificat.pdf", TINY_PDF)]})
    )
    assert certificate.is_valid(), certificate.errors
    reservation_services.absence_add_certificate(
        absence=absence, certificate=certificate.cleaned_data["certificat"]
    )
    registered = Booking.objects.active().filter(child=lea, date__lte=TODAY).latest("date")
    waiting = _waiting_list(lea, parent)

    # Card payment: a Checkout Session opened on an impayée invoice, its webhook not yet in.
    payable = Invoice.objects.for_family(family).filter(status=Invoice.Status.UNPAID).first()
    pending = CheckoutSession.objects.create(
        invoice=payable,
        session_id="cs_test_crawl",
        amount_cents=payable.due_cents(),
        url="https://checkout.stripe.com/c/pay/cs_test_crawl",
        expires_at=timezone.now() + datetime.timedelta(hours=24),
    )
    paid = Invoice.objects.for_family(family).filter(status=Invoice.Status.PAID).first()
    neighbours = Family.objects.get(guardians__user__email="voisin@example.org")
    # Direct debit: the neighbours' mandate; a family with nothing to settle, to file a request.
    mandate = Mandate.objects.get(family=neighbours, status=Mandate.Status.ACTIVE)
    GuardianFactory(user__email="prelevement@example.org", family__name="DUMAS")
    direct_debit_teleservice = Teleservice.objects.open_on(TODAY).get(
        kind=Teleservice.Kind.PRELEVEMENT
    )
    for first_name in WALK_IN_CHILDREN.values():
        # Only a child enrolled in the service can be added to the register without booking.
        enrol(
            ChildFactory(
                family=neighbours, first_name=first_name, school=lea.school, school_class="CP"
            )
        )

    # A real reset link, for a user who never logs in (a login would invalidate the token).
    forgetful = UserFactory(email="oubli@example.org")
    reset_path = reverse(
        "account_reset_password_from_key",
        kwargs={
            "uidb36": user_pk_to_url_str(forgetful),
            "key": default_token_generator.make_token(forgetful),
        },
    )
    # A real confirmation link, for an address not yet verified.
    unconfirmed = UserFactory(email="a-confirmer@example.org", verified=False)
    address = EmailAddress.objects.create(
        user=unconfirmed, email=unconfirmed.email, primary=True, verified=False
    )
    confirm_path = reverse("account_confirm_email", args=[EmailConfirmationHMAC(address).key])

    # Per width, so that the two browsers never share a session, a code or an e-mail:
    # a parent without a password, who gets the session of a server-side login (there is no
    # login form to fill), and a parent protected by an authenticator app and recovery codes.
    passwordless_sessions, two_factor, animateurs = {}, {}, {}
    for width in WIDTHS:
        # One animateur a width: both sign in at once, and a TOTP code serves only once.
        animateur = UserFactory(
            email=f"animateur-{width}@example.org", is_staff=True, first_name="Inès"
        )
        animateur.groups.add(Group.objects.get(name="Animateur"))
        animateurs[width] = animateur.totp_secret

        passwordless = UserFactory(email=f"sans-mot-de-passe-{width}@example.org")
        passwordless.set_unusable_password()
        passwordless.save()
        client = Client()
        client.force_login(
            passwordless, backend="allauth.account.auth_backends.AuthenticationBackend"
        )
        passwordless_sessions[width] = client.cookies[settings.SESSION_COOKIE_NAME].value

        protected = UserFactory(email=f"double-{width}@example.org", first_name="Inès")
        secret = generate_totp_secret()
        TOTP.activate(protected, secret)
        two_factor[width] = (secret, RecoveryCodes.activate(protected).get_unused_codes())

    return {
        "lea_id": lea.pk,
        "server_error": server_error(RequestFactory().get(SERVER_ERROR_PATH)).content,
        "request_create_path": reverse("enrolment:request_create", args=[teleservice.slug]),
        "draft_request_id": draft.pk,
        "submitted_request_id": refused.request_id,
        "document_path": reverse(
            "enrolment:document_download", args=[stored.request_id, stored.pk]
        ),
        "replace_link_path": reverse(
            "enrolment:document_replace_link", args=[enrolment_services.replace_token(refused)]
        ),
        "regie": Regie.objects.order_by("pk").values_list("slug", flat=True).first(),
        "invoice_id": Invoice.objects.for_family(family).values_list("pk", flat=True).first(),
        "payment_pending_path": reverse("billing:payment_return", args=[payable.pk])
        + f"?session_id={pending.session_id}",
        "payment_paid_path": reverse("billing:payment_return", args=[paid.pk]),
        "mandate_id": mandate.pk,
        "cancelled_invoice_id": Invoice.objects.for_family(family)
        .filter(status=Invoice.Status.CANCELLED, credit_note__isnull=False)
        .values_list("pk", flat=True)
        .first(),
        "recovery_invoice_id": Invoice.objects.for_family(family)
        .in_recovery()
        .values_list("pk", flat=True)
        .get(),
        "programmed_invoice_id": Invoice.objects.for_family(neighbours)
        .filter(status=Invoice.Status.DIRECT_DEBIT)
        .values_list("pk", flat=True)
        .first(),
        "direct_debit_request_path": reverse(
            "enrolment:request_create", args=[direct_debit_teleservice.slug]
        ),
        "month_path": f"{TODAY:%Y/%m}",
        "day_path": reverse("reservations:day", args=[lea.pk, booking.date]),
        "booking_path": reverse("reservations:booking_detail", args=[booking.pk]),
        "absence_id": absence.pk,
        "waitlist_entry_id": waiting.pk,
        "waitlist_day_path": reverse("reservations:day", args=[lea.pk, waiting.date]),
        "register_path": reverse("pointage:attendance")
        + f"?ecole={registered.school_id}&creneau={registered.slot_id}&date={registered.date}",
        "invitation_id": invitation.pk,
        "invitation_path": link.group(0),
        "household_invitation_id": household_invitation.pk,
        "household_invitation_path": household_link.group(0),
        "tom_month_path": reverse("reservations:month", args=[tom.pk, TODAY.year, TODAY.month]),
        "thread_id": thread.pk,
        "attachment_id": message.attachments.get().pk,
        "reset_path": reset_path,
        "confirm_path": confirm_path,
        "passwordless_sessions": passwordless_sessions,
        "two_factor": two_factor,
        "animateurs": animateurs,
    }


def crawl_at(width, data, base_url, browser_path):
    """The whole crawl at one width, in its own browser; returns its crawlers (one per
    session: each starts logged out, with its own cookies)."""
    crawlers = []
    with sync_playwright() as playwright:
        browser = launch(playwright, browser_path)

        def session(name, steps, cookies=()):
            context = browser.new_context(
                viewport={"width": width, "height": HEIGHT}, locale="fr-FR"
            )
            context.add_cookies(list(cookies))
            crawler = Crawler(context, base_url, width)
            crawler.run(name, steps)
            crawlers.append(crawler)
            return crawler

        crawler = session("visiteur", visitor_steps(data) + parent_steps(data))
        # The server error page, as Django's server_error view renders it, served by the browser
        # itself at an address of the site (no route can be made to fail on purpose).
        crawler.page.route(
            f"{base_url}{SERVER_ERROR_PATH}",
            lambda route: route.fulfill(
                status=500, body=data["server_error"], content_type="text/html"
            ),
        )
        crawler.visit(Visit("erreur-serveur", SERVER_ERROR_PATH, None, status=500))
        crawler.check_unreachable(UNREACHABLE)
        session("nouveau", newcomer_steps(data))
        session("alternance", shared_custody_steps(data))
        session("prelevement", direct_debit_steps(data))
        session("prelevement-demande", direct_debit_request_steps(data))
        cookie = {
            "name": settings.SESSION_COOKIE_NAME,
            "value": data["passwordless_sessions"][width],
            "url": base_url,
        }
        session("sans-mot-de-passe", passwordless_steps(width), [cookie])
        session("double-authentification", two_factor_steps(data, width))
        session("animateur", staff_steps(data, width))
        browser.close()
    return crawlers


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_crawl_every_parent_page(
    live_server, browser_path, nu, mailoutbox, settings, tmp_path, pinned_now, fresh_rate_limits
):
    """Every parent-facing page and error state passes axe, fits 360 px, logs no console error,
    CSP violation or failed request, is valid HTML, and every route is crawled or excluded with
    a reason."""
    settings.MEDIA_ROOT = tmp_path / "private"
    # Card payment on, so that the green buttons are checked too; nothing here calls Stripe
    # (its address is a closed port).
    settings.STRIPE_SECRET_KEY = "sk_test_crawl"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_crawl"
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    data = crawl_data(mailoutbox)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for stale in ARTIFACTS.glob("echec-*.png"):  # a session that stopped in an earlier run
        stale.unlink()
    # One browser per width, side by side: the browsers do the heavy work (axe, screenshots),
    # and each thread runs its own Playwright. No database call happens past this point.
    with ThreadPoolExecutor(max_workers=len(WIDTHS)) as pool:
        futures = [
            pool.submit(crawl_at, width, data, live_server.url, browser_path) for width in WIDTHS
        ]
        crawlers = [crawler for future in futures for crawler in future.result()]

    failures = [failure for crawler in crawlers for failure in crawler.failures]
    # Every page's HTML through the Nu HTML Checker, in one run.
    documents = {name: html for crawler in crawlers for name, html in crawler.documents.items()}
    failures += [f"HTML: {error}" for error in nu_html_errors(documents, tmp_path / "html", nu)]
    visited = set().union(*(crawler.visited for crawler in crawlers))
    failures += coverage_gaps(parent_routes(), visited, EXCLUDED, UNREACHABLE)
    assert not failures, "\n".join(failures)


def test_coverage_gaps_report_an_unvisited_route():
    """A route that is neither visited nor excluded is reported, and so are stale exclusions."""
    routes = [
        Route("home", "", ()),
        Route("families:family_detail", "foyer/", ()),
        Route("health", "sante/", ()),
    ]
    assert coverage_gaps(routes, {"home", "families:family_detail"}, {"health": "JSON"}) == []

    assert coverage_gaps(routes, {"home"}, {"health": "JSON"}) == [
        "route 'families:family_detail' (foyer/) is neither crawled nor excluded with a reason"
    ]
    assert coverage_gaps(
        routes, {"home", "families:family_detail", "health"}, {"health": "JSON"}
    ) == ["route 'health' is crawled: remove it from the exclusions"]
    assert coverage_gaps(routes, {"home", "families:family_detail"}, {"health": " "}) == [
        "exclusion 'health' gives no reason"
    ]
    assert coverage_gaps(
        routes, {"home", "families:family_detail"}, {"health": "JSON"}, {"gone": "x"}
    ) == ["exclusion 'gone' names no route: remove it"]


def test_coverage_of_the_real_routes_reports_a_page_left_out():
    """Against the real URLconf, a crawl that forgets a page fails the coverage check."""
    routes = parent_routes()
    everything = {route.name for route in routes} - set(EXCLUDED) - set(UNREACHABLE)
    assert coverage_gaps(routes, everything, EXCLUDED, UNREACHABLE) == []
    gaps = coverage_gaps(routes, everything - {"families:child_update"}, EXCLUDED, UNREACHABLE)
    assert gaps == [
        "route 'families:child_update' (foyer/enfants/<int:pk>/) is neither crawled nor excluded"
        " with a reason"
    ]


def test_overflow_detector_reports_a_wide_element(browser_path):
    """A 600 px block in a 360 px viewport is reported; the same block in a scrolling
    container, or not rendered, is not."""
    html = """<!doctype html><html lang="fr"><head><title>Débordement</title></head><body>
      <div id="large">trop large</div>
      <div id="tableau"><div id="interieur">défile</div></div>
      <div id="cache"><div>caché</div></div>
    </body></html>"""
    css = """
      #large, #interieur, #cache div { width: 600px; height: 20px; }
      #tableau { overflow-x: auto; }
      #cache { display: none; }
    """
    with sync_playwright() as playwright:
        browser = launch(playwright, browser_path)
        page = browser.new_page(viewport={"width": 360, "height": 800})
        page.set_content(html)
        page.add_style_tag(content=css)
        problems = find_overflow(page)
        page.add_style_tag(content="#large { width: 300px; }")
        fixed = find_overflow(page)
        browser.close()
    assert len(problems) == 1, problems
    assert problems == ["div#large «trop large» spans 8–608 px"]  # the body's 8 px margin
    assert fixed == []


def test_nu_html_checker_reports_invalid_html(nu, tmp_path):
    """An attribute that HTML does not know is an error, reported under every page that has
    it, counted; a valid page has none."""
    valid = '<!DOCTYPE html><html lang="fr"><head><title>t</title></head><body>{}</body></html>'
    documents = {
        "valide": valid.format('<a href="/" data-hx-get="/">Lien</a>'),
        "invalide-360": valid.format('<a href="/" hx-get="/">Un</a> <a href="/" hx-get="/">2</a>'),
    }
    documents["invalide-1280"] = documents["invalide-360"]
    errors = nu_html_errors(documents, tmp_path, nu)
    assert len(errors) == 1, errors
    assert errors[0].startswith("invalide-360, invalide-1280: 2 × Attribute “hx-get” not allowed")
