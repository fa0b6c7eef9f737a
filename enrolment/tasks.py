"""Thin Celery tasks of the enrolment app: each calls one service.

Callers enqueue them once their transaction commits (`transaction.on_commit`); the services never
enqueue them, so this module depends on enrolment.services and not the other way round.
"""

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task
def send_replace_link(document_id: int) -> int:
    """E-mail the guardians the single-use link to replace a refused or to-update document."""
    return services.replace_link_send(document_id=document_id)


@shared_task
def purge_enrolment_data() -> dict:
    """Nightly: delete old drafts and the documents of long-decided requests."""
    return services.purge_enrolment_data(now=timezone.now())
