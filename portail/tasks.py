"""Thin Celery tasks of the project itself."""

from celery import shared_task
from django.core.management import call_command


@shared_task
def purge_expired_sessions():
    """Delete expired sessions (nightly)."""
    call_command("clearsessions")


@shared_task
def ping():
    """Answer "pong": lets operators and the smoke test check that a worker consumes tasks."""
    return "pong"
