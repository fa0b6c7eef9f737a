"""The e-mails of new messages: one message's (`send_message_email`), or the office's messages
of a night job by batch (`send_office_message_emails`: one connection to the mail server and a
few queries for the whole batch)."""

from celery import shared_task
from django.conf import settings
from django.urls import reverse

from common.emails import absolute_url, render_templated_email, send_batch, send_templated_email
from families.selectors import guardian_emails

from .models import Message


@shared_task
def send_message_email(message_id: int) -> int:
    """E-mail a new message: to the family's guardians if the office wrote it, else to the office."""
    message = (
        Message.objects.select_related("thread__family", "author").filter(pk=message_id).first()
    )
    if message is None:
        return 0
    thread = message.thread
    context = {"message": message, "thread": thread, "family": thread.family}
    if message.side == Message.Side.OFFICE:
        recipients = list(thread.family.guardians.values_list("user__email", flat=True))
        context["thread_url"] = absolute_url(thread.get_absolute_url())
        return send_templated_email("office_message", context, recipients)
    context["admin_url"] = absolute_url(reverse("admin:exchanges_thread_change", args=[thread.pk]))
    reply_to = [message.author.email] if message.author else None
    return send_templated_email(
        "family_message", context, [settings.OFFICE_EMAIL], reply_to=reply_to
    )


def message_email_key(message_id: int) -> str:
    """The key under which the e-mail of one message is recorded as sent."""
    return f"exchanges.message:{message_id}"


@shared_task
def send_office_message_emails(message_ids: list[int]) -> int:
    """E-mail the guardians of each family the office's message of `message_ids` (the notices
    of a night job), each e-mail once over one connection: see common.emails.send_batch."""
    messages = list(
        Message.objects.filter(pk__in=message_ids, side=Message.Side.OFFICE)
        .select_related("thread__family")
        .order_by("pk")
    )
    recipients = guardian_emails({message.thread.family_id for message in messages})
    return send_batch(
        [
            (
                message_email_key(message.pk),
                render_templated_email(
                    "office_message",
                    {
                        "message": message,
                        "thread": message.thread,
                        "family": message.thread.family,
                        "thread_url": absolute_url(message.thread.get_absolute_url()),
                    },
                    recipients[message.thread.family_id],
                ),
            )
            for message in messages
        ]
    )
