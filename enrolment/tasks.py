"""Thin Celery tasks of the enrolment app."""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from common.emails import absolute_url, send_templated_email

from . import services
from .models import RequestDocument


@shared_task
def send_replace_link(document_id: int) -> int:
    """E-mail the guardians the single-use link to replace a refused or to-update document."""
    document = (
        RequestDocument.objects.select_related("request__teleservice", "request__family", "request__child",
                                               "document_type")
        .filter(pk=document_id)
        .first()
    )
    if document is None or not document.replace_nonce or not document.needs_replacement:
        return 0  # replaced or decided meanwhile: the link would not work
    request = document.request
    context = {
        "document": document,
        "request": request,
        "replace_url": services.replace_url(document),
        "request_url": absolute_url(request.get_absolute_url()),
        "link_days": settings.ENROLMENT_REPLACE_LINK_DAYS,
    }
    recipients = list(request.family.guardians.values_list("user__email", flat=True))
    return send_templated_email("document_replace", context, recipients)


@shared_task
def purge_enrolment_data() -> dict:
    """Nightly: delete old drafts and the documents of long-decided requests."""
    return services.purge_enrolment_data(now=timezone.now())
