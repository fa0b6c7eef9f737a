"""The switch of overdue invoices to "mise en recouvrement": what switches, once, and what the
family and the parent pages see afterwards."""

import datetime
import time

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from billing.card.models import CheckoutSession
from billing.directdebit.models import Mandate
from billing.models import Invoice, InvoiceLine, Payment, Regie
from billing.recovery.services import switch_to_recovery
from billing.services import invoice_cancel, payment_record
from exchanges.models import Message, Thread
from tests.conftest import TODAY, client_for

from .conftest import book, issue, make_family, pdf_text, school_days
from .fake_stripe import fake_stripe  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db

SEPTEMBER = datetime.date(2026, 9, 1)
SEPTEMBER_ISSUE = datetime.date(2026, 10, 10)  # due 30 days later: 09/11/2026, before TODAY


def issue_september(regies, slots, *families, mornings=4):
    """September invoiced (périscolaire, `mornings` mornings at 2,00 € each) to `families`:
    issued on 10/10/2026, due 09/11/2026."""
    for family in families:
        for day in school_days(SEPTEMBER, count=mornings):
            book(family.children.first(), slots["matin"], day)
    issue(regies, month=SEPTEMBER, today=SEPTEMBER_ISSUE)
    return [Invoice.objects.get(family=family, period_start=SEPTEMBER) for family in families]


def make_invoice(
    family,
    *,
    due_date,
    number,
    status=Invoice.Status.UNPAID,
    total_cents=3000,
    period_start=SEPTEMBER,
    regie="periscolaire",
    **fields,
):
    """An issued invoice made directly (one line of 15 mornings × 2,00 € by default)."""
    end = (period_start.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    fields = {
        "payer_name": f"Camille {family.name}",
        "payer_address": f"{family.address}\n{family.postal_code} {family.city}",
        "family_label": f"Foyer {family.name}",
        **fields,
    }
    invoice = Invoice.objects.create(
        regie=Regie.objects.get(slug=regie),
        family=family,
        number=number,
        period_start=period_start,
        period_end=end - datetime.timedelta(days=1),
        issue_date=due_date - datetime.timedelta(days=30),
        due_date=due_date,
        status=status,
        total_cents=total_cents,
        **fields,
    )
    InvoiceLine.objects.create(
        invoice=invoice,
        position=1,
        kind=InvoiceLine.Kind.BOOKING,
        child=family.children.first(),
        label="Matin 07h20-08h20",
        quantity=total_cents // 200 if total_cents % 200 == 0 else 1,
        unit_price_cents=200 if total_cents % 200 == 0 else total_cents,
        amount_cents=total_cents,
    )
    return invoice


def programmed_debit(family, *, number, due_date, debit_date, regie="periscolaire"):
    """An invoice under an active mandate, to be debited on `debit_date`."""
    mandate = Mandate.objects.create(
        family=family,
        regie=Regie.objects.get(slug=regie),
        rum=f"RUM-{number}",
        creditor_ics="FR12ZZZ123456",
        account_holder=f"Camille {family.name}",
        iban="FR7630006000011234567890189",
        bic="AGRIFRPP",
        signed_on=datetime.date(2026, 9, 15),
    )
    return make_invoice(
        family,
        number=number,
        due_date=due_date,
        status=Invoice.Status.DIRECT_DEBIT,
        mandate=mandate,
        debit_date=debit_date,
        regie=regie,
    )


def recovery_threads(invoice):
    return Thread.objects.filter(
        related_id=invoice.pk, subject=f"Votre facture {invoice.number} est mise en recouvrement"
    )


@pytest.fixture
def overdue(regies, slots, today):
    """The MARTIN family's September invoice, 8,00 €, due 09/11/2026 and still unpaid."""
    (invoice,) = issue_september(regies, slots, make_family())
    return invoice


def test_overdue_invoice_switches_once_and_the_family_is_told(
    overdue, today, django_capture_on_commit_callbacks
):
    """An invoice still unpaid after its due date becomes "Mise en recouvrement" on the night's
    date; the family gets a message in Échanges and its e-mail, saying the portal no longer
    takes the payment and that the Trésor Public will write. A second run changes and sends
    nothing."""
    guardian_email = overdue.family.guardians.get().user.email
    with django_capture_on_commit_callbacks(execute=True):
        result = switch_to_recovery(today=TODAY)

    assert (result.count, result.due_cents, len(result.family_ids)) == (1, 800, 1)
    overdue.refresh_from_db()
    assert (overdue.status, overdue.recovery_date) == (Invoice.Status.RECOVERY, TODAY)
    assert overdue.get_status_display() == "Mise en recouvrement"
    record = overdue.history.first()
    assert record.status == "recouvrement"
    assert record.history_change_reason == (
        "Mise en recouvrement : date limite du 09/11/2026 dépassée"
    )

    thread = recovery_threads(overdue).get()
    assert thread.family == overdue.family and thread.family_unread
    assert thread.teleservice == "Régie de recette périscolaire municipale"
    body = thread.messages.get().body
    assert f"Votre facture n° {overdue.number}" in body and "8,00 €" in body
    assert "date limite de paiement du 09/11/2026" in body
    assert "mise en recouvrement depuis le 26/11/2026" in body
    assert "vous ne pouvez plus régler cette facture via le portail famille" in body
    assert "par voie postale, directement par le Trésor Public" in body
    assert overdue.get_absolute_url() in body
    (email,) = mail.outbox
    assert email.to == [guardian_email]
    assert f"Votre facture {overdue.number} est mise en recouvrement" in email.subject
    assert "directement par le Trésor Public" in email.body

    with django_capture_on_commit_callbacks(execute=True):
        again = switch_to_recovery(today=TODAY)
        later = switch_to_recovery(today=TODAY + datetime.timedelta(days=1))
    assert again.count == later.count == 0
    assert len(mail.outbox) == 1
    assert Message.objects.filter(thread__family=overdue.family).count() == 1
    assert overdue.history.count() == 2  # created, switched
    overdue.refresh_from_db()
    assert overdue.recovery_date == TODAY


def test_the_switch_starts_the_day_after_the_due_date(regies, slots, today):
    """On its due date an invoice can still be paid; it switches from the next day on."""
    family = make_family()
    due_today = make_invoice(family, number="PERI2026000101", due_date=TODAY)
    due_yesterday = make_invoice(
        family,
        number="PERI2026000102",
        due_date=TODAY - datetime.timedelta(days=1),
        period_start=datetime.date(2026, 8, 1),
    )

    assert switch_to_recovery(today=TODAY).invoice_ids == [due_yesterday.pk]
    due_today.refresh_from_db()
    assert due_today.status == Invoice.Status.UNPAID


def test_the_nightly_task_takes_the_paris_date(regies, slots):
    """At 00:30 in Paris (still the day before in UTC) the night job counts the new day."""
    from billing.recovery.tasks import switch_overdue_to_recovery

    family = make_family()
    invoice = make_invoice(family, number="PERI2026000103", due_date=datetime.date(2026, 11, 25))
    just_after_midnight = datetime.datetime(2026, 11, 25, 23, 30, tzinfo=datetime.UTC)
    with time_machine.travel(just_after_midnight, tick=False):
        assert switch_overdue_to_recovery() == 1
    invoice.refresh_from_db()
    assert invoice.recovery_date == datetime.date(2026, 11, 26)


def test_paid_and_cancelled_invoices_never_switch(regies, slots, office, today):
    """A paid invoice and a cancelled one stay as they are, whatever their due date."""
    paid, cancelled, partly = issue_september(
        regies, slots, make_family("PAYEE"), make_family("ANNULEE"), make_family("PARTIEL")
    )
    payment_record(
        invoice=paid, amount_cents=800, paid_on=datetime.date(2026, 11, 2), means="cheque"
    )
    invoice_cancel(invoice=cancelled, reason="Erreur", by=office, today=datetime.date(2026, 11, 3))
    payment_record(
        invoice=partly, amount_cents=300, paid_on=datetime.date(2026, 11, 2), means="especes"
    )

    result = switch_to_recovery(today=TODAY)

    assert result.invoice_ids == [partly.pk]
    assert result.due_cents == 500  # what is left on the partly paid one
    statuses = dict(Invoice.objects.values_list("pk", "status"))
    assert statuses == {paid.pk: "payee", cancelled.pk: "annulee", partly.pk: "recouvrement"}
    assert not Thread.objects.filter(subject__contains="recouvrement").exclude(related_id=partly.pk)


def test_a_programmed_debit_never_switches_until_its_debit_is_rejected(regies, slots, today):
    """A programmed debit whose due date has passed waits for the bank; once its debit is
    rejected (impayée again, with a new due date) it switches only after that date."""
    family = make_family()
    invoice = programmed_debit(
        family,
        number="PERI2026000104",
        due_date=datetime.date(2026, 11, 9),
        debit_date=datetime.date(2026, 12, 5),
    )

    assert switch_to_recovery(today=TODAY).count == 0
    assert switch_to_recovery(today=datetime.date(2026, 12, 20)).count == 0
    invoice.refresh_from_db()
    assert invoice.status == Invoice.Status.DIRECT_DEBIT

    # The bank rejected the debit: impayée again, due 15 days later (the rejection's rule).
    invoice.set_status(Invoice.Status.UNPAID)
    invoice.due_date = datetime.date(2026, 12, 21)
    invoice.save()
    assert switch_to_recovery(today=datetime.date(2026, 12, 21)).count == 0
    assert switch_to_recovery(today=datetime.date(2026, 12, 22)).invoice_ids == [invoice.pk]


def test_command_prints_the_counts_and_a_second_run_does_nothing(overdue, today):
    """switch_to_recovery --today says how many invoices switched and for how much; run again,
    it says there is nothing to do; a bad date is refused in French."""
    from io import StringIO

    out = StringIO()
    call_command("switch_to_recovery", "--today", "2026-11-26", stdout=out)
    assert out.getvalue().strip() == (
        "1 facture(s) mise(s) en recouvrement au 26/11/2026 (8,00 € restant dus), "
        "1 foyer(s) prévenu(s)."
    )
    out = StringIO()
    call_command("switch_to_recovery", "--today", "2026-11-26", stdout=out)
    assert out.getvalue().strip() == "Aucune facture à mettre en recouvrement au 26/11/2026."
    with pytest.raises(CommandError, match="--today attend une date AAAA-MM-JJ."):
        call_command("switch_to_recovery", "--today", "26/11/2026")


def test_the_open_card_payment_is_closed_at_stripe(
    client,
    overdue,
    fake_stripe,  # noqa: F811 - the fixture imported above
    django_capture_on_commit_callbacks,
):
    """A Checkout session opened before the due date is expired, here and at Stripe, once the
    invoice is in recovery."""
    client_for(client, overdue.family)
    with time_machine.travel(datetime.datetime(2026, 11, 5, 9, tzinfo=datetime.UTC), tick=False):
        response = client.post(reverse("billing:invoice_pay", args=[overdue.pk]))
    assert response.status_code == 303
    session = CheckoutSession.objects.get()
    assert session.status == CheckoutSession.Status.OPEN

    night = datetime.datetime(2026, 11, 26, 0, 15, tzinfo=datetime.UTC)
    with time_machine.travel(night), django_capture_on_commit_callbacks(execute=True):
        switch_to_recovery(today=TODAY)

    session.refresh_from_db()
    assert session.status == CheckoutSession.Status.EXPIRED
    assert fake_stripe.calls("POST", f"/v1/checkout/sessions/{session.session_id}/expire")


def test_a_hand_made_payment_post_is_refused(client, overdue, fake_stripe, today):  # noqa: F811
    """Once in recovery, a POST to the card payment address (no button any more) creates no
    session and no payment: the parent is sent back to the invoice with the reason."""
    switch_to_recovery(today=TODAY)
    client_for(client, overdue.family)

    response = client.post(reverse("billing:invoice_pay", args=[overdue.pk]), follow=True)

    assert response.redirect_chain[0][0] == overdue.get_absolute_url()
    (refusal,) = [str(message) for message in response.context["messages"]]
    assert "mise en recouvrement" in refusal
    assert not CheckoutSession.objects.exists() and not Payment.objects.exists()
    assert not fake_stripe.created()
    overdue.refresh_from_db()
    assert overdue.status == Invoice.Status.RECOVERY


def test_parent_pages_show_the_invoice_in_recovery(client, overdue, fake_stripe, today):  # noqa: F811
    """Mes factures still lists it with its badge, without the card button; its page explains
    the recovery in the tutorial's words and no longer says how to pay on the portal."""
    switch_to_recovery(today=TODAY)
    client_for(client, overdue.family)
    pay_url = reverse("billing:invoice_pay", args=[overdue.pk])

    listing = client.get(reverse("billing:invoice_list", args=["periscolaire"])).content.decode()
    assert overdue.number in listing
    assert '<span class="badge text-bg-danger">Mise en recouvrement</span>' in listing
    assert pay_url not in listing

    page = client.get(overdue.get_absolute_url()).content.decode()
    assert "Cette facture est mise en recouvrement depuis le 26/11/2026." in page
    assert "vous ne pouvez plus la régler via le portail famille" in page
    assert "Vous serez recontacté, par voie postale, directement par le Trésor Public" in page
    assert "Comment payer" not in page and pay_url not in page


def test_the_statement_notes_the_switch(client, overdue, today):
    """The relevé de compte notes the switch on its date, without changing the balance."""
    switch_to_recovery(today=TODAY)
    client_for(client, overdue.family)
    url = reverse("billing:statement", args=["periscolaire"])
    page = client.get(url, {"du": "2026-10-01", "au": "2026-11-30"}).content.decode()
    assert (
        f"Facture {overdue.number} mise en recouvrement — à régler auprès du Trésor Public" in page
    )


def test_one_message_per_invoice_in_its_own_thread(
    regies, slots, today, django_capture_on_commit_callbacks
):
    """A family with two overdue invoices (two régies) gets one message for each, in a thread
    about that invoice, and one e-mail for each."""
    family = make_family()
    first = make_invoice(family, number="PERI2026000105", due_date=datetime.date(2026, 11, 9))
    second = make_invoice(
        family, number="ALAI2026000105", due_date=datetime.date(2026, 11, 9), regie="alai"
    )

    with django_capture_on_commit_callbacks(execute=True):
        switch_to_recovery(today=TODAY)

    assert recovery_threads(first).get().teleservice == "Régie de recette périscolaire municipale"
    assert "ALAI" in recovery_threads(second).get().teleservice
    assert sorted(email.subject for email in mail.outbox) == sorted(
        f"[Portail famille] Nouveau message : Votre facture {number} est mise en recouvrement"
        for number in (first.number, second.number)
    )


def test_thousands_of_invoices_switch_in_batches_with_their_history(regies, slots, today):
    """Thousands of invoices switch with a number of queries per batch, not per invoice (without
    the messages), each with its history row; the time is printed for the record."""
    families = [make_family(f"F{index:04d}") for index in range(2)]
    regie = Regie.objects.get(slug="periscolaire")
    rows = [
        Invoice(
            regie=regie,
            family=families[index % 2],
            number=f"PERI2026{index:06d}",
            period_start=datetime.date(2000 + index // 24, index // 2 % 12 + 1, 1),
            period_end=datetime.date(2000 + index // 24, index // 2 % 12 + 1, 28),
            issue_date=datetime.date(2026, 10, 10),
            due_date=datetime.date(2026, 11, 9),
            total_cents=1000 + index,
            payer_name="Camille",
            payer_address="Tassin",
            family_label="Foyer",
        )
        for index in range(2400)
    ]
    Invoice.objects.bulk_create(rows)

    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        result = switch_to_recovery(today=TODAY, notify=False, batch_size=500)
    elapsed = time.perf_counter() - started

    assert result.count == 2400
    assert result.due_cents == sum(1000 + index for index in range(2400))
    assert Invoice.objects.in_recovery().count() == 2400
    assert Invoice.history.filter(history_type="~", status="recouvrement").count() == 2400
    # Per batch of 500: a locking SELECT, one UPDATE, the history INSERT (that SQLite splits
    # under its limit of bound parameters) and the savepoint: far fewer than one per invoice.
    assert len(queries) < result.count / 20, len(queries)
    print(f"\n2400 invoices switched in {elapsed:.2f} s, {len(queries)} queries")


def test_after_seed_demo_the_night_job_has_nothing_to_do(today, django_capture_on_commit_callbacks):
    """The demo parent's tutorial November invoice (30,00 €) is in recovery since the night after
    its due date, with its (read) message; the night job then finds nothing to switch."""
    from portail.demo import seed_demo

    families = seed_demo(TODAY)
    tutorial = Invoice.objects.get(
        family=families["parent"], period_start=datetime.date(2025, 11, 1)
    )
    assert (tutorial.status, tutorial.total_cents) == (Invoice.Status.RECOVERY, 3000)
    assert tutorial.recovery_date == tutorial.due_date + datetime.timedelta(days=1)
    thread = recovery_threads(tutorial).get()
    assert not thread.family_unread
    assert thread.last_message_at.date() == tutorial.recovery_date

    with django_capture_on_commit_callbacks(execute=True):
        assert switch_to_recovery(today=TODAY).count == 0
        seed_demo(TODAY)
    assert not mail.outbox
    assert recovery_threads(tutorial).count() == 1


def test_both_night_jobs_are_in_the_beat_schedule():
    """The switch (01:15) and the reminders (01:30) are scheduled every night, as tasks the
    Celery app knows."""
    import billing.recovery.tasks  # noqa: F401 - registers the tasks, as the worker's autodiscovery does
    from portail.celery import app

    entries = {entry["task"]: entry["schedule"] for entry in app.conf.beat_schedule.values()}
    switch = entries["billing.recovery.tasks.switch_overdue_to_recovery"]
    reminders = entries["billing.recovery.tasks.send_due_payment_reminders"]
    assert (switch.hour, switch.minute) == ({1}, {15})
    assert (reminders.hour, reminders.minute) == ({1}, {30})
    assert {
        "billing.recovery.tasks.switch_overdue_to_recovery",
        "billing.recovery.tasks.send_due_payment_reminders",
        "billing.recovery.reminders.send_payment_reminder",
    } <= set(app.tasks)


def test_an_invoice_in_recovery_keeps_its_pdf_and_its_page_says_who_collects_it(
    client, overdue, today, tmp_path
):
    """The invoice's PDF is the document as issued, byte for byte after the switch (it already
    said that past the due date the Trésor Public collects); the invoice page says the Trésor
    Public will write and no longer offers to pay."""
    client_for(client, overdue.family)
    issued = client.get(overdue.get_pdf_url()).content
    issued_text = " ".join(pdf_text(issued, tmp_path).split())
    assert "transmise au Trésor Public pour recouvrement" in issued_text

    switch_to_recovery(today=today)

    assert client.get(overdue.get_pdf_url()).content == issued
    page = " ".join(client.get(overdue.get_absolute_url()).content.decode().split())
    assert "Cette facture est mise en recouvrement depuis le 26/11/2026" in page
    assert "directement par le Trésor Public" in page
    assert "Comment payer" not in page


def test_an_invoice_with_card_money_under_review_waits_for_the_regisseur(overdue, today):
    """A card payment of another amount arrived for the invoice (flagged, not recorded): it is
    not sent to the Trésor Public while the régisseur has not dealt with that money; once the
    issue is handled, the next night switches it."""
    from django.utils import timezone

    from billing.card.models import PaymentIssue

    issue = PaymentIssue.objects.create(
        invoice=overdue,
        kind=PaymentIssue.Kind.AMOUNT_MISMATCH,
        amount_cents=500,
        currency="eur",
        reference="pi_test",
    )

    assert switch_to_recovery(today=today).count == 0
    overdue.refresh_from_db()
    assert overdue.status == Invoice.Status.UNPAID

    issue.resolved_at, issue.resolution = timezone.now(), "Remboursé"
    issue.save()
    assert switch_to_recovery(today=today).invoice_ids == [overdue.pk]
