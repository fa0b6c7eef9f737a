"""Workflows of the exchanges: starting threads, posting messages, reading, notifying families
(one at a time, or a night job's notices by batch)."""

from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction

from common import outbox

from .models import Attachment, Message, Thread


def _teleservice_label(related) -> str:
    """The label shown in the "Téléservice" column: what the related object calls itself."""
    if related is None:
        return ""
    label = getattr(related, "teleservice_label", None)
    return str(label() if callable(label) else label or "")


def _enqueue_email(message: Message):
    from .tasks import send_message_email

    outbox.enqueue(
        send_message_email.name, message.pk, label=f"E-mail du message « {message.thread.subject} »"
    )


@transaction.atomic
def message_post(*, thread: Thread, side: str, body: str, author=None, attachments=()) -> Message:
    """Add a message to `thread` and mark it unread on the other side; e-mails go out on commit."""
    body = (body or "").strip()
    if not body:
        raise ValidationError("Le message ne peut pas être vide.")
    thread = Thread.objects.select_for_update().get(pk=thread.pk)
    message = Message.objects.create(thread=thread, side=side, author=author, body=body)
    for uploaded in attachments:
        uploaded.name = f"document.{uploaded.kind.extension}"  # stored under a random name anyway
        Attachment.objects.create(
            message=message,
            file=uploaded,
            original_name=uploaded.display_name,
            content_type=uploaded.kind.content_type,
            size=uploaded.size,
        )
    thread.last_message_at = message.created_at
    if side == Message.Side.OFFICE:
        thread.family_unread, thread.office_unread = True, False
    else:
        thread.family_unread, thread.office_unread = False, True
    thread.save(update_fields=["last_message_at", "family_unread", "office_unread"])
    _enqueue_email(message)
    return message


@transaction.atomic
def thread_start(
    *, family, subject: str, body: str, side: str, author=None, attachments=(), related=None
) -> Thread:
    """Open a thread with `family` and post its first message."""
    subject = (subject or "").strip()
    if not subject:
        raise ValidationError("Indiquez l'objet du message.")
    thread = Thread.objects.create(
        family=family,
        subject=subject[:200],
        related_type=ContentType.objects.get_for_model(related) if related is not None else None,
        related_id=related.pk if related is not None else None,
        teleservice=_teleservice_label(related)[:200],
    )
    message_post(thread=thread, side=side, body=body, author=author, attachments=attachments)
    thread.refresh_from_db()
    return thread


@transaction.atomic
def notify_family(
    *, family, subject: str, body: str, related=None, new_thread: bool = False
) -> Message:
    """Post an office message to `family` — in the thread of `related` if there is one, else in a
    new thread — and e-mail the guardians once the transaction commits. `new_thread` opens a
    thread of its own (still linked to `related`) for news that deserves its own subject, such as
    a payment received for an invoice whose thread announced it."""
    thread = None
    if related is not None and not new_thread:
        thread = (
            Thread.objects.for_family(family)
            .filter(related_type=ContentType.objects.get_for_model(related), related_id=related.pk)
            .order_by("pk")
            .first()
        )
    if thread is None:
        thread = thread_start(
            family=family, subject=subject, body=body, side=Message.Side.OFFICE, related=related
        )
        return thread.messages.get()
    return message_post(thread=thread, side=Message.Side.OFFICE, body=body)


@dataclass(frozen=True)
class Notice:
    """The office's news for one family: the subject and first message of a new thread about
    `related` (an invoice…)."""

    family: object
    subject: str
    body: str
    related: object = None


@transaction.atomic
def notices_send(notices: list[Notice], *, label: str = "") -> list[Message]:
    """Open one thread per notice, each with the office's message, unread by the family (as
    notify_family does for one), and promise their e-mails as one batch once the transaction
    commits: the same few queries whatever the number of notices."""
    notices = [notice for notice in notices if notice.body.strip()]
    if not notices:
        return []
    types = ContentType.objects.get_for_models(
        *{type(notice.related) for notice in notices if notice.related is not None}
    )
    threads = Thread.objects.bulk_create(
        Thread(
            family=notice.family,
            subject=notice.subject.strip()[:200],
            related_type=types[type(notice.related)] if notice.related is not None else None,
            related_id=notice.related.pk if notice.related is not None else None,
            teleservice=_teleservice_label(notice.related)[:200],
            family_unread=True,
        )
        for notice in notices
    )
    messages = Message.objects.bulk_create(
        Message(thread=thread, side=Message.Side.OFFICE, body=notice.body.strip())
        for thread, notice in zip(threads, notices, strict=True)
    )
    # The thread's last message is its only one (auto_now_add stamped each row on its own).
    for thread, message in zip(threads, messages, strict=True):
        thread.last_message_at = message.created_at
    Thread.objects.bulk_update(threads, ["last_message_at"])
    from .tasks import send_office_message_emails

    outbox.enqueue(
        send_office_message_emails.name,
        [message.pk for message in messages],
        label=label or f"E-mails de {len(messages)} messages du pôle administratif",
    )
    return messages


def thread_mark_read(*, thread: Thread, side: str) -> None:
    """Mark `thread` read for one side (any guardian's reading counts for the whole family)."""
    field = "family_unread" if side == Message.Side.FAMILY else "office_unread"
    if getattr(thread, field):
        Thread.objects.filter(pk=thread.pk).update(**{field: False})
        setattr(thread, field, False)
