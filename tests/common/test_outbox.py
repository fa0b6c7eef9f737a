"""The outbox: what a request promises goes out once, after its commit, even when the mail
server fails for a while; the office sees each row and can send again what failed."""

import datetime
import socket
import threading
import time

import pytest
from celery import shared_task
from django.conf import settings as django_settings
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.core import mail
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from common import outbox
from common.models import OutboxItem
from exchanges.models import Thread
from tests.concurrency import at_once
from tests.factories import UserFactory

NOW = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)


def _closed_port() -> int:
    """A local TCP port nobody listens on: a mail server that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def mail_server_down(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _closed_port()
    settings.EMAIL_TIMEOUT = 1
    return settings


def _post_message(client, family, django_capture_on_commit_callbacks, subject="Absence"):
    client.force_login(family.guardians.first().user)
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(
            reverse("exchanges:thread_create"), {"subject": subject, "body": "Alice est malade."}
        )


@pytest.mark.django_db
def test_a_new_message_writes_its_email_in_the_outbox_and_sends_it_once(
    client, family_a, today, django_capture_on_commit_callbacks
):
    response = _post_message(client, family_a, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    item = OutboxItem.objects.get()
    assert item.task == "exchanges.tasks.send_message_email"
    assert item.state == OutboxItem.State.DONE and item.attempts == 1
    assert item.label == "E-mail du message « Absence »"
    assert [message.to for message in mail.outbox] == [[django_settings.OFFICE_EMAIL]]

    assert outbox.deliver(item.pk) is False  # delivered: never again
    assert outbox.deliver_due() == 0
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_nothing_is_promised_when_the_request_rolls_back(family_a, today):
    """The row is written in the caller's transaction: a rollback takes it away with the rest."""
    thread = Thread.objects.create(family=family_a, subject="Test")
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.enqueue("exchanges.tasks.send_message_email", thread.pk)
        raise RuntimeError("the request fails after writing")

    assert not OutboxItem.objects.exists()


@pytest.mark.django_db
def test_mail_server_down_keeps_the_message_and_its_email_goes_out_when_it_is_back(
    client, family_a, today, mail_server_down, django_capture_on_commit_callbacks
):
    """The parent's message is saved and the page answers; the e-mail waits, is tried again
    with a growing delay, and leaves once when the mail server answers again."""
    response = _post_message(client, family_a, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert Thread.objects.filter(subject="Absence").exists()
    item = OutboxItem.objects.get()
    assert item.state == OutboxItem.State.PENDING and item.attempts == 1
    assert "ConnectionRefusedError" in item.last_error
    assert item.next_attempt_at == timezone.now() + datetime.timedelta(minutes=1)

    # Too early for the next attempt: nothing is tried.
    assert outbox.deliver_due(now=timezone.now() + datetime.timedelta(seconds=30)) == 0
    item.refresh_from_db()
    assert item.attempts == 1

    # Still down a minute later: the next wait doubles.
    later = timezone.now() + datetime.timedelta(minutes=1)
    assert outbox.deliver_due(now=later) == 0
    item.refresh_from_db()
    assert item.attempts == 2 and item.next_attempt_at == later + datetime.timedelta(minutes=2)

    # The mail server is back.
    mail_server_down.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert outbox.deliver_due(now=later + datetime.timedelta(minutes=2)) == 1
    assert outbox.deliver_due(now=later + datetime.timedelta(hours=1)) == 0
    assert [message.to for message in mail.outbox] == [[django_settings.OFFICE_EMAIL]]
    item.refresh_from_db()
    assert item.state == OutboxItem.State.DONE and item.attempts == 3 and item.last_error == ""


def test_the_delay_doubles_up_to_six_hours():
    assert [outbox.backoff(n).total_seconds() / 60 for n in (1, 2, 3, 4, 10)] == [
        1,
        2,
        4,
        8,
        360,
    ]


@pytest.mark.django_db
def test_after_its_last_attempt_a_row_is_failed_until_the_office_retries_it(
    client, family_a, today, mail_server_down, django_capture_on_commit_callbacks
):
    _post_message(client, family_a, django_capture_on_commit_callbacks)
    item = OutboxItem.objects.get()
    now = timezone.now()
    for _ in range(outbox.MAX_ATTEMPTS - 1):
        now += datetime.timedelta(hours=6)
        outbox.deliver_due(now=now)
    item.refresh_from_db()
    assert item.state == OutboxItem.State.FAILED and item.attempts == outbox.MAX_ATTEMPTS
    assert outbox.deliver_due(now=now + datetime.timedelta(days=30)) == 0  # no more attempts

    # The office sees it in the admin and sends it again once the mail server is back.
    mail_server_down.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assistant = UserFactory(is_staff=True)
    assistant.groups.add(Group.objects.get(name="Assistant administratif"))
    staff = Client()
    staff.force_login(assistant)
    listing = staff.get(reverse("admin:common_outboxitem_changelist"))
    page = listing.content.decode()
    assert "En échec" in page and "E-mail du message « Absence »" in page
    assert "ConnectionRefusedError" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse("admin:common_outboxitem_changelist"),
            {"action": "retry_now", ACTION_CHECKBOX_NAME: [item.pk]},
            follow=True,
        )

    assert "1 envoi(s) remis en file" in response.content.decode()
    item.refresh_from_db()
    assert item.state == OutboxItem.State.DONE
    assert [message.to for message in mail.outbox] == [[django_settings.OFFICE_EMAIL]]


@pytest.mark.django_db
def test_an_animateur_cannot_see_or_retry_the_outbox(client, family_a, today):
    animateur = UserFactory(is_staff=True)
    animateur.groups.add(Group.objects.get(name="Animateur"))
    client.force_login(animateur)
    assert client.get(reverse("admin:common_outboxitem_changelist")).status_code == 403


@pytest.mark.django_db
def test_a_password_reset_email_is_sent_through_the_outbox_and_its_link_erased(
    client, today, django_capture_on_commit_callbacks
):
    parent = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": parent.email})

    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == [parent.email] and "/comptes/password/reset/key/" in message.body
    item = OutboxItem.objects.get()
    assert item.sensitive and item.state == OutboxItem.State.DONE
    assert item.args == [] and item.kwargs == {}  # the reset link is not kept
    assert parent.email in item.label


RUNS = []


@shared_task(name="tests.common.slow_notice")
def slow_notice(key):
    """A task that takes its time, so that two deliveries of one row would overlap."""
    time.sleep(0.5)
    RUNS.append((key, threading.get_ident()))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_one_row_at_once_run_it_once():
    """The beat's sweep and the task handed over on commit may reach a row together: the row's
    lock lets one run it; the other finds it taken, then sent."""
    RUNS.clear()
    item = OutboxItem.objects.create(task="tests.common.slow_notice", args=["avis"])

    results = at_once(*[lambda: outbox.deliver(item.pk) for _ in range(4)])

    assert sorted(results) == [False, False, False, True]
    assert len(RUNS) == 1
    item.refresh_from_db()
    assert item.state == OutboxItem.State.DONE and item.attempts == 1
