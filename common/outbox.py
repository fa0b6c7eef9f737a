"""The outbox: e-mails and tasks that a request promises, delivered once, whatever the broker or
the mail server are doing at that moment.

`enqueue` writes a row in the caller's transaction (nothing is promised if it rolls back); once
that transaction commits, the row is handed to the worker through the broker. If the broker is
unreachable the request does not wait: the row stays "à envoyer" and the beat's sweep
(`deliver_due`, every minute) runs it. Delivery takes the row (a locked, committed claim: two
workers never run one row at once), runs the task by its name and marks the row sent. A failure
is recorded with its error and tried again later (1, 2, 4… minutes, at most every 6 hours);
after MAX_ATTEMPTS the row is "en échec", for the office to retry from the admin. A worker that
dies while running a row leaves it claimed for LEASE, then it is run again: the tasks are safe to
run twice (a notice checks it was not sent, invoicing skips the families already invoiced).

Tasks are named, never imported: common knows no app.
"""

import base64
import datetime
import logging
import threading
import time
from collections.abc import Iterable
from functools import partial

from celery import current_app, shared_task
from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from .cache import redis_known_down
from .models import OutboxItem

logger = logging.getLogger(__name__)

DELIVER_TASK = "common.tasks.deliver_outbox"
EMAIL_TASK = "common.tasks.send_email"
MAX_ATTEMPTS = 15
FIRST_DELAY = datetime.timedelta(minutes=1)
LONGEST_DELAY = datetime.timedelta(hours=6)
SWEEP_BATCH = 500
# A row being run is taken again after this long without an outcome (its worker died).
LEASE = datetime.timedelta(minutes=30)
CLAIMABLE = [OutboxItem.State.PENDING, OutboxItem.State.SENDING]

# After the broker refused a task, requests stop trying it for a while (the sweep catches up):
# one request pays the connection timeout, not every request of the outage.
_broker_lock = threading.Lock()
_broker_down_until = 0.0


def enqueue(task: str, *args, label: str = "", sensitive: bool = False, **kwargs) -> OutboxItem:
    """Promise to run the task named `task` with these (JSON) arguments once the current
    transaction commits."""
    item = OutboxItem.objects.create(
        task=task, args=list(args), kwargs=kwargs, label=label[:200], sensitive=sensitive
    )
    transaction.on_commit(partial(dispatch, [item.pk]))
    return item


def enqueue_many(task: str, calls: Iterable[tuple[Iterable, str]]) -> list[OutboxItem]:
    """One row per (arguments, label) of `calls`, written in one query and handed to the
    worker together."""
    now = timezone.now()
    items = OutboxItem.objects.bulk_create(
        OutboxItem(
            task=task, args=list(args), label=label[:200], created_at=now, next_attempt_at=now
        )
        for args, label in calls
    )
    if items:
        transaction.on_commit(partial(dispatch, [item.pk for item in items]))
    return items


def enqueue_email(message: EmailMessage, *, sensitive: bool = False) -> OutboxItem:
    """Send `message` through the outbox; `sensitive` (a login or reset link): its content is
    erased once sent."""
    recipients = ", ".join(message.to)
    return enqueue(
        EMAIL_TASK,
        email_to_dict(message),
        label=f"E-mail « {message.subject} » à {recipients}",
        sensitive=sensitive,
    )


def email_to_dict(message: EmailMessage) -> dict:
    data = {
        "subject": str(message.subject),
        "body": str(message.body),
        "from_email": message.from_email,
        "to": list(message.to),
        "cc": list(message.cc),
        "bcc": list(message.bcc),
        "reply_to": list(message.reply_to),
        "headers": dict(message.extra_headers),
        "alternatives": [
            [str(content), mimetype] for content, mimetype in getattr(message, "alternatives", [])
        ],
        "attachments": [],
    }
    for attachment in message.attachments:
        filename, content, mimetype = attachment
        raw = content.encode() if isinstance(content, str) else bytes(content)
        data["attachments"].append([filename, base64.b64encode(raw).decode(), mimetype])
    return data


def email_from_dict(data: dict):
    from django.core.mail import EmailMultiAlternatives

    message = EmailMultiAlternatives(
        data["subject"],
        data["body"],
        data.get("from_email") or settings.DEFAULT_FROM_EMAIL,
        data.get("to", []),
        bcc=data.get("bcc", []),
        cc=data.get("cc", []),
        reply_to=data.get("reply_to", []),
        headers=data.get("headers", {}),
    )
    for content, mimetype in data.get("alternatives", []):
        message.attach_alternative(content, mimetype)
    for filename, content, mimetype in data.get("attachments", []):
        message.attach(filename, base64.b64decode(content), mimetype)
    return message


def dispatch(ids: list[int]) -> None:
    """Hand rows to the worker. Never raises and never waits long when the broker is down: the
    rows stay pending and the sweep delivers them."""
    if current_app.conf.task_always_eager:
        deliver_outbox.apply(args=[ids])
        return
    if _broker_known_down():
        logger.info("Broker unavailable: %d outbox item(s) left to the sweep", len(ids))
        return
    try:
        deliver_outbox.apply_async(args=[ids], retry=False, ignore_result=True)
    except Exception:
        _mark_broker_down()
        logger.warning(
            "Broker unavailable: %d outbox item(s) left to the sweep", len(ids), exc_info=True
        )


def _broker_known_down() -> bool:
    # The broker is the cache's Redis: if the cache found it down, do not wait on it again.
    return time.monotonic() < _broker_down_until or (
        settings.CELERY_BROKER_URL == settings.REDIS_URL and redis_known_down()
    )


def _mark_broker_down() -> None:
    global _broker_down_until
    with _broker_lock:
        _broker_down_until = time.monotonic() + settings.OUTBOX_BROKER_RETRY_AFTER


def _task(name: str):
    """The task named `name`. A process that is not a worker (a management command run by cron)
    has not discovered every app's tasks yet: it does so on the first name it does not know."""
    try:
        return current_app.tasks[name]
    except KeyError:
        current_app.loader.import_default_modules()
        return current_app.tasks[name]


def backoff(attempts: int) -> datetime.timedelta:
    """The wait before attempt `attempts + 1`: 1, 2, 4… minutes, at most 6 hours."""
    return min(FIRST_DELAY * 2 ** max(attempts - 1, 0), LONGEST_DELAY)


def _claim(pk: int, now: datetime.datetime) -> OutboxItem | None:
    """Take the row `pk` for this worker if it is due and nobody holds it: one short
    transaction, so that the task itself runs in its own transactions (an invoicing run commits
    batch by batch)."""
    with transaction.atomic():
        item = (
            OutboxItem.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, state__in=CLAIMABLE, next_attempt_at__lte=now)
            .first()
        )
        if item is None:  # sent already, held by another worker, or not due yet
            return None
        item.state = OutboxItem.State.SENDING
        item.attempts += 1
        item.next_attempt_at = now + LEASE  # taken again only if this worker dies
        item.save(update_fields=["state", "attempts", "next_attempt_at"])
    return item


def deliver(pk: int, *, now: datetime.datetime | None = None) -> bool:
    """Run the row `pk` if it is due, once: True if it ran and succeeded."""
    now = now or timezone.now()
    item = _claim(pk, now)
    if item is None:
        return False
    try:
        _task(item.task)(*item.args, **item.kwargs)
    except Exception as exc:
        item.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if item.attempts >= MAX_ATTEMPTS:
            item.state = OutboxItem.State.FAILED
        else:
            item.state = OutboxItem.State.PENDING
            item.next_attempt_at = now + backoff(item.attempts)
        item.save(update_fields=["last_error", "state", "next_attempt_at"])
        logger.warning("Outbox item %s (%s) failed: %s", item.pk, item.task, item.last_error)
        return False
    item.state = OutboxItem.State.DONE
    item.delivered_at = timezone.now()
    item.last_error = ""
    if item.sensitive:
        item.args, item.kwargs = [], {}
    item.save()
    return True


def deliver_due(*, now: datetime.datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """The sweep: run every pending row whose time has come; returns how many succeeded."""
    now = now or timezone.now()
    ids = list(
        OutboxItem.objects.filter(state__in=CLAIMABLE, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(deliver(pk, now=now) for pk in ids)


def retry(items) -> int:
    """Put failed or waiting rows back to run now (the admin's action); rows sent or being sent
    are left alone."""
    ids = list(
        items.filter(state__in=[OutboxItem.State.PENDING, OutboxItem.State.FAILED]).values_list(
            "pk", flat=True
        )
    )
    OutboxItem.objects.filter(pk__in=ids).update(
        state=OutboxItem.State.PENDING, next_attempt_at=timezone.now()
    )
    if ids:
        transaction.on_commit(partial(dispatch, ids))
    return len(ids)


# The tasks (common.tasks lists them for the worker's discovery) ------------------------------


@shared_task(name=DELIVER_TASK, ignore_result=True)
def deliver_outbox(ids: list[int]) -> int:
    """Deliver rows handed over on commit."""
    return sum(deliver(pk) for pk in ids)


@shared_task(name="common.tasks.sweep_outbox", ignore_result=True)
def sweep_outbox() -> int:
    """The beat's sweep, every minute."""
    return deliver_due()


@shared_task(name=EMAIL_TASK)
def send_email(message: dict) -> int:
    """Send an e-mail written by a request; an error from the mail server is raised, so the
    row is tried again later."""
    return email_from_dict(message).send()
