"""Invoicing runs whose worker died: recognised by their heartbeat, shown as interrupted, and
finished by running the month again."""

import datetime
import os
import signal
import subprocess
import sys
import time

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils.html import strip_tags

from billing.invoicing import (
    Biller,
    _issue_batch,
    due_runs,
    invoicing_run,
    mark_interrupted_runs,
)
from billing.models import Invoice, InvoicingRun
from tests.factories import UserFactory

from .conftest import ISSUE_DAY, OCTOBER, book, make_family, school_days

MINUTE = datetime.timedelta(minutes=1)
NOW = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)


def make_run(regie, *, status=InvoicingRun.Status.RUNNING, heartbeat_at=NOW, month=OCTOBER):
    return InvoicingRun.objects.create(
        regie=regie,
        month=month,
        issue_date=ISSUE_DAY,
        status=status,
        started_at=heartbeat_at - 5 * MINUTE,
        heartbeat_at=heartbeat_at,
    )


def runs_table(client) -> str:
    """The table of the admin list of runs, as staff read it (without the filters beside it)."""
    page = client.get(reverse("admin:billing_invoicingrun_changelist")).content.decode()
    start = page.index('<table id="result_list"')
    return page[start : page.index("</table>", start)]


def text(html: str) -> str:
    return " ".join(strip_tags(html).split())


# The threshold -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_a_run_silent_for_longer_than_the_threshold_is_interrupted(regies):
    """A running run whose last sign of life is 9 minutes old is still running; at 11 minutes
    it is interrupted (shown so before the sweep, then recorded so, finished at its heartbeat);
    finished runs are never touched, however old."""
    regie = regies["periscolaire"]
    fresh = make_run(regie, heartbeat_at=NOW - 9 * MINUTE)
    stale = make_run(regie, heartbeat_at=NOW - 11 * MINUTE)
    done = make_run(regie, status=InvoicingRun.Status.DONE, heartbeat_at=NOW - 60 * MINUTE)

    assert fresh.display_status_label(now=NOW) == "En cours"
    assert stale.display_status_label(now=NOW) == "Interrompue"
    assert mark_interrupted_runs(now=NOW) == 1

    for run in (fresh, stale, done):
        run.refresh_from_db()
    assert fresh.status == InvoicingRun.Status.RUNNING and fresh.finished_at is None
    assert stale.status == InvoicingRun.Status.INTERRUPTED
    assert stale.finished_at == stale.heartbeat_at
    assert "relancer la facturation de ce mois termine les familles restantes" in stale.error
    assert done.status == InvoicingRun.Status.DONE
    assert mark_interrupted_runs(now=NOW) == 0


@pytest.mark.django_db
def test_the_threshold_is_a_setting(regies):
    """INVOICING_RUN_STALE_AFTER sets how long a run may stay silent."""
    run = make_run(regies["periscolaire"], heartbeat_at=NOW - 3 * MINUTE)

    with override_settings(INVOICING_RUN_STALE_AFTER=datetime.timedelta(minutes=5)):
        assert mark_interrupted_runs(now=NOW) == 0
    with override_settings(INVOICING_RUN_STALE_AFTER=datetime.timedelta(minutes=2)):
        assert mark_interrupted_runs(now=NOW) == 1
    run.refresh_from_db()
    assert run.status == InvoicingRun.Status.INTERRUPTED


@pytest.mark.django_db
def test_a_batch_brings_back_a_run_taken_for_interrupted(regies, slots):
    """A run taken for interrupted while a batch waited is running again once the batch
    commits, with a fresh heartbeat."""
    regie = regies["periscolaire"]
    family = make_family()
    book(family.children.get(), slots["matin"], datetime.date(2026, 10, 5))
    run = make_run(regie, heartbeat_at=NOW - 11 * MINUTE)
    mark_interrupted_runs(now=NOW)

    with time_machine.travel(NOW, tick=False):
        _issue_batch(Biller(regie), OCTOBER, ISSUE_DAY, [family.pk], run=run, notify=False)

    run.refresh_from_db()
    assert run.status == InvoicingRun.Status.RUNNING and run.error == ""
    assert run.heartbeat_at == NOW and run.invoices_issued == 1


@pytest.mark.django_db
def test_a_new_run_records_stale_runs_first_and_resumes_its_month(regies, slots):
    """Starting a run records the stale runs of every régie as interrupted, and the new run
    resumes the last interrupted run of its own régie and month only."""
    peri, alai = regies["periscolaire"], regies["alai"]
    book(make_family().children.get(), slots["matin"], datetime.date(2026, 10, 5))
    other_regie = make_run(alai, heartbeat_at=NOW - 30 * MINUTE)
    older = make_run(peri, heartbeat_at=NOW - 90 * MINUTE)
    mark_interrupted_runs(now=NOW - 60 * MINUTE)
    latest = make_run(peri, heartbeat_at=NOW - 20 * MINUTE)
    InvoicingRun.objects.filter(pk=latest.pk).update(resumes=older)

    with time_machine.travel(NOW, tick=False):
        run = invoicing_run(regie=peri, month=OCTOBER, today=ISSUE_DAY, notify=False)

    other_regie.refresh_from_db()
    assert other_regie.status == InvoicingRun.Status.INTERRUPTED
    assert run.status == InvoicingRun.Status.DONE and run.invoices_issued == 1
    assert run.resumes == latest
    assert run.heartbeat_at == NOW
    assert list(older.resumed_by.all()) == [latest]
    with time_machine.travel(NOW, tick=False):
        again = invoicing_run(regie=peri, month=OCTOBER, today=ISSUE_DAY, notify=False)
    assert again.resumes is None  # the month's interrupted runs are already resumed


@pytest.mark.django_db
def test_the_night_job_runs_again_a_month_left_interrupted_or_failed(regies):
    """A month whose runs were interrupted or failed is still due; a completed run ends it."""
    peri = regies["periscolaire"]
    make_run(peri, status=InvoicingRun.Status.INTERRUPTED)
    make_run(peri, status=InvoicingRun.Status.FAILED)

    assert (peri, OCTOBER) in due_runs(ISSUE_DAY)
    make_run(peri, status=InvoicingRun.Status.DONE)
    assert (peri, OCTOBER) not in due_runs(ISSUE_DAY)


@pytest.mark.django_db
def test_staff_who_cannot_invoice_read_the_hint_without_the_link(client, regies):
    """An assistant sees an interrupted run and what finishes it, without a link to a form
    that is not theirs; the régisseur gets the link, with the month filled in."""
    run = make_run(regies["periscolaire"], heartbeat_at=NOW - 11 * MINUTE)
    assistant = UserFactory(is_staff=True)
    assistant.groups.add(Group.objects.get(name="Assistant administratif"))
    regisseur = UserFactory(is_staff=True)
    regisseur.groups.add(Group.objects.get(name="Régisseur"))
    launch = reverse("admin:billing_invoicingrun_launch")
    relaunch = f"{launch}?regie={run.regie_id}&amp;mois=2026-10"

    with time_machine.travel(NOW, tick=False):
        client.force_login(assistant)
        page = runs_table(client)
        assert "Interrompue" in page and "En cours" not in page
        assert "Relancer la facturation de ce mois termine les familles restantes" in text(page)
        assert relaunch not in page
        client.force_login(regisseur)
        assert relaunch in runs_table(client)
        form = client.get(launch, {"regie": run.regie_id, "mois": "2026-10"}).content.decode()
    assert '<option value="2026-10" selected>' in form and "Aperçu" in form


# A real worker, killed --------------------------------------------------------------------


def _command(*args):
    """`manage.py generate_invoices …` in its own process, on the test database."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/"
        f"{db['NAME']}",
        "SECRET_KEY": "test-only-key-for-the-invoicing-worker-0123456789abcdef",
        "EMAIL_URL": "memorymail://",
    }
    env.pop("REDIS_URL", None)  # the notices are sent in-process
    return subprocess.Popen(
        [sys.executable, "manage.py", "generate_invoices", *args],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_for(condition, process, *, tries=600, pause=0.05):
    for _ in range(tries):
        if condition():
            return
        if process.poll() is not None:
            pytest.fail(f"the worker ended: {process.stderr.read().decode()}")
        time.sleep(pause)
    pytest.fail("the worker did not get there in time")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_killed_run_is_shown_interrupted_and_running_again_finishes_it(
    client, office, regies, slots
):
    """The worker is killed (SIGKILL) after two batches: the run stays "running" in the
    database, is shown "En cours" while its heartbeat is fresh, then "Interrompue" with what to
    do; running the month again invoices the families left, with gapless numbers and one
    invoice per family."""
    families = [make_family(f"F{index:02d}") for index in range(12)]
    for family in families:
        for day in school_days(OCTOBER, count=2):
            book(family.children.get(), slots["matin"], day)
    regie = regies["periscolaire"]
    issued = Invoice.objects.exclude(number="ATTENTE")

    # Another transaction writes the fifth family's invoice and keeps it open: the worker's
    # third batch waits on it, so the worker is killed while its run is certainly unfinished.
    with transaction.atomic():
        Invoice.objects.create(
            regie=regie,
            family=families[4],
            number="ATTENTE",
            period_start=OCTOBER,
            period_end=datetime.date(2026, 10, 31),
            issue_date=ISSUE_DAY,
            due_date=ISSUE_DAY,
            total_cents=100,
            payer_name="—",
            payer_address="—",
            family_label="—",
        )
        worker = _command(
            "--month", "2026-10", "--regie", "periscolaire", "--today", "2026-11-10",
            "--batch-size", "2",
        )  # fmt: skip
        try:
            _wait_for(lambda: issued.count() == 4, worker)
            run = InvoicingRun.objects.get()
            assert run.status == InvoicingRun.Status.RUNNING
            os.kill(worker.pid, signal.SIGKILL)
        finally:
            if worker.poll() is None:
                worker.kill()
            worker.wait()
            worker.stderr.close()
        transaction.set_rollback(True)

    run.refresh_from_db()
    assert run.status == InvoicingRun.Status.RUNNING  # as the killed worker left it
    assert (run.families_seen, run.invoices_issued, run.finished_at) == (12, 4, None)
    assert sorted(issued.values_list("number", flat=True)) == [
        f"PERI2026{rank:06d}" for rank in range(1, 5)
    ]

    client.force_login(office)
    with time_machine.travel(run.heartbeat_at + 9 * MINUTE, tick=False):
        page = runs_table(client)
    assert "En cours" in page and "Interrompue" not in page
    with time_machine.travel(run.heartbeat_at + 11 * MINUTE, tick=False):
        page = runs_table(client)
        assert "En cours" not in page and "Interrompue" in page
        assert "Relancer la facturation de ce mois termine les familles restantes" in text(page)
        run.refresh_from_db()
        assert run.status == InvoicingRun.Status.INTERRUPTED
        assert run.finished_at == run.heartbeat_at

        call_command(
            "generate_invoices", "--month", "2026-10", "--regie", "periscolaire",
            "--today", "2026-11-10", "--batch-size", "2",
        )  # fmt: skip
        page = runs_table(client)

    rerun = InvoicingRun.objects.exclude(pk=run.pk).get()
    assert rerun.status == InvoicingRun.Status.DONE and rerun.resumes == run
    assert (rerun.families_seen, rerun.invoices_issued, rerun.skipped) == (12, 8, 4)
    numbers = list(Invoice.objects.order_by("number").values_list("number", flat=True))
    assert numbers == [f"PERI2026{rank:06d}" for rank in range(1, 13)]
    assert sorted(
        Invoice.objects.filter(regie=regie, period_start=OCTOBER).values_list(
            "family_id", flat=True
        )
    ) == sorted(family.pk for family in families)
    assert "Reprise par la facturation du" in text(page)
    assert "Reprend la facturation du" in text(page)
    assert "Terminée" in page
