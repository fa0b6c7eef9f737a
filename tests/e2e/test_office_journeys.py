"""The office's two journeys in the browser, at 1280 px, on the demo data.

The assistant's morning: signs in (password, then the authenticator's code), lands on the
dashboard, opens the requests whose documents are to be checked, reads the documents first with
their preview, refuses one with a reason (the family gets it in Échanges and a replacement link
by e-mail, through the outbox), goes back to the dashboard, opens the unread threads and answers
one with « Envoyer ».

The régisseur's month: signs in, lands on the dashboard, « Facturations mensuelles » › « Facturer
un mois », picks a régie and the last finished month, reads the preview, confirms; the run is
handed to the worker through the outbox and reads « Terminée ». Then the recovery page from the
dashboard: the demo's invoice in recovery is « à transmettre », becomes a numbered hand-over list
(bordereau) whose CSV and PDF download, and is no longer « à transmettre ».

Every main page passes axe-core, stays inside the viewport, logs no console error or CSP
violation, and is saved as a screenshot (office-journey-<step>-1280.png)."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from playwright.sync_api import expect, sync_playwright

from accounts.models import User
from billing.models import Invoice, InvoicingRun, Regie
from billing.recovery.models import RecoveryHandover
from common.models import OutboxItem
from enrolment import tasks as enrolment_tasks
from enrolment.models import RequestDocument
from exchanges.models import Message, Thread
from portail import dashboard
from portail.demo import seed_demo
from reservations.models import Slot
from tests.billing.conftest import book, make_family, school_days
from tests.e2e.checks import BrowserWatch, axe_violations, find_overflow
from tests.e2e.conftest import ARTIFACTS, launch, log_in
from tests.factories import activate_totp, totp_code

pytestmark = pytest.mark.e2e

TODAY = datetime.date(2026, 11, 26)
NOW = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)
OCTOBER = datetime.date(2026, 10, 1)
WIDTH = 1280
REASON = "L'attestation CAF date de 2024 : merci d'envoyer celle de cette année."
REPLY = "Bonjour, c'est noté : la nouvelle adresse figure sur votre dossier."
RECOVERY_INVOICE = "PERI2025000001"


def sign_in(page, base, email, password, secret):
    """Password, then the authenticator's code: the office lands on its dashboard."""
    log_in(page, base, email, password)
    page.locator("input[name=code]").fill(totp_code(secret))
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    assert page.url == base + "/admin/", page.url
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")


def check(page, watch, step, problems):
    """Screenshot, then what the page did until now (console, CSP, sub-resources), axe-core and
    the overflow. axe-core adds a <style> of its own that the admin's CSP blocks: what happens
    while it runs is left out. The admin's pages other than the dashboard name no icon, so the
    browser asks for /favicon.ico on its own: that 404 is left out too."""
    page.screenshot(path=ARTIFACTS / f"office-journey-{step}-{WIDTH}.png", full_page=True)
    seen = [*watch.drain(), *axe_violations(page), *find_overflow(page)]
    watch.drain()
    problems += [f"{step}: {item}" for item in seen if "/favicon.ico" not in item]


def new_page(browser):
    context = browser.new_context(
        viewport={"width": WIDTH, "height": 900}, locale="fr-FR", accept_downloads=True
    )
    context.set_default_timeout(10_000)
    return context, BrowserWatch().attach(context), context.new_page()


# The assistant's morning ------------------------------------------------------------------------


def morning_data():
    seed_demo(TODAY)
    assistant = User.objects.get(email="assistant@example.org")
    to_review = dashboard.requests_to_review().get()
    document = to_review.documents.select_related("document_type").get(
        document_type__slug="attestation-caf"
    )
    assert document.state == RequestDocument.State.PENDING
    unread = Thread.objects.unread_by_office()
    return {
        "secret": activate_totp(assistant),
        "request": to_review,
        "document": document,
        "thread": unread.get(subject="Changement d'adresse"),  # the BERNARD family's
        "unread": unread.count(),
        "preview": reverse(
            "admin:enrolment_requestdocument_preview", args=[to_review.pk, document.pk]
        ),
        "outbox_before": OutboxItem.objects.count(),
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_assistants_morning(live_server, browser_path, settings, tmp_path, fresh_rate_limits):
    settings.MEDIA_ROOT = tmp_path / "private"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems = []
    with time_machine.travel(NOW, tick=True):
        data = morning_data()
        enrolment_request, document = data["request"], data["document"]
        name = document.document_type.name
        base = live_server.url
        with sync_playwright() as playwright:
            browser = launch(playwright, browser_path)
            context, watch, page = new_page(browser)
            sign_in(page, base, "assistant@example.org", "assistant-portail", data["secret"])
            figure = page.get_by_role("link", name="demande dont les justificatifs sont à vérifier")
            expect(figure.locator(".dashboard-count")).to_have_text("1")
            check(page, watch, "assistant-tableau-de-bord", problems)

            # The requests to review, then the one request.
            figure.click()
            expect(page.get_by_role("heading", level=1)).to_be_visible()
            row = page.locator("#result_list tbody tr")
            expect(row).to_have_count(1)
            check(page, watch, "demandes-a-verifier", problems)
            with page.expect_response(lambda r: data["preview"] in r.url) as preview:
                row.get_by_role("link", name=enrolment_request.number).click()
            expect(page.locator("h1")).to_have_text("Examen de la demande")
            assert preview.value.status == 200, preview.value.url
            assert preview.value.headers["content-type"] == "application/pdf"

            # The documents come before the family's answers, each with its preview.
            order = page.locator("#revue, .review-answers").evaluate_all(
                "nodes => nodes.map(node => node.id || node.className)"
            )
            assert order[0] == "revue", order
            expect(page.locator("#justificatifs-heading")).to_have_text("Justificatifs (3)")
            article = page.locator("article.review-document").filter(
                has=page.get_by_role("heading", name=name)
            )
            expect(article.locator("iframe")).to_be_visible()
            page.wait_for_timeout(1500)  # Chromium's PDF viewer draws the page
            check(page, watch, "examen-demande", problems)

            # Refused, with the reason the family reads.
            article.get_by_label("Motif, pour refuser").fill(REASON)
            with page.expect_navigation():
                article.get_by_role("button", name="Refuser", exact=True).click()
            expect(page.locator(".messagelist")).to_contain_text(
                f"« {name} » est refusé : la famille reçoit le motif dans Échanges"
            )
            article = page.locator("article.review-document").filter(
                has=page.get_by_role("heading", name=name)
            )
            expect(article.locator(".review-state")).to_contain_text("Refusé")
            expect(article.locator(".review-reason")).to_contain_text(REASON)
            page.wait_for_timeout(1000)
            check(page, watch, "justificatif-refuse", problems)

            # Back to the dashboard, then the unread threads.
            page.locator(".breadcrumbs").get_by_role("link", name="Accueil").click()
            expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
            figure = page.get_by_role("link", name="échanges non lus par le service")
            expect(figure.locator(".dashboard-count")).to_have_text(str(data["unread"]))
            figure.click()
            expect(page.locator("#result_list tbody tr")).to_have_count(data["unread"])
            check(page, watch, "echanges-non-lus", problems)
            page.locator("#result_list").get_by_role(
                "link", name=data["thread"].subject, exact=True
            ).click()
            expect(page.locator("h1")).to_have_text("Échange avec la famille")
            check(page, watch, "echange", problems)

            page.locator("textarea[name=reply]").fill(REPLY)
            with page.expect_navigation():
                page.get_by_role("button", name="Envoyer").click()
            expect(page.locator(".messagelist")).to_contain_text(
                "Votre réponse est envoyée à la famille."
            )
            expect(page.locator(".thread-message").last).to_contain_text(REPLY)
            check(page, watch, "echange-envoye", problems)
            context.close()
            browser.close()

        # What the family gets: the reason in Échanges, the replacement link by e-mail.
        document.refresh_from_db()
        assert document.state == RequestDocument.State.REFUSED
        assert document.reason == REASON
        assert Message.objects.filter(
            thread__family=enrolment_request.family, side=Message.Side.OFFICE, body__contains=REASON
        ).exists()
        link = OutboxItem.objects.get(
            task=enrolment_tasks.send_replace_link.name, args=[document.pk]
        )
        assert link.state == OutboxItem.State.DONE, link.state
        guardians = {g.user.email for g in enrolment_request.family.guardians.all()}
        (sent,) = [
            m
            for m in mail.outbox
            if m.subject.startswith(f"[Portail famille] Justificatif refusé : {name}")
        ]
        assert set(sent.to) <= guardians, sent.to
        assert REASON in sent.body and "http" in sent.body, sent.body
        reply = Message.objects.get(thread=data["thread"], body=REPLY)
        assert reply.side == Message.Side.OFFICE
        assert OutboxItem.objects.count() > data["outbox_before"] + 1
    assert not problems, "\n".join(problems)


# The régisseur's month --------------------------------------------------------------------------


def month_data():
    """The demo (October is invoiced for its families) and a family that moved in with October
    bookings not invoiced yet."""
    seed_demo(TODAY)
    regisseur = User.objects.get(email="regisseur@example.org")
    family = make_family("ROUX", children=1)
    matin = Slot.objects.get(code="matin")
    for day in school_days(OCTOBER, count=6):
        book(family.children.get(), matin, day)
    regie = Regie.objects.get(slug="periscolaire")
    assert list(dashboard.recovery_to_hand_over().values_list("number", flat=True)) == [
        RECOVERY_INVOICE
    ]
    return {"secret": activate_totp(regisseur), "regie": regie, "family": family}


def downloaded(page, link, tmp_path):
    with page.expect_download() as download:
        link.click()
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    return download.value.suggested_filename, path.read_bytes()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_regisseurs_month(live_server, browser_path, settings, tmp_path, fresh_rate_limits):
    settings.MEDIA_ROOT = tmp_path / "private"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems = []
    with time_machine.travel(NOW, tick=True):
        data = month_data()
        regie = data["regie"]
        base = live_server.url
        with sync_playwright() as playwright:
            browser = launch(playwright, browser_path)
            context, watch, page = new_page(browser)
            sign_in(page, base, "regisseur@example.org", "regisseur-portail", data["secret"])
            check(page, watch, "regisseur-tableau-de-bord", problems)

            # « Facturations mensuelles » › « Facturer un mois ».
            page.locator("#content-main").get_by_role(
                "link", name="Facturations mensuelles", exact=True
            ).click()
            expect(page.locator("h1")).to_have_text("Facturations mensuelles")
            page.get_by_role("link", name="Facturer un mois").click()
            expect(page.locator("h1")).to_have_text("Facturer un mois")
            months = page.get_by_label("Mois à facturer").locator("option").all_inner_texts()
            assert months[0] == "octobre 2026", months  # the last finished month comes first
            page.get_by_label("Régie").select_option(label=regie.name)
            page.get_by_label("Mois à facturer").select_option(label="octobre 2026")
            with page.expect_navigation():
                page.get_by_role("button", name="Voir ce qui sera émis").click()
            preview = page.locator("section.invoicing-preview")
            expect(preview).to_have_count(1)
            counts = dict(
                zip(
                    preview.locator("dt").all_inner_texts(),
                    preview.locator("dd").all_inner_texts(),
                    strict=True,
                )
            )
            assert counts["Factures à émettre"] == "1", counts
            assert int(counts["Familles examinées"]) >= 1, counts
            assert counts["Montant total"].endswith("€") and counts["Montant total"] != "0,00 €"
            preview.locator("details summary").first.click()
            expect(preview.locator("table")).to_contain_text("ROUX")
            check(page, watch, "facturer-un-mois-apercu", problems)

            early = page.get_by_label("Je confirme l'émission des factures avant la date prévue.")
            if early.count():
                early.check()
            with page.expect_navigation():
                page.get_by_role("button", name="Émettre les factures d'octobre 2026").click()
            expect(page.locator(".messagelist")).to_contain_text(
                f"Facturation d'octobre 2026 lancée — {regie.name}"
            )
            run_row = page.locator("#result_list tbody tr").first
            expect(run_row.locator(".field-month_label")).to_have_text("10/2026")
            expect(run_row.locator(".field-state")).to_have_text("Terminée")
            expect(run_row.locator(".field-invoices_issued")).to_have_text("1")
            check(page, watch, "facturations-mensuelles", problems)

            # The recovery page, from the dashboard's count.
            page.locator(".breadcrumbs").get_by_role("link", name="Accueil").click()
            figure = page.get_by_role("link", name="facture mise en recouvrement à transmettre")
            expect(figure.locator(".dashboard-count")).to_have_text("1")
            figure.click()
            expect(page.locator("h1")).to_have_text("Factures mises en recouvrement")
            row = page.locator(".recovery-table tbody tr").filter(has_text=RECOVERY_INVOICE)
            expect(row).to_contain_text("À transmettre")
            check(page, watch, "recouvrement-a-transmettre", problems)

            with page.expect_navigation():
                page.get_by_role("button", name=f"Créer le bordereau — {regie.name}").click()
            expect(page.locator(".messagelist")).to_contain_text("établi : 1 facture, 30,00 €")
            number = page.locator(".field-number .readonly").inner_text().strip()
            assert number.startswith("BT-"), number
            expect(page.locator(".recovery-table")).to_contain_text(RECOVERY_INVOICE)
            check(page, watch, "bordereau", problems)

            # Its two downloads, from the list's page.
            downloads = page.locator(".field-downloads")
            csv_name, csv_bytes = downloaded(
                page, downloads.get_by_role("link", name="CSV"), tmp_path
            )
            pdf_name, pdf_bytes = downloaded(
                page, downloads.get_by_role("link", name="PDF"), tmp_path
            )
            assert csv_name == f"{number}.csv" and pdf_name == f"{number}.pdf"
            assert RECOVERY_INVOICE in csv_bytes.decode("utf-8-sig")
            assert pdf_bytes.startswith(b"%PDF")

            # The recovery page again: nothing left to hand over; the invoice is « transmise ».
            page.goto(base + "/admin/")
            expect(
                page.get_by_role("link", name="facture mise en recouvrement à transmettre").locator(
                    ".dashboard-count"
                )
            ).to_have_text("0")
            page.get_by_role("link", name="facture mise en recouvrement à transmettre").click()
            expect(page.locator("#recovery-summary")).to_contain_text("0 facture,")
            expect(page.locator(".recovery-table")).not_to_contain_text(RECOVERY_INVOICE)
            check(page, watch, "recouvrement-apres-bordereau", problems)
            page.get_by_label("Transmission").select_option(label="Transmises")
            with page.expect_navigation():
                page.get_by_role("button", name="Afficher").click()
            row = page.locator(".recovery-table tbody tr").filter(has_text=RECOVERY_INVOICE)
            expect(row).to_contain_text("Transmise le 26/11/2026")
            expect(row.get_by_role("link", name=number)).to_be_visible()
            check(page, watch, "recouvrement-transmises", problems)
            context.close()
            browser.close()

        run = InvoicingRun.objects.get(regie=regie, month=OCTOBER)
        assert run.status == InvoicingRun.Status.DONE
        assert run.invoices_issued == 1
        assert Invoice.objects.filter(family=data["family"], period_start=OCTOBER).count() == 1
        handover = RecoveryHandover.objects.get(number=number)
        assert handover.invoice_count == 1
    assert not problems, "\n".join(problems)
