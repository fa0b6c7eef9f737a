"""`make bench`: time the portal's pages against a seeded volume, next to a one-query floor.

Runs on the configured database (DATABASE_URL, SQLite when unset) without touching it: like
Django's test runner, it creates a throwaway test database, migrates it, seeds it with
`seed_bench` ("today" pinned) and destroys it at the end. Each scenario is requested through
Django's test Client a few times to warm up, once under CaptureQueriesContext to count its
queries, then `--runs` times, in rounds that interleave the scenarios, to time it. The table
gives the median and p90 wall time, the queries of one request and the ratio of the median to
the floor's (a bare authenticated view with one query of its own); bench/results.json keeps the
same data. A CPU check (pure Python, before and after) says how fast the machine was.

    python bench/run.py [--families 300] [--today 2026-11-26] [--runs 30] [-k home] [--jobs-only]

Adding a scenario is one line in SCENARIOS. Night jobs (JOBS) are timed once after the
scenarios, on the volume they ask for (seeded first, untimed), with their query counts.
"""

import argparse
import datetime
import gc
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS_PATH = Path(__file__).with_name("results.json")

DEMO_PARENT = "parent@example.org"
FLOOR_PATH = "/__bench__/plancher/"  # served by bench/urls.py only


@dataclass(frozen=True)
class Scenario:
    """One measured request. `url`, `data` and `user` may be callables, resolved after seeding.
    `reset`, if any, runs before every request, untimed: it puts back what the previous request
    changed (e.g. deletes the bookings it created), so that each request does the same work."""

    name: str
    url: str | Callable[[], str]
    user: str | Callable[[], str] | None = None  # e-mail of the signed-in user; None: anonymous
    method: str = "get"
    data: dict | Callable[[], dict] | None = None
    status: int = 200  # anything else stops the bench
    reset: Callable[[], None] | None = None
    # For a write: what was refused, if anything (None: it was done); a refusal stops the bench.
    verify: Callable[[object], str | None] | None = None

    def resolve(self):
        url = self.url() if callable(self.url) else self.url
        data = self.data() if callable(self.data) else self.data
        return url, data


FLOOR = Scenario("floor (1 query)", FLOOR_PATH, user=DEMO_PARENT)

SCENARIOS = [
    Scenario("landing (anonymous)", "/"),
    Scenario("home (demo parent)", "/", user=DEMO_PARENT),
    Scenario("foyer (demo parent)", "/foyer/", user=DEMO_PARENT),
    Scenario(
        "échanges, 200 threads (page 1)", "/echanges/", user="parent00001.1@bench.example.org"
    ),
    Scenario("Mes demandes, 50 requests", "/demandes/", user="parent00001.1@bench.example.org"),
    Scenario(
        "Mes demandes, one request (demo parent)",
        lambda: _first_request_url(DEMO_PARENT),
        user=DEMO_PARENT,
    ),
    Scenario(
        "échanges, one thread (demo parent)",
        lambda: _first_thread_url(DEMO_PARENT),
        user=DEMO_PARENT,
    ),
    Scenario("Paiements, both régies' balances (demo parent)", "/paiements/", user=DEMO_PARENT),
    Scenario("Mes factures (demo parent)", "/paiements/periscolaire/factures/", user=DEMO_PARENT),
    Scenario(
        "invoice PDF, kept file (demo parent)",
        lambda: _latest_invoice(DEMO_PARENT).get_pdf_url(),
        user=DEMO_PARENT,
    ),
    Scenario(
        "invoice PDF, first download: render and keep",
        lambda: _latest_invoice(DEMO_PARENT).get_pdf_url(),
        user=DEMO_PARENT,
        reset=lambda: _forget_invoice_pdf(DEMO_PARENT),
    ),
    Scenario("agenda, month page (demo parent)", lambda: _agenda().month_url(), user=DEMO_PARENT),
    Scenario("agenda, day panel (demo parent)", lambda: _agenda().day_url(), user=DEMO_PARENT),
    Scenario(
        "agenda, day panel save: book one créneau",
        lambda: _agenda().day_url(),
        user=DEMO_PARENT,
        method="post",
        data=lambda: _agenda().day_save_data(),
        status=302,
        reset=lambda: _agenda().day_save_reset(),
        verify=lambda response: _agenda().day_save_refusal(response),
    ),
    Scenario(
        "saisie groupée, whole year, 3 children (preview)",
        "/agenda/saisie-groupee/",
        user=lambda: _agenda().bulk_user(),
        method="post",
        data=lambda: _agenda().bulk_data("apercu"),
    ),
    Scenario(
        "saisie groupée, whole year, 3 children (confirm, ~1,250 bookings)",
        "/agenda/saisie-groupee/",
        user=lambda: _agenda().bulk_user(),
        method="post",
        data=lambda: _agenda().bulk_data("confirmer"),
        reset=lambda: _agenda().bulk_reset(),
        verify=lambda response: _agenda().bulk_refusal(response),
    ),
    Scenario(
        "pointage, one créneau (animateur)",
        lambda: _agenda().attendance_url(),
        user=lambda: _staff_with_totp("animateur@example.org"),
    ),
    Scenario(
        "calendar feed, a school year of bookings (calendar app, no login)",
        lambda: _calendar_feed_url("parent00001.1@bench.example.org"),
    ),
    Scenario(
        "chiffres CAF, the year month by month (régisseur)",
        "/admin/chiffres-caf/?annee=2026&mois=",
        user=lambda: _staff_with_totp("regisseur@example.org"),
    ),
    Scenario(
        "chiffres CAF, CSV of the year (régisseur)",
        "/admin/chiffres-caf/csv/?annee=2026",
        user=lambda: _staff_with_totp("regisseur@example.org"),
    ),
]


@dataclass(frozen=True)
class Job:
    """A night job timed once, after the scenarios, on `families` bench families (the missing
    ones are seeded first, untimed). `run(today)` does the work and returns figures to report."""

    name: str
    run: Callable[[datetime.date], dict]
    families: int = 0
    prepare: Callable[[datetime.date], None] | None = None  # untimed, just before `run`


def _invoicing_job(today):
    """Last month's invoicing of every régie, notifications left out (timed apart below)."""
    from billing.invoicing import BATCH_SIZE, generate_invoices, previous_month

    runs = generate_invoices(
        month=previous_month(today), today=today, notify=False, trigger="bench"
    )
    seen = sum(run.families_seen for run in runs)
    batches = sum(-(-run.families_seen // BATCH_SIZE) for run in runs)
    return {
        "families_seen": seen,
        "invoices_issued": sum(run.invoices_issued for run in runs),
        "batches": batches,
    }


def _notices_prepare(today):
    """The notices of last month's invoices promised as invoicing promises them (one outbox
    row per batch of invoices) and left to the sweep, as when the broker was down."""
    from billing.invoicing import BATCH_SIZE, chunks
    from billing.notices import notify_invoices_issued
    from common.models import OutboxItem

    _ensure_invoiced(today)
    ids = list(_bench_invoices(today).order_by("pk").values_list("pk", flat=True))
    OutboxItem.objects.bulk_create(
        OutboxItem(task=notify_invoices_issued.name, args=[batch])
        for batch in chunks(ids, BATCH_SIZE)
    )


def _notices_job(today):
    """The notice of each of last month's invoices (thread and message in Échanges, e-mail),
    run by the outbox's sweep batch by batch, e-mails included."""
    from django.core import mail

    from common import outbox
    from exchanges.models import Message

    before = Message.objects.count()
    with _mail_to_memory():
        rows = outbox.deliver_due(limit=1_000_000)
        emails = len(mail.outbox)
    notices = Message.objects.count() - before
    return {"invoices": notices, "emails": emails, "outbox_rows": rows}


def _mail_to_memory():
    """E-mails kept in memory (django.core.mail.outbox) instead of sent."""
    from django.core import mail
    from django.test.utils import override_settings

    mail.outbox = []
    return override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")


def _bench_invoices(today):
    from billing.invoicing import previous_month
    from billing.models import Invoice

    return Invoice.objects.filter(period_start=previous_month(today), run__trigger="bench")


def _ensure_invoiced(today):
    """The payment jobs work on last month's bench invoices: issue them (untimed) if the
    invoicing job was not selected."""
    if not _bench_invoices(today).exists():
        _invoicing_job(today)


def _reminder_job(today):
    """The reminder e-mails, on the night PAYMENT_REMINDER_DAYS before last month's due date."""
    from django.conf import settings
    from django.core import mail

    from billing.recovery.services import send_payment_reminders

    due = _bench_invoices(today).order_by("due_date").values_list("due_date", flat=True).first()
    night = due - datetime.timedelta(days=settings.PAYMENT_REMINDER_DAYS)
    with _mail_to_memory():
        reminded = send_payment_reminders(today=night)
        emails = len(mail.outbox)
    return {"invoices": len(reminded), "emails": emails}


DEBITED_FAMILIES = 1000


def _sepa_prepare(today):
    """1,000 families of the périscolaire régie under a mandate, last month's invoice programmed."""
    _ensure_invoiced(today)
    from billing.directdebit import services as directdebit
    from billing.directdebit.models import Mandate
    from billing.models import Invoice, Regie
    from common.bulk import insert_rows

    regie = Regie.objects.get(slug="periscolaire")
    if not regie.creditor_ics:
        regie.creditor_ics, regie.creditor_iban = "FR72ZZZ123456", "FR7630006000011234567890189"
        regie.creditor_bic = "AGRIFRPP"
        regie.save()
    invoices = list(
        _bench_invoices(today)
        .filter(regie=regie, status=Invoice.Status.UNPAID)
        .order_by("pk")[:DEBITED_FAMILIES]
    )
    insert_rows(
        Mandate,
        [
            Mandate(
                family_id=invoice.family_id,
                regie=regie,
                rum=f"BENCH-{invoice.family_id}",
                creditor_ics=regie.creditor_ics,
                account_holder=invoice.payer_name[:120],
                iban="FR7630006000011234567890189",
                bic="AGRIFRPP",
                signed_on=datetime.date(2026, 9, 1),
            )
            for invoice in invoices
        ],
    )
    mandates = dict(Mandate.objects.filter(regie=regie).values_list("family_id", "pk"))
    debit_date = directdebit.debit_date_for(invoices[0].issue_date)
    for invoice in invoices:
        invoice.status, invoice.mandate_id = (
            Invoice.Status.DIRECT_DEBIT,
            mandates[invoice.family_id],
        )
        invoice.debit_date = invoice.due_date = debit_date
    Invoice.objects.bulk_update(invoices, ["status", "mandate", "debit_date", "due_date"])


def _sepa_job(today):
    """export_sepa: one batch of the programmed invoices, pain.008 built and checked, paid."""
    from billing.directdebit import services as directdebit
    from billing.directdebit.sepa import create_batch
    from billing.models import Invoice, Regie

    regie = Regie.objects.get(slug="periscolaire")
    latest = (
        Invoice.objects.filter(regie=regie, status=Invoice.Status.DIRECT_DEBIT)
        .order_by("-debit_date")
        .values_list("debit_date", flat=True)
        .first()
    )
    collection = directdebit.next_target_business_day(
        max(latest, today + datetime.timedelta(days=1))
    )
    batch = create_batch(regie=regie, collection_date=collection, today=today)
    return {"debits": batch.invoice_count, "file_kb": round(len(batch.xml) / 1024)}


def _recovery_job(today):
    """switch_to_recovery the night after last month's due date (every bench invoice still
    impayée), each family told in Échanges and by e-mail, as the night job does."""
    from django.core import mail

    from billing.recovery.services import switch_to_recovery

    due = _bench_invoices(today).order_by("-due_date").values_list("due_date", flat=True).first()
    with _mail_to_memory():
        result = switch_to_recovery(today=due + datetime.timedelta(days=1))
        emails = len(mail.outbox)
    return {"invoices": result.count, "emails": emails}


RECONCILED_SESSIONS = 200


def _reconcile_job(today):
    """reconcile_payments: 200 card payments whose webhook never came (half paid, half expired
    at Stripe), asked one by one of a local server playing Stripe's API."""
    from django.core import mail
    from django.test.utils import override_settings
    from django.utils import timezone

    from billing.card.models import CheckoutSession
    from billing.card.services import reconcile_sessions
    from billing.models import Invoice
    from tests.billing import fake_stripe

    fake = fake_stripe.FakeStripe().start()
    try:
        now = timezone.now()
        invoices = list(
            _bench_invoices(today)
            .filter(status=Invoice.Status.UNPAID)
            .order_by("pk")[:RECONCILED_SESSIONS]
        )
        sessions = []
        for rank, invoice in enumerate(invoices):
            session = fake.create_session(
                {"line_items": [{"price_data": {"unit_amount": invoice.total_cents,
                                                "currency": "eur"}, "quantity": 1}],
                 "client_reference_id": str(invoice.pk)}
            )  # fmt: skip
            if rank % 2:
                fake.sessions[session["id"]]["status"] = "expired"
            else:
                fake.pay(session["id"], send=False)
            sessions.append(
                CheckoutSession(
                    invoice=invoice,
                    session_id=session["id"],
                    amount_cents=invoice.total_cents,
                    expires_at=now - datetime.timedelta(minutes=1),
                )
            )
        CheckoutSession.objects.bulk_create(sessions)
        keys = {
            "STRIPE_SECRET_KEY": fake_stripe.SECRET_KEY,
            "STRIPE_WEBHOOK_SECRET": fake_stripe.WEBHOOK_SECRET,
            "STRIPE_API_BASE": fake.url,
        }
        with override_settings(**keys), _mail_to_memory():
            report = reconcile_sessions(now=now)
            emails = len(mail.outbox)
    finally:
        fake.stop()
    return {"sessions": report.checked, "paid": report.paid, "expired": report.expired,
            "emails": emails}  # fmt: skip


SWEPT_EMAILS = 500


def _sweep_prepare(today):
    """500 single e-mails (messages, resets…) left pending by a broker outage."""
    from django.core.mail import EmailMessage

    from common import outbox
    from common.models import OutboxItem

    message = EmailMessage("Nouveau message", "Bonjour,", to=["parent@example.org"])
    OutboxItem.objects.bulk_create(
        OutboxItem(task=outbox.EMAIL_TASK, args=[outbox.email_to_dict(message)])
        for _ in range(SWEPT_EMAILS)
    )


def _sweep_job(today):
    """sweep_outbox: one run of the minute's sweep over what an outage left pending."""
    from common import outbox

    with _mail_to_memory():
        return {"delivered": outbox.deliver_due()}


EXPIRED_SESSIONS = 20_000


def _sessions_prepare(today):
    """20,000 expired sessions, as a month of sign-ins leaves them."""
    from django.utils import timezone

    Session = _session_model()

    expired = timezone.now() - datetime.timedelta(days=1)
    Session.objects.bulk_create(
        Session(session_key=f"bench{index:027d}", session_data="", expire_date=expired)
        for index in range(EXPIRED_SESSIONS)
    )


def _sessions_job(today):
    """purge_expired_sessions (Django's clearsessions)."""
    from portail.tasks import purge_expired_sessions

    Session = _session_model()
    before = Session.objects.count()
    purge_expired_sessions()
    return {"deleted": before - Session.objects.count()}


def _session_model():
    """The model of the sessions' engine (SESSION_ENGINE)."""
    from importlib import import_module

    from django.conf import settings

    return import_module(settings.SESSION_ENGINE).SessionStore.get_model_class()


def _enrolment_purge_job(today):
    """purge_enrolment_data: old drafts and the documents of long-decided requests."""
    from enrolment.tasks import purge_enrolment_data

    return purge_enrolment_data()


def _calendar_job(today):
    """load_calendar: the holidays of the school years around today (monthly)."""
    from reservations.tasks import load_calendar

    return {"school_years": load_calendar()}


# Every job of the beat's schedule (portail/celery.py), plus the SEPA export command.
JOBS = [
    Job("generate_invoices, last month, 5000 families", _invoicing_job, families=5000),
    Job(
        "invoice notices, every invoice of last month (outbox sweep)",
        _notices_job,
        families=5000,
        prepare=_notices_prepare,
    ),
    Job(
        "send_payment_reminders, last month's invoices",
        _reminder_job,
        families=5000,
        prepare=_ensure_invoiced,
    ),
    Job(
        f"reconcile_payments, {RECONCILED_SESSIONS} card payments without webhook",
        _reconcile_job,
        families=5000,
        prepare=_ensure_invoiced,
    ),
    Job(
        f"export_sepa, {DEBITED_FAMILIES} programmed invoices",
        _sepa_job,
        families=5000,
        prepare=_sepa_prepare,
    ),
    Job(
        "switch_to_recovery, last month's unpaid invoices, families told",
        _recovery_job,
        families=5000,
        prepare=_ensure_invoiced,
    ),
    Job(
        f"sweep_outbox, {SWEPT_EMAILS} pending e-mails",
        _sweep_job,
        families=5000,
        prepare=_sweep_prepare,
    ),
    Job(
        f"purge_expired_sessions, {EXPIRED_SESSIONS} expired",
        _sessions_job,
        families=5000,
        prepare=_sessions_prepare,
    ),
    Job("purge_enrolment_data", _enrolment_purge_job, families=5000),
    Job("load_calendar", _calendar_job, families=5000),
]


def _agenda():
    from bench import agenda  # the agenda's scenarios: URLs, data and resets

    return agenda


def _first_thread_url(email):
    from exchanges.models import Thread

    return (
        Thread.objects.filter(family__guardians__user__email=email)
        .order_by("-pk")
        .first()
        .get_absolute_url()
    )


def _first_request_url(email):
    from enrolment.models import EnrolmentRequest

    return (
        EnrolmentRequest.objects.filter(family__guardians__user__email=email)
        .order_by("-pk")
        .first()
        .get_absolute_url()
    )


def _staff_with_totp(email):
    """A staff member whose account an authenticator app protects, as the admin requires
    outside DEBUG; returns the e-mail."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(email=email)
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, generate_totp_secret())
    return email


def _calendar_feed_url(email):
    """The feed address of the family's child with the most bookings."""
    from django.db.models import Count
    from django.urls import reverse

    from families.models import Child
    from reservations.feeds import feed_for, feed_token

    child = (
        Child.objects.filter(family__guardians__user__email=email)
        .annotate(n=Count("bookings"))
        .order_by("-n", "pk")
        .first()
    )
    feed = feed_for(child=child, family=child.family)
    return reverse("reservations:calendar_feed", args=[feed_token(feed)])


def _latest_invoice(email):
    from billing.models import Invoice

    return Invoice.objects.filter(family__guardians__user__email=email).order_by("-pk").first()


def _forget_invoice_pdf(email):
    """The latest invoice back to "PDF not made yet" (its kept file stays on disk, unused)."""
    from billing.models import Invoice

    Invoice.objects.filter(pk=_latest_invoice(email).pk).update(document=None)


class BenchFailure(Exception):
    pass


def parse_args(argv):
    """The command line's options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--families", type=int, default=300, help="bench families (default 300)")
    parser.add_argument(
        "--today",
        type=datetime.date.fromisoformat,
        default=datetime.date(2026, 11, 26),
        help="the pinned date, YYYY-MM-DD (default 2026-11-26)",
    )
    parser.add_argument("--runs", type=int, default=30, help="timed requests per scenario")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests first")
    parser.add_argument(
        "-k",
        dest="keyword",
        default="",
        help="only the scenarios and jobs whose name contains this",
    )
    parser.add_argument(
        "--jobs-only", action="store_true", help="time the night jobs, no page but the floor"
    )
    args = parser.parse_args(argv)
    if args.runs < 2 or args.warmup < 0 or args.families < 0:
        parser.error("--runs must be 2 or more, --warmup and --families 0 or more")
    return args


def configure_environment():
    """Production-like settings (DEBUG off), tasks in-process, whatever the developer's .env says."""
    sys.path.insert(0, str(ROOT))  # the project, also when run as `python bench/run.py`
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portail.settings")
    os.environ["DEBUG"] = "0"  # DEBUG on would log every query and skew every timing
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-never-used-to-sign-anything-real")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ["REDIS_URL"] = ""  # Celery tasks run eagerly; the cache is in-process


def main(argv=None):
    """Run the bench, print its tables and write bench/results.json; the exit status."""
    args = parse_args(argv)
    configure_environment()

    import django

    django.setup()

    from django.db import connection

    started = time.perf_counter()
    scenarios = [FLOOR] + [
        s for s in SCENARIOS if args.keyword.lower() in s.name.lower() and not args.jobs_only
    ]
    jobs = [job for job in JOBS if args.keyword.lower() in job.name.lower()]
    job_results = []
    cpu_before = cpu_check_ms()
    try:
        results = run_in_test_database(scenarios, args, jobs, job_results)
    except BenchFailure as exc:
        print(f"bench failed: {exc}", file=sys.stderr)
        return 1
    cpu_after = cpu_check_ms()

    floor_median = results[0]["median_ms"]
    for result in results:
        result["ratio_to_floor"] = round(result["median_ms"] / floor_median, 1)
    print_table(results)
    print(
        f"CPU check (a million additions in pure Python, best of 5): {cpu_before:.1f} ms before,"
        f" {cpu_after:.1f} ms after"
    )
    print_jobs(job_results)
    report = {
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "database": connection.vendor,
        "families": args.families,
        "today": args.today.isoformat(),
        "runs": args.runs,
        "warmup": args.warmup,
        "python": platform.python_version(),
        "django": django.get_version(),
        "cpu_check_ms": [cpu_before, cpu_after],
        "scenarios": results,
        "jobs": job_results,
    }
    RESULTS_PATH.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    log(f"results written to {RESULTS_PATH.relative_to(ROOT)}; whole bench", started)
    return 0


def run_in_test_database(scenarios, args, jobs=(), job_results=None) -> list[dict]:
    """Create, migrate and seed a throwaway database, measure `scenarios` (then time `jobs`,
    appending their results to `job_results`), then drop it."""
    import time_machine
    from django.conf import settings
    from django.test.utils import teardown_test_environment

    now = datetime.datetime.combine(
        args.today, datetime.time(10, 0), tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE)
    )
    setup_untraced_test_environment()
    scratch = tempfile.TemporaryDirectory(prefix="portail-bench-")
    try:
        with time_machine.travel(now, tick=True):
            return measure_in_scratch_database(scenarios, args, jobs, job_results, scratch.name)
    finally:
        teardown_test_environment()
        scratch.cleanup()


def setup_untraced_test_environment():
    """Django's test environment (the Client needs it), with templates rendered as in
    production."""
    from django.template import Template
    from django.test.utils import setup_test_environment

    render = Template._render
    setup_test_environment()
    # The test environment instruments template rendering so that the Client can copy every
    # context into response.context; production renders without it, so the bench does too.
    Template._render = render


def bench_settings(scratch_dir: str):
    """The settings the measured requests run under: the bench URLconf (with the floor), no
    HTTPS redirect, static files served without a collectstatic run."""
    from django.conf import settings
    from django.test.utils import override_settings

    return override_settings(
        ROOT_URLCONF="bench.urls",
        SECURE_SSL_REDIRECT=False,
        STATIC_ROOT=scratch_dir,  # WhiteNoise warns when the directory is missing
        # The manifest storage would need a collectstatic run first; the plain one builds the
        # same kind of URL.
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    )


def measure_in_scratch_database(scenarios, args, jobs, job_results, scratch_dir) -> list[dict]:
    """Create and migrate the test database, seed it, measure `scenarios` and time `jobs`, then
    destroy it, whatever happened."""
    from django.db import connection
    from django.urls import clear_url_caches

    from bench.seeding import seed_bench

    old_name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        # A file, like the developer's database, rather than the test runner's in-memory one.
        connection.settings_dict["TEST"]["NAME"] = str(Path(scratch_dir) / "bench.sqlite3")
    step = time.perf_counter()
    test_name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    log(f"test database {test_name} ({connection.vendor}) migrated", step)
    try:
        step = time.perf_counter()
        seed_bench(families=args.families, today=args.today)
        analyze()
        log(f"{args.families} bench families seeded for {args.today}", step)
        with bench_settings(scratch_dir):
            clear_url_caches()
            results = measure(scenarios, runs=args.runs, warmup=args.warmup)
        if jobs:
            job_results.extend(measure_jobs(jobs, args))
        return results
    finally:
        clear_url_caches()
        connection.creation.destroy_test_db(old_name, verbosity=0)


def analyze():
    """Gather the planner's statistics of the freshly seeded tables, as autovacuum keeps them
    on a running database (PostgreSQL; the seed filled them in one transaction just now)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def measure_jobs(jobs: list[Job], args) -> list[dict]:
    """Seed the volume the jobs need (untimed), then run each job once, timed, counting its
    queries."""
    from django.db import connection

    from bench.seeding import seed_bench

    families = max(job.families for job in jobs)
    if families > args.families:
        step = time.perf_counter()
        seed_bench(families=families, today=args.today)
        analyze()
        log(f"{families} bench families seeded for the jobs", step)
    results = []
    for job in jobs:
        if job.prepare:
            job.prepare(args.today)
        gc.collect()
        queries = QueryCounter()
        with connection.execute_wrapper(queries):
            start = time.perf_counter()
            figures = job.run(args.today)
            seconds = time.perf_counter() - start
        result = {
            "name": job.name,
            "families": max(families, args.families),
            "seconds": round(seconds, 2),
            "queries": queries.count,
            **figures,
        }
        if figures.get("invoices"):
            result["queries_per_invoice"] = round(queries.count / figures["invoices"], 3)
        results.append(result)
    return results


class QueryCounter:
    """Counts the queries run through a connection (connection.execute_wrapper), however many."""

    count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def print_jobs(results):
    """One line per night job: its time, queries and figures."""
    print()
    for r in results:
        figures = ", ".join(
            f"{k} {v}" for k, v in r.items() if k not in {"name", "seconds", "queries"}
        )
        print(f"{r['name']}: {r['seconds']:.1f} s, {r['queries']} queries ({figures})")


def measure(scenarios: list[Scenario], *, runs: int, warmup: int) -> list[dict]:
    """Warm up each scenario and count its queries, then time `runs` rounds of all of them.

    Each round requests every scenario once: a busy moment of the machine then slows all of
    them alike instead of one, and the ratios to the floor hold.
    """
    prepared = [_prepare(scenario, warmup=warmup) for scenario in scenarios]
    timings = [[] for _ in prepared]
    gc.collect()
    for _ in range(runs):
        for scenario, (request, _), samples in zip(scenarios, prepared, timings, strict=True):
            if scenario.reset:
                scenario.reset()
            start = time.perf_counter()
            response = request()
            samples.append((time.perf_counter() - start) * 1000)
            check_done(scenario, response)  # untimed
    return [
        {
            **result,
            "median_ms": round(statistics.median(samples), 2),
            "p90_ms": round(statistics.quantiles(samples, n=10)[-1], 2),
        }
        for (_, result), samples in zip(prepared, timings, strict=True)
    ]


def _prepare(scenario: Scenario, *, warmup: int):
    """A function sending the scenario's request (checking its status) and what one request did."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    email = scenario.user() if callable(scenario.user) else scenario.user
    if email:
        client.force_login(get_user_model().objects.get(email=email))
    url, data = scenario.resolve()
    send = getattr(client, scenario.method.lower())

    def request():
        response = send(url, data) if data is not None else send(url)
        if response.status_code != scenario.status:
            raise BenchFailure(
                f"{scenario.name}: {scenario.method.upper()} {url} answered "
                f"{response.status_code}, expected {scenario.status}"
            )
        return response

    reset = scenario.reset or (lambda: None)
    for _ in range(warmup):
        reset()
        check_done(scenario, request())
    reset()
    with CaptureQueriesContext(connection) as queries:
        response = request()
    check_done(scenario, response)
    result = {
        "name": scenario.name,
        "method": scenario.method.upper(),
        "url": url,
        "user": email,
        "status": response.status_code,
        "queries": len(queries),  # read now: the next request resets the query log
    }
    return request, result


def check_done(scenario: Scenario, response) -> None:
    """Stop the bench if a write was refused: a warning or error message for the user (e.g.
    « Complet », « Délai dépassé »), or what the scenario's `verify` finds missing. A bench that
    timed refusals would report the cost of saying no."""
    if scenario.method.lower() == "get":
        return
    from django.contrib.messages import constants, get_messages

    request = getattr(response, "wsgi_request", None)
    said = [
        str(message)
        for message in (get_messages(request) if request is not None else [])
        if message.level >= constants.WARNING
    ]
    refusal = "; ".join(said) or (scenario.verify(response) if scenario.verify else None)
    if refusal:
        raise BenchFailure(f"{scenario.name}: the write was refused ({refusal})")


def print_table(results):
    """The scenarios' table: median and p90 times, queries, ratio to the floor."""
    headers = ("scenario", "median ms", "p90 ms", "queries", "× floor")
    rows = [
        (
            r["name"],
            f"{r['median_ms']:.1f}",
            f"{r['p90_ms']:.1f}",
            str(r["queries"]),
            f"{r['ratio_to_floor']:.1f}",
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells):
        first, *numbers = cells
        return "  ".join(
            [first.ljust(widths[0])]
            + [c.rjust(w) for c, w in zip(numbers, widths[1:], strict=True)]
        )

    print(line(headers))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))


def cpu_check_ms() -> float:
    """The milliseconds a fixed piece of pure Python takes here (the best of 5 runs): the
    machine's speed at the time. Times and ratios from two machines, or from two moments of a
    shared one, compare only together with it: a page's ratio to the floor moves with the speed
    of the CPU against the database's."""
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        total = 0
        for number in range(1_000_000):
            total += number
        best = min(best, time.perf_counter() - start)
    return round(best * 1000, 1)


def log(message, since):
    """Print `message` with the seconds elapsed since `since` on stderr."""
    print(f"{message} in {time.perf_counter() - since:.1f} s", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
