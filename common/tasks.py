"""The outbox's tasks, defined beside it (common.outbox) and listed here for the worker."""

from .outbox import deliver_outbox, send_email, sweep_outbox

__all__ = ["deliver_outbox", "send_email", "sweep_outbox"]
