from celery import shared_task
from django.conf import settings
from django.urls import reverse

from common.emails import absolute_url, send_templated_email

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
