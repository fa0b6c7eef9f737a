"""The PDF of a hand-over list, rendered by billing's WeasyPrint helper."""

from django.utils import timezone

from billing.pdfs import document_pdf

from .models import RecoveryHandover
from .selectors import handover_lines


def handover_pdf(handover: RecoveryHandover) -> bytes:
    """The list as printed for the Trésor Public. Its document dates are the list's own (no
    "now" anywhere): the same list always gives the same bytes."""
    created = timezone.localtime(handover.created_at).replace(microsecond=0)
    return document_pdf(
        "billing/recovery_handover_pdf.html",
        {
            "handover": handover,
            "regie": handover.regie,
            "lines": handover_lines(handover),
            "created": created.isoformat(),
        },
    )
