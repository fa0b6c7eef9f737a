import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from exchanges.models import Attachment, Message, Thread
from exchanges.services import notify_family, thread_start
from tests.common.test_uploads import png_bytes
from tests.factories import GuardianFactory, UserFactory

pytestmark = pytest.mark.django_db

INLINE = {"messages-TOTAL_FORMS": "0", "messages-INITIAL_FORMS": "0"}


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.OFFICE_EMAIL = "bureau@example.org"
    settings.SITE_URL = "https://portail.example.org"


def office_thread(family, subject="Votre dossier", body="Bonjour, un document manque."):
    return thread_start(family=family, subject=subject, body=body, side=Message.Side.OFFICE)


def test_parent_reads_an_office_message_and_the_badge_drops(client, family_a):
    """An office message is unread (badge 1) until a guardian opens it; then it shows as read."""
    thread = office_thread(family_a)
    client.force_login(family_a.guardians.first().user)
    home = client.get(reverse("home")).content.decode()
    assert '1<span class="visually-hidden"> non lus</span>' in home
    listing = client.get(reverse("exchanges:thread_list")).content.decode()
    assert "Non lu" in listing and "Ouvrir l'échange « Votre dossier »" in listing

    page = client.get(thread.get_absolute_url()).content.decode()
    assert "Bonjour, un document manque." in page
    thread.refresh_from_db()
    assert not thread.family_unread
    assert " non lus</span>" not in client.get(reverse("home")).content.decode()


def test_one_guardian_reading_marks_the_family_side_read(client, family_a):
    """With two guardians, one opening the thread marks it read for both."""
    second = GuardianFactory(family=family_a)
    thread = office_thread(family_a)
    client.force_login(second.user)
    client.get(thread.get_absolute_url())
    client.force_login(family_a.guardians.first().user)
    assert client.get(reverse("home")).context["nav_entries"][0]["count"] == 0


def test_office_message_emails_every_guardian_with_a_link(
    family_a, django_capture_on_commit_callbacks
):
    """Each guardian gets the office's message by e-mail with an absolute link to the thread."""
    second = GuardianFactory(family=family_a)
    with django_capture_on_commit_callbacks(execute=True):
        thread = office_thread(family_a)
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert set(email.to) == {family_a.guardians.first().user.email, second.user.email}
    assert email.subject == "[Portail famille] Nouveau message : Votre dossier"
    assert f"https://portail.example.org/echanges/{thread.pk}/" in email.body
    assert f"https://portail.example.org/echanges/{thread.pk}/" in email.alternatives[0][0]


def test_parent_starts_a_thread_with_an_attachment(
    client, family_a, django_capture_on_commit_callbacks
):
    """A parent writes to the office with a document; the office is e-mailed and sees it unread."""
    client.force_login(family_a.guardians.first().user)
    upload = SimpleUploadedFile("../ordonnance.png", png_bytes())
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("exchanges:thread_create"),
            {"subject": "Absence de Alice", "body": "Alice est malade.", "attachments": [upload]},
        )
    thread = Thread.objects.get()
    assert response.url == thread.get_absolute_url()
    assert thread.office_unread and not thread.family_unread
    attachment = Attachment.objects.get()
    assert attachment.original_name == "ordonnance.png"
    assert "ordonnance" not in attachment.file.name and attachment.file.name.startswith("echanges/")
    assert mail.outbox[-1].to == ["bureau@example.org"]

    download = client.get(attachment.get_absolute_url())
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == png_bytes()


def test_bad_attachment_is_refused_and_nothing_is_saved(client, family_a):
    """An executable disguised as a PDF gives a French error on the form; no thread is created."""
    client.force_login(family_a.guardians.first().user)
    response = client.post(
        reverse("exchanges:thread_create"),
        {
            "subject": "Test",
            "body": "Voici",
            "attachments": [SimpleUploadedFile("a.pdf", b"MZ" + b"\0" * 50)],
        },
    )
    assert response.status_code == 200
    assert "n&#x27;est pas accepté" in response.content.decode()
    assert not Thread.objects.exists() and not Attachment.objects.exists()


def test_empty_reply_is_refused(client, family_a):
    """A reply without text gets a French message and adds nothing."""
    thread = office_thread(family_a)
    client.force_login(family_a.guardians.first().user)
    response = client.post(thread.get_absolute_url(), {"body": "   "})
    assert "Écrivez votre message" in response.content.decode()
    assert thread.messages.count() == 1


def test_notify_family_uses_the_thread_of_the_related_object(family_a, family_b):
    """notify_family posts in the related object's thread when there is one, else opens one."""
    related = family_a.children.first()
    first = notify_family(family=family_a, subject="Demande 12", body="Reçue.", related=related)
    second = notify_family(family=family_a, subject="Demande 12", body="Validée.", related=related)
    assert first.thread_id == second.thread_id
    assert first.thread.family_unread
    other = notify_family(family=family_a, subject="Information", body="Fermeture.")
    assert other.thread_id != first.thread_id
    assert Thread.objects.for_family(family_b).count() == 0


def test_office_replies_from_the_admin(client, family_a):
    """An assistant's reply in the admin posts as the office and marks the thread unread for the family."""
    thread = thread_start(
        family=family_a,
        subject="Question",
        body="Bonjour ?",
        side=Message.Side.FAMILY,
        author=family_a.guardians.first().user,
    )
    assistant = UserFactory(is_staff=True)
    assistant.groups.add(Group.objects.get(name="Assistant administratif"))
    client.force_login(assistant)
    url = reverse("admin:exchanges_thread_change", args=[thread.pk])
    page = client.get(url)
    assert page.status_code == 200 and "Bonjour ?" in page.content.decode()
    thread.refresh_from_db()
    assert not thread.office_unread

    response = client.post(url, {"reply": "Bonjour, c'est noté.", "_continue": "1", **INLINE})
    assert response.status_code == 302
    thread.refresh_from_db()
    assert thread.family_unread
    last = thread.messages.last()
    assert (last.side, last.author, last.body) == ("service", assistant, "Bonjour, c'est noté.")


def test_office_starts_a_thread_from_the_admin(client, family_a):
    """The office opens a thread to a family from the admin with its first message."""
    assistant = UserFactory(is_staff=True)
    assistant.groups.add(Group.objects.get(name="Assistant administratif"))
    client.force_login(assistant)
    response = client.post(
        reverse("admin:exchanges_thread_add"),
        {"family": family_a.pk, "subject": "Rappel", "reply": "Pensez au certificat.", **INLINE},
    )
    assert response.status_code == 302
    thread = Thread.objects.get()
    assert (thread.family, thread.family_unread) == (family_a, True)
    assert thread.messages.get().body == "Pensez au certificat."


def test_thread_list_query_count_does_not_grow(client, family_a, django_assert_max_num_queries):
    """The thread list costs the same number of queries for 3 or 60 threads."""
    client.force_login(family_a.guardians.first().user)
    for index in range(3):
        office_thread(family_a, subject=f"Sujet {index}")
    with django_assert_max_num_queries(12) as few:
        client.get(reverse("exchanges:thread_list"))
    for index in range(57):
        office_thread(family_a, subject=f"Autre {index}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("exchanges:thread_list"))
    assert "Page 1 sur 3" in response.content.decode()
