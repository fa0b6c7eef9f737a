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
}
