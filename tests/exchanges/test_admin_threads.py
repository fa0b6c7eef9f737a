"""The office's thread page: the conversation first, oldest to newest, then the reply box with
its single « Envoyer »; every time in Paris time, once; links between a thread and its object."""

import datetime
import html

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.urls import reverse

from common.models import OutboxItem
from enrolment.models import Teleservice
from exchanges.admin import threads_about
from exchanges.models import Message, Thread
from exchanges.services import message_post, thread_start
from tests.enrolment.helpers import make_teleservice, submitted_for
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.SITE_URL = "https://portail.example.org"


@pytest.fixture
def assistant():
    user = UserFactory(is_staff=True, first_name="Claire", last_name="MOREL")
    user.groups.add(Group.objects.get(name="Assistant administratif"))
    return user


def at(hour, minute=0):
    """A pinned clock on TODAY (26/11/2026) at `hour`:`minute` UTC (one hour later in Paris)."""
    return time_machine.travel(
        datetime.datetime(2026, 11, 26, hour, minute, tzinfo=datetime.UTC), tick=False
    )


@pytest.fixture
def thread(family_a):
    """A family's question at 09:00 UTC, the office's answer at 09:30, the family's thanks at
    09:45 (10:00, 10:30 and 10:45 in Paris)."""
    parent = family_a.guardians.first().user
    with at(9):
        thread = thread_start(
            family=family_a,
            subject="Question sur la cantine",
            body="Premier message de la famille.",
            side=Message.Side.FAMILY,
            author=parent,
        )
    with at(9, 30):
        message_post(thread=thread, side=Message.Side.OFFICE, body="Réponse du service.")
    with at(9, 45):
        message_post(thread=thread, side=Message.Side.FAMILY, author=parent, body="Merci beaucoup.")
    return thread


def page_of(client, thread) -> str:
    """The main part of the thread's admin page (without the header's sign-out button)."""
    response = client.get(reverse("admin:exchanges_thread_change", args=[thread.pk]))
    assert response.status_code == 200
    page = html.unescape(response.content.decode())
    return page[page.index("<h1>") :]


def test_the_conversation_comes_first_oldest_to_newest_then_the_reply_box(
    client, assistant, thread
):
    """The messages read from the oldest to the newest, above the reply box, whose only button
    is « Envoyer »."""
    client.force_login(assistant)
    page = page_of(client, thread)
    first = page.index("Premier message de la famille.")
    second = page.index("Réponse du service.")
    third = page.index("Merci beaucoup.")
    reply = page.index('name="reply"')
    assert first < second < third < reply
    assert page.count('type="submit"') == 1 and 'value="Envoyer"' in page
    assert "Enregistrer" not in page and "_addanother" not in page


def test_times_are_shown_once_in_paris_time(client, assistant, thread):
    """A message sent at 09:00 UTC shows 10:00 (Paris), once, and 09:00 nowhere."""
    client.force_login(assistant)
    page = page_of(client, thread)
    assert page.count("26/11/2026 à 10:00") == 1
    assert "09:00" not in page and "9:00" not in page.replace("19:00", "")
    assert page.count("à 10:30") == 1 and page.count("à 10:45") == 1


def test_envoyer_posts_the_reply_and_emails_the_family_through_the_outbox(
    client, assistant, family_a, thread, django_capture_on_commit_callbacks
):
    """« Envoyer » posts the office's message, marks the thread unread for the family and
    e-mails the guardians once, through the outbox; the page comes back with the new message."""
    client.force_login(assistant)
    url = reverse("admin:exchanges_thread_change", args=[thread.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reply": "Le menu est en ligne.", "_save": "Envoyer"})
    assert response.status_code == 302 and response.url == url
    last = thread.messages.last()
    assert (last.side, last.author, last.body) == ("service", assistant, "Le menu est en ligne.")
    thread.refresh_from_db()
    assert thread.family_unread
    assert OutboxItem.objects.filter(task__endswith="send_message_email").count() == 3 + 1
    [email] = mail.outbox
    assert email.to == [family_a.guardians.first().user.email]
    assert "Le menu est en ligne." in email.body
    page = html.unescape(client.get(url).content.decode())
    assert "Votre réponse est envoyée à la famille." in page
    assert page.index("Le menu est en ligne.") < page.index('name="reply"')


def test_an_empty_reply_is_refused_on_the_form(client, assistant, thread):
    """« Envoyer » without text says so on the form and posts nothing."""
    client.force_login(assistant)
    url = reverse("admin:exchanges_thread_change", args=[thread.pk])
    response = client.post(url, {"reply": "  "})
    assert response.status_code == 200
    assert "Écrivez votre réponse." in html.unescape(response.content.decode())
    assert thread.messages.count() == 3


def test_staff_who_may_only_read_see_the_conversation_without_a_reply_box(client, thread):
    """Without the change permission, the conversation shows and no reply box or button."""
    reader = UserFactory(is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_thread"))
    client.force_login(reader)
    page = page_of(client, thread)
    assert "Merci beaucoup." in page
    assert 'name="reply"' not in page and 'type="submit"' not in page


def test_headings_are_written_in_french(client, assistant, thread):
    """« Échange avec la famille », « Échanges », « Nouvel échange »: never « Modification de
    échange », « Sélectionnez l'objet échange » or « Ajouter échange »."""
    client.force_login(assistant)
    page = page_of(client, thread)
    assert "<h1>Échange avec la famille</h1>" in page and "Modification de" not in page
    listing = html.unescape(
        client.get(reverse("admin:exchanges_thread_changelist")).content.decode()
    )
    assert "<h1>Échanges</h1>" in listing and "Sélectionnez" not in listing
    assert "Nouvel échange</a>" in listing and "Ajouter échange" not in listing
    add = html.unescape(client.get(reverse("admin:exchanges_thread_add")).content.decode())
    assert "<h1>Nouvel échange</h1>" in add
    assert "Ajout de échange" not in add and "Ajouter échange" not in add


def test_a_thread_and_its_request_link_to_each_other(client, assistant, family_a, today):
    """The thread page links to the request it is about, and the request's page to the thread."""
    enrolment_request = submitted_for(family_a, make_teleservice(Teleservice.Kind.PERISCOLAIRE))
    thread = thread_start(
        family=family_a,
        subject="Votre demande",
        body="Un document manque.",
        side=Message.Side.OFFICE,
        related=enrolment_request,
    )
    client.force_login(assistant)
    request_url = reverse("admin:enrolment_enrolmentrequest_change", args=[enrolment_request.pk])
    thread_url = reverse("admin:exchanges_thread_change", args=[thread.pk])
    assert f'href="{request_url}"' in page_of(client, thread)
    request_page = html.unescape(client.get(request_url).content.decode())
    assert f'href="{thread_url}"' in request_page


def test_a_thread_started_from_an_object_is_about_it(client, assistant, family_a, family_b, today):
    """« Écrire à la famille à ce sujet » opens the add page filled in; the thread it starts is
    about that object, and an object of another family is refused."""
    enrolment_request = submitted_for(family_a, make_teleservice(Teleservice.Kind.PERISCOLAIRE))
    client.force_login(assistant)
    link = html.unescape(str(threads_about(enrolment_request)))
    add_url = link[link.index(reverse("admin:exchanges_thread_add")) :].split('"')[0]
    form = client.get(add_url)
    assert form.status_code == 200
    assert str(enrolment_request) in html.unescape(form.content.decode())
    payload = {
        "family": family_a.pk,
        "subject": "Au sujet de votre demande",
        "reply": "Bonjour.",
        "related_type": form.context["adminform"].form.initial["related_type"],
        "related_id": enrolment_request.pk,
    }
    refused = client.post(reverse("admin:exchanges_thread_add"), {**payload, "family": family_b.pk})
    assert refused.status_code == 200 and not Thread.objects.exists()
    assert "ne concerne pas ce foyer" in html.unescape(refused.content.decode())
    response = client.post(reverse("admin:exchanges_thread_add"), payload)
    thread = Thread.objects.get()
    assert response.url == reverse("admin:exchanges_thread_change", args=[thread.pk])
    assert thread.related == enrolment_request and thread.teleservice


def test_threads_about_an_invoice_link_each_thread(family_a):
    """The helper the invoice page uses lists each thread about the object with its link."""
    thread = thread_start(
        family=family_a,
        subject="Votre facture",
        body="Bonjour.",
        side=Message.Side.OFFICE,
        related=family_a,  # any model with an admin page works the same way
    )
    block = str(threads_about(family_a))
    assert reverse("admin:exchanges_thread_change", args=[thread.pk]) in block
    assert "Votre facture" in block
