"""E-mails written as templates: `emails/<name>_subject.txt`, `_body.txt` and `_body.html`."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string


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
