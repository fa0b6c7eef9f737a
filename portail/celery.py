"""The Celery application and the one list of periodic jobs (run by exactly one beat)."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portail.settings")

app = Celery("portail")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Every nightly job, in one place. Each is also a management command.
app.conf.beat_schedule = {
    "purge-expired-sessions": {
        "task": "portail.tasks.purge_expired_sessions",
        "schedule": crontab(hour=3, minute=10),
    },
    "purge-enrolment-data": {
        "task": "enrolment.tasks.purge_enrolment_data",
        "schedule": crontab(hour=3, minute=30),
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
}
