"""The night jobs' e-mails by batch: the invoice notices, the payment reminders and the
switch to recovery send each batch's e-mails over one connection to the mail server, each
once, even when an address is refused or the connection dies midway, with the same number of
queries for 10 invoices as for 50; what the parent reads is unchanged."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from billing.notices import notify_invoices_issued
from billing.recovery.services import send_payment_reminders, switch_to_recovery
from common import outbox
from common.models import OutboxItem
from exchanges.models import Message, Thread
from tests.conftest import TODAY
from tests.smtp_server import smtp_server_fixture  # noqa: F401 - the fixture

from .conftest import make_family
from .test_recovery import make_invoice

pytestmark = pytest.mark.django_db

IN_FIVE_DAYS = TODAY + datetime.timedelta(days=5)  # 01/12/2026


def invoices_for(count, *, due_date=IN_FIVE_DAYS, total_cents=3000):
    """`count` impayée invoices of the périscolaire régie, one per family."""
    return [
        make_invoice(
            make_family(f"FAMILLE{index:02d}", children=0),
            number=f"PERI2026{index:06d}",
            due_date=due_date,
            total_cents=total_cents,
        )
        for index in range(1, count + 1)
    ]


def guardian_email(invoice):
    return invoice.family.guardians.get().user.email


def later(minutes):
    return timezone.now() + datetime.timedelta(minutes=minutes)


def test_a_batch_of_reminders_is_one_task_and_one_connection(
    regies, today, smtp_server, django_capture_on_commit_callbacks
):
    """The reminders of a night are one outbox row per batch, sent over one connection: each
    family gets its own reminder once, in French with its amount to the cent; a second run
    sends nothing."""
    invoices = invoices_for(3, total_cents=4567)

    with django_capture_on_commit_callbacks(execute=True):
        assert send_payment_reminders(today=TODAY) == [invoice.pk for invoice in invoices]

    (item,) = OutboxItem.objects.all()
    assert item.state == OutboxItem.State.DONE
    assert item.label == ("Rappels de paiement de 3 factures (PERI2026000001 à PERI2026000003)")
    assert smtp_server.connections == 1
    assert [email.to for email in smtp_server.received] == [
        [guardian_email(invoice)] for invoice in invoices
    ]
    first = smtp_server.received[0]
    assert first.subject == (
        "[Portail famille] Rappel : facture PERI2026000001 à régler avant le 01/12/2026"
    )
    assert "Reste à payer : 45,67 €" in first.body
    assert "Date limite de paiement : 01/12/2026" in first.body
    assert f"/paiements/factures/{invoices[0].pk}/" in first.body

    with django_capture_on_commit_callbacks(execute=True):
        assert send_payment_reminders(today=TODAY) == []
    assert outbox.deliver_due(now=later(60)) == 0
    assert len(smtp_server.received) == 3


def test_a_refused_address_neither_stops_nor_repeats_the_others(
    regies, today, smtp_server, django_capture_on_commit_callbacks
):
    """The mail server refuses one family's address: the others get their reminder, the row
    waits with the refused address in its error, and its next attempts send only that one —
    once the address is accepted, it leaves, and nobody got two."""
    invoices = invoices_for(4)
    refused = guardian_email(invoices[1])
    smtp_server.refused = {refused}

    with django_capture_on_commit_callbacks(execute=True):
        send_payment_reminders(today=TODAY)

    item = OutboxItem.objects.get()
    assert item.state == OutboxItem.State.PENDING
    assert "3 e-mail(s) envoyé(s), 1 non envoyé(s)" in item.last_error
    assert refused in item.last_error
    assert sorted(e.to[0] for e in smtp_server.received) == sorted(
        guardian_email(invoice) for invoice in invoices if guardian_email(invoice) != refused
    )

    assert outbox.deliver_due(now=later(2)) == 0  # still refused: nothing else leaves
    assert len(smtp_server.received) == 3

    smtp_server.refused = set()
    assert outbox.deliver_due(now=later(10)) == 1
    item.refresh_from_db()
    assert item.state == OutboxItem.State.DONE
    assert sorted(e.to[0] for e in smtp_server.received) == sorted(
        guardian_email(invoice) for invoice in invoices
    )


def test_a_connection_lost_midway_sends_the_rest_once_on_the_retry(
    regies, today, smtp_server, django_capture_on_commit_callbacks
):
    """The connection dies after two e-mails of five: those two are recorded as sent, the row
    is tried again later and sends the three others — each family has exactly one reminder."""
    invoices = invoices_for(5)
    smtp_server.drop_after = 2

    with django_capture_on_commit_callbacks(execute=True):
        send_payment_reminders(today=TODAY)

    item = OutboxItem.objects.get()
    assert item.state == OutboxItem.State.PENDING and item.attempts == 1
    assert "2 e-mail(s) envoyé(s), 3 non envoyé(s) : connexion perdue" in item.last_error
    assert len(smtp_server.received) == 2

    smtp_server.drop_after = None
    assert outbox.deliver_due(now=later(2)) == 1
    assert sorted(e.to[0] for e in smtp_server.received) == sorted(
        guardian_email(invoice) for invoice in invoices
    )
    assert outbox.deliver_due(now=later(60)) == 0
    assert len(smtp_server.received) == 5


def test_the_notices_of_a_batch_open_each_thread_and_mail_it_once(
    regies, today, smtp_server, django_capture_on_commit_callbacks
):
    """One task gives each invoice of the batch its thread in Échanges (unread by the family)
    and one e-mail, all over one connection; run again, it adds nothing. The parent reads the
    same French notice, amount to the cent."""
    invoices = invoices_for(3, total_cents=1234)
    ids = [invoice.pk for invoice in invoices]

    with django_capture_on_commit_callbacks(execute=True):
        assert notify_invoices_issued(ids) == 3
    with django_capture_on_commit_callbacks(execute=True):
        assert notify_invoices_issued(ids) == 0

    threads = Thread.objects.filter(family__in=[invoice.family for invoice in invoices])
    assert threads.count() == 3 and all(thread.family_unread for thread in threads)
    thread = threads.get(family=invoices[0].family)
    assert thread.subject == "Votre facture PERI2026000001 est disponible"
    assert thread.teleservice == "Régie de recette périscolaire municipale"
    body = thread.messages.get().body
    assert (
        "Votre facture n° PERI2026000001 de la Régie de recette périscolaire municipale est "
        "disponible." in body
    )
    assert "Montant : 12,34 €" in body
    assert "À régler avant le 01/12/2026" in body
    assert smtp_server.connections == 1
    assert [email.to for email in smtp_server.received] == [
        [guardian_email(invoice)] for invoice in invoices
    ]
    email = smtp_server.received[0]
    assert email.subject == (
        "[Portail famille] Nouveau message : Votre facture PERI2026000001 est disponible"
    )
    assert "Montant : 12,34 €" in email.body
    assert f"/echanges/{thread.pk}/" in email.body


@pytest.mark.parametrize("count", [10, 50])
def test_reminders_cost_the_same_queries_for_10_or_50_invoices(
    count, regies, today, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    """Claiming, promising and sending a batch of reminders (e-mails included) takes the same
    few queries whatever the number of invoices."""
    invoices_for(count)

    with django_assert_max_num_queries(16), django_capture_on_commit_callbacks(execute=True):
        assert len(send_payment_reminders(today=TODAY)) == count
    assert len(mail.outbox) == count


@pytest.mark.parametrize("count", [10, 50])
def test_notices_cost_the_same_queries_for_10_or_50_invoices(
    count, regies, today, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    """A batch of invoice notices (threads, messages and their e-mails) takes the same few
    queries whatever the number of invoices."""
    invoices = invoices_for(count)

    with django_assert_max_num_queries(16), django_capture_on_commit_callbacks(execute=True):
        assert notify_invoices_issued([invoice.pk for invoice in invoices]) == count
    assert Message.objects.count() == len(mail.outbox) == count


@pytest.mark.parametrize("count", [10, 50])
def test_the_switch_to_recovery_costs_the_same_queries_for_10_or_50_invoices(
    count, regies, today, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    """Switching a batch of overdue invoices and telling each family (thread, message and
    e-mail) takes the same few queries whatever the number of invoices."""
    invoices_for(count, due_date=TODAY - datetime.timedelta(days=1))

    with django_assert_max_num_queries(22), django_capture_on_commit_callbacks(execute=True):
        assert switch_to_recovery(today=TODAY).count == count
    assert Message.objects.count() == len(mail.outbox) == count
