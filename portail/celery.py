"""The Celery application and the one list of periodic jobs (run by exactly one beat)."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portail.settings")

app = Celery("portail")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()  # each app's tasks.py
# Billing's sub-domains have night jobs of their own; the one-item tasks that send a notice sit
# beside the notice (billing.notices, billing.recovery.reminders).
app.autodiscover_tasks(["billing.card", "billing.recovery"])
app.autodiscover_tasks(["billing"], related_name="notices")
app.autodiscover_tasks(["billing.recovery"], related_name="reminders")

# Every nightly job, in one place. Each is also a management command.
app.conf.beat_schedule = {
    # What requests promised (e-mails, notices) and could not hand to the worker at once, or
    # whose delivery failed and waits for its next attempt.
    "sweep-outbox": {
        "task": "common.tasks.sweep_outbox",
        "schedule": 60.0,
    },
    "purge-expired-sessions": {
        "task": "portail.tasks.purge_expired_sessions",
        "schedule": crontab(hour=3, minute=10),
    },
    "purge-enrolment-data": {
        "task": "enrolment.tasks.purge_enrolment_data",
        "schedule": crontab(hour=3, minute=30),
    },
    # Just after midnight in Paris (the date has turned): the waiting lines whose day is now
    # past the 3-working-day deadline empty, each family told; a second run finds nothing.
    "sweep-waitlist": {
        "task": "reservations.tasks.sweep_waitlist",
        "schedule": crontab(hour=0, minute=20),
    },
    "load-school-calendar": {
        "task": "reservations.tasks.load_calendar",
        "schedule": crontab(day_of_month=1, hour=3, minute=50),
    },
    # Every night: last month's invoices of each régie whose issue day (the 10th) has come and
    # that are not out yet; a second run issues nothing.
    "generate-invoices": {
        "task": "billing.tasks.generate_due_invoices",
        "schedule": crontab(hour=2, minute=30),
    },
    # Card payments whose webhook never came are settled from Stripe's record, before the switch
    # to recovery looks at what is still impayée. A second run finds nothing to do.
    "reconcile-payments": {
        "task": "billing.card.tasks.reconcile_payments",
        "schedule": crontab(hour=0, minute=40),
    },
    # Every night, just after midnight in Paris (the date has turned): invoices still impayée
    # after their due date go to "mise en recouvrement"; then the reminders of invoices due
    # within PAYMENT_REMINDER_DAYS. Each claims its invoices: a second run sends nothing.
    "switch-to-recovery": {
        "task": "billing.recovery.tasks.switch_overdue_to_recovery",
        "schedule": crontab(hour=1, minute=15),
    },
    "send-payment-reminders": {
        "task": "billing.recovery.tasks.send_due_payment_reminders",
        "schedule": crontab(hour=1, minute=30),
    },
}
