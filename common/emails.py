"""E-mails written as templates: `emails/<name>_subject.txt`, `_body.txt` and `_body.html`; and
batches of them sent over one connection to the mail server (`send_batch`)."""

import logging
import smtplib
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

from .models import SentEmail

logger = logging.getLogger(__name__)

# What the mail server answers about one message while the connection goes on (an address or a
# content it refuses); anything else (a lost connection, a timeout) ends the batch.
MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPResponseException)


def absolute_url(path: str) -> str:
    """An absolute link for e-mails, even when sent by a night job with no request."""
    return settings.SITE_URL + path


def send_templated_email(
    name: str, context: dict, to: list[str], *, reply_to: list[str] | None = None
) -> int:
    """Render and send the e-mail `name` to `to`; returns the number of messages sent."""
    message = render_templated_email(name, context, to, reply_to=reply_to)
    return message.send() if message else 0


def render_templated_email(
    name: str, context: dict, to: list[str], *, reply_to: list[str] | None = None
) -> EmailMultiAlternatives | None:
    """The e-mail `name` to `to`, rendered (None without a recipient)."""
    recipients = [address for address in to if address]
    if not recipients:
        return None
    context = {"site_url": settings.SITE_URL, **context}
    subject = " ".join(render_to_string(f"emails/{name}_subject.txt", context).split())
    text = render_to_string(f"emails/{name}_body.txt", context)
    html = render_to_string(f"emails/{name}_body.html", context)
    message = EmailMultiAlternatives(
        subject, text, settings.DEFAULT_FROM_EMAIL, recipients, reply_to=reply_to
    )
    message.attach_alternative(html, "text/html")
    return message


class BatchIncomplete(Exception):
    """Some e-mails of a batch did not leave; the others are recorded as sent."""


def send_batch(emails: Sequence[tuple[str, EmailMessage | None]]) -> int:
    """Send each `(key, e-mail)` not sent yet under its key, over one connection, and record
    the sent ones (one query to read, one to write, whatever the batch's size). An e-mail the
    server refuses does not stop the others; a lost connection stops the batch. Either way the
    e-mails sent are recorded and BatchIncomplete is raised: the outbox runs the batch again
    later and only the e-mails not recorded leave. Returns how many e-mails were sent.

    The record is written once the connection is done with (or has failed), not after each
    e-mail: a worker killed in the middle of a batch may send that batch's first e-mails again,
    as a worker killed after one e-mail of its own left may send it again."""
    emails = [(key, message) for key, message in emails if message is not None]
    done = set(
        SentEmail.objects.filter(key__in=[key for key, _ in emails]).values_list("key", flat=True)
    )
    todo = [(key, message) for key, message in emails if key not in done]
    if not todo:
        return 0
    sent, refused, lost = [], [], None
    connection = get_connection()
    try:
        connection.open()
        for key, message in todo:
            try:
                connection.send_messages([message])
            except MESSAGE_ERRORS as exc:
                refused.append(f"{', '.join(message.to)} ({type(exc).__name__}: {exc})")
                continue
            except Exception as exc:  # the connection is lost: the rest waits for the retry
                lost = exc
                break
            sent.append(key)
    except Exception as exc:  # the server could not be reached at all
        lost = exc
    finally:
        if sent:
            SentEmail.objects.bulk_create(
                [SentEmail(key=key) for key in sent], ignore_conflicts=True
            )
        try:
            connection.close()
        except Exception:  # the connection died already: nothing to close politely
            logger.debug("Mail connection closed with an error", exc_info=True)
    if refused or lost:
        left = len(todo) - len(sent)
        reasons = "; ".join(refused)
        if lost is not None:
            reasons = f"{reasons}; " if reasons else ""
            reasons += f"connexion perdue ({type(lost).__name__}: {lost})"
        raise BatchIncomplete(f"{len(sent)} e-mail(s) envoyé(s), {left} non envoyé(s) : {reasons}")
    return len(sent)
