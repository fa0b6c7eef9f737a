"""The reminder e-mail sent some days before the due date of an unpaid invoice."""

import datetime
from io import StringIO

import pytest
import time_machine
from django.core import mail
from django.core.management import CommandError, call_command

from billing.models import Invoice
from billing.recovery.services import send_payment_reminders
from billing.services import payment_record
from tests.conftest import TODAY

from .conftest import make_family
from .test_recovery import make_invoice, programmed_debit

pytestmark = pytest.mark.django_db

IN_FIVE_DAYS = TODAY + datetime.timedelta(days=5)  # 01/12/2026


@pytest.fixture
def family(regies, slots, today):
    return make_family("LAGRANGE")


def days(n):
    return TODAY + datetime.timedelta(days=n)


def test_a_reminder_goes_once_with_the_amount_the_date_and_the_links(
    family, settings, django_capture_on_commit_callbacks
):
    """An invoice due within PAYMENT_REMINDER_DAYS gets one e-mail: what is left to pay, the
    due date, the links to the invoice (to pay it by card) and the recovery warning. A second
    run sends nothing."""
    settings.SITE_URL = "https://portail.example.org"
    invoice = make_invoice(family, number="PERI2026000201", due_date=IN_FIVE_DAYS)
    payment_record(invoice=invoice, amount_cents=1000, paid_on=TODAY, means="especes")

    with django_capture_on_commit_callbacks(execute=True):
        assert send_payment_reminders(today=TODAY) == [invoice.pk]

    (email,) = mail.outbox
    assert email.to == [family.guardians.get().user.email]
    assert email.subject == (
        "[Portail famille] Rappel : facture PERI2026000201 à régler avant le 01/12/2026"
    )
    text = email.body
    assert "Reste à payer : 20,00 €" in text
    assert "Date limite de paiement : 01/12/2026" in text
    assert f"https://portail.example.org/paiements/factures/{invoice.pk}/" in text
    assert "https://portail.example.org/paiements/periscolaire/factures/" in text
    assert "elle sera mise en recouvrement" in text
    assert "directement par le Trésor Public" in text
    html = email.alternatives[0][0]
    assert "20,00 €" in html and f"/paiements/factures/{invoice.pk}/" in html
    invoice.refresh_from_db()
    assert invoice.reminder_sent_at is not None
    assert invoice.history.first().history_change_reason == (
        "Rappel de paiement envoyé (date limite du 01/12/2026)"
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert send_payment_reminders(today=TODAY) == []
        assert send_payment_reminders(today=days(1)) == []
    assert len(mail.outbox) == 1


def test_with_stripe_the_reminder_offers_the_card(
    family, settings, django_capture_on_commit_callbacks
):
    """When card payment is on, the reminder's button says "Payer par carte bancaire"."""
    settings.STRIPE_SECRET_KEY = "sk_test_rappel"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_rappel"
    make_invoice(family, number="PERI2026000202", due_date=IN_FIVE_DAYS)

    with django_capture_on_commit_callbacks(execute=True):
        send_payment_reminders(today=TODAY)

    (email,) = mail.outbox
    assert "Pour la payer par carte bancaire" in email.body
    assert "Payer par carte bancaire" in email.alternatives[0][0]


def test_only_unpaid_invoices_due_within_the_window(
    family, office, django_capture_on_commit_callbacks
):
    """Due today to today + 5 days: reminded. Due in 6 days, already past (recovery tonight),
    paid, cancelled, in recovery or a programmed debit (the bank collects it): no reminder."""
    other = make_family("BERNARD", names=["Nina"])
    wanted = [
        make_invoice(family, number="PERI2026000210", due_date=TODAY),
        make_invoice(
            family,
            number="PERI2026000211",
            due_date=IN_FIVE_DAYS,
            period_start=datetime.date(2026, 8, 1),
        ),
    ]
    make_invoice(
        family, number="PERI2026000212", due_date=days(6), period_start=datetime.date(2026, 7, 1)
    )
    make_invoice(
        family, number="PERI2026000213", due_date=days(-1), period_start=datetime.date(2026, 6, 1)
    )
    paid = make_invoice(other, number="PERI2026000214", due_date=days(2))
    payment_record(invoice=paid, amount_cents=3000, paid_on=TODAY, means="cheque")
    make_invoice(
        other,
        number="PERI2026000215",
        due_date=days(2),
        status=Invoice.Status.CANCELLED,
        period_start=datetime.date(2026, 8, 1),
    )
    make_invoice(
        other,
        number="PERI2026000216",
        due_date=days(2),
        status=Invoice.Status.RECOVERY,
        period_start=datetime.date(2026, 7, 1),
    )
    programmed_debit(
        other, number="PERI2026000217", due_date=days(2), debit_date=days(3), regie="alai"
    )

    with django_capture_on_commit_callbacks(execute=True):
        reminded = send_payment_reminders(today=TODAY)

    assert reminded == [invoice.pk for invoice in wanted]
    assert sorted(email.subject.split()[5] for email in mail.outbox) == [
        "PERI2026000210",
        "PERI2026000211",
    ]
    assert (
        Invoice.objects.exclude(pk__in=reminded).filter(reminder_sent_at__isnull=False).count() == 0
    )


def test_the_window_follows_the_setting(family, settings):
    """PAYMENT_REMINDER_DAYS sets how many days ahead the reminder goes."""
    settings.PAYMENT_REMINDER_DAYS = 10
    invoice = make_invoice(family, number="PERI2026000220", due_date=days(10))
    assert send_payment_reminders(today=TODAY) == [invoice.pk]


def test_an_invoice_paid_before_the_email_leaves_gets_none(
    family, django_capture_on_commit_callbacks
):
    """The e-mail task checks the invoice again: paid in the meantime, nothing is sent."""
    from billing.recovery.reminders import send_payment_reminder

    invoice = make_invoice(family, number="PERI2026000221", due_date=days(3))
    send_payment_reminders(today=TODAY)  # claimed; its e-mail would leave on commit
    payment_record(invoice=invoice, amount_cents=3000, paid_on=TODAY, means="cheque")

    assert send_payment_reminder(invoice.pk) == 0
    assert not mail.outbox


def test_command_and_nightly_task(family, django_capture_on_commit_callbacks):
    """send_payment_reminders --today says what it sent, then that nothing is left; the night
    task takes the Paris date; a bad date is refused in French."""
    from billing.recovery.tasks import send_due_payment_reminders

    make_invoice(family, number="PERI2026000222", due_date=IN_FIVE_DAYS)
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_payment_reminders", "--today", "2026-11-26", stdout=out)
        call_command("send_payment_reminders", "--today", "2026-11-26", stdout=out)
    assert out.getvalue().splitlines() == [
        "1 rappel(s) de paiement envoyé(s) (date limite du 26/11/2026 au 01/12/2026, 5 jours).",
        "Aucun rappel à envoyer (date limite du 26/11/2026 au 01/12/2026).",
    ]
    assert len(mail.outbox) == 1
    with pytest.raises(CommandError, match="--today attend une date AAAA-MM-JJ."):
        call_command("send_payment_reminders", "--today", "demain")

    make_invoice(
        family,
        number="PERI2026000223",
        due_date=datetime.date(2026, 12, 2),
        period_start=datetime.date(2026, 8, 1),
    )
    # 00:30 in Paris on 27/11 (still 26/11 in UTC): the window reaches 02/12.
    with time_machine.travel(datetime.datetime(2026, 11, 26, 23, 30, tzinfo=datetime.UTC)):
        assert send_due_payment_reminders() == 1
