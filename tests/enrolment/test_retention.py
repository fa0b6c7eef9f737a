import datetime
import os

import pytest
import time_machine
from django.core.management import call_command

from enrolment import services
from enrolment.models import EnrolmentRequest, RequestDocument
from tests.enrolment.helpers import draft_for, submitted_for

NOW = datetime.datetime(2026, 11, 26, 3, 30, tzinfo=datetime.UTC)


def at(year, month, day):
    return datetime.datetime(year, month, day, 12, tzinfo=datetime.UTC)


@pytest.fixture
def retention(settings):
    settings.ENROLMENT_DRAFT_RETENTION_MONTHS = 6
    settings.ENROLMENT_DOCUMENT_RETENTION_MONTHS = 24


def test_retention_job_deletes_exactly_what_it_should(
    family_a,
    family_b,
    periscolaire,
    alai,
    assistant,
    retention,
    today,
    django_capture_on_commit_callbacks,
):
    """Drafts untouched for 6 months and documents of requests decided over 24 months ago go, files
    included; newer drafts, live requests and recent decisions stay."""
    old_draft = draft_for(family_a, periscolaire, documents=["attestation-caf"])
    recent_draft = draft_for(family_a, alai, documents=["vaccinations"])
    old_closed = submitted_for(family_b, periscolaire)
    for item in old_closed.documents.all():
        services.document_validate(document=item, user=assistant)
    services.enrolment_request_accept(enrolment_request=old_closed, user=assistant, today=today)
    old_refused = submitted_for(family_b, alai)
    services.enrolment_request_refuse(
        enrolment_request=old_refused, user=assistant, reason="Complet"
    )
    EnrolmentRequest.objects.filter(pk=old_draft.pk).update(updated_at=at(2026, 5, 25))
    EnrolmentRequest.objects.filter(pk=recent_draft.pk).update(updated_at=at(2026, 5, 27))
    EnrolmentRequest.objects.filter(pk=old_closed.pk).update(decided_at=at(2024, 11, 20))
    EnrolmentRequest.objects.filter(pk=old_refused.pk).update(decided_at=at(2024, 12, 1))
    old_files = [
        item.file.path
        for item in RequestDocument.objects.filter(request__in=[old_draft, old_closed])
    ]
    kept_files = [
        item.file.path
        for item in RequestDocument.objects.exclude(request__in=[old_draft, old_closed])
    ]

    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        result = services.purge_enrolment_data(now=NOW)
    assert result == {"drafts": 1, "documents": 2}  # the old draft's document goes with the draft
    assert not EnrolmentRequest.objects.filter(pk=old_draft.pk).exists()
    assert EnrolmentRequest.objects.filter(pk=recent_draft.pk).exists()
    assert (
        EnrolmentRequest.objects.get(pk=old_closed.pk).state == "clos"
    )  # the request itself stays
    assert not RequestDocument.objects.filter(request=old_closed).exists()
    assert RequestDocument.objects.filter(request=old_refused).exists()
    assert old_closed.enrolments.exists()
    assert "durée de conservation" in old_closed.events.order_by("pk").last().message
    assert not any(os.path.exists(path) for path in old_files)
    assert all(os.path.exists(path) for path in kept_files)

    assert services.purge_enrolment_data(now=NOW) == {"drafts": 0, "documents": 0}


def test_submitted_requests_are_never_purged(family_a, periscolaire, retention, today):
    """A request sent to the office keeps its documents however old, until it is decided."""
    request = submitted_for(family_a, periscolaire)
    EnrolmentRequest.objects.filter(pk=request.pk).update(updated_at=at(2020, 1, 1))
    assert services.purge_enrolment_data(now=NOW) == {"drafts": 0, "documents": 0}
    assert request.documents.count() == 2


def test_purge_command_reports_what_it_deleted(family_a, periscolaire, retention, capsys, today):
    """purge_enrolment_data runs the same job and says what went."""
    draft = draft_for(family_a, periscolaire)
    EnrolmentRequest.objects.filter(pk=draft.pk).update(updated_at=at(2025, 1, 1))
    call_command("purge_enrolment_data")
    assert "Brouillons supprimés : 1" in capsys.readouterr().out


def test_purge_task_is_scheduled_every_night():
    """The beat schedule lists the purge task, which the Celery app knows."""
    from portail.celery import app

    entry = next(
        item
        for item in app.conf.beat_schedule.values()
        if item["task"] == "enrolment.tasks.purge_enrolment_data"
    )
    assert entry["schedule"].hour == {3}
