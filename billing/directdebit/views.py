"""Parent pages of direct debit: the mandate of a régie (or how to ask for one) and its
revocation. Lookups go through the signed-in family: another family's mandate is a 404."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from billing.models import Invoice, Payment, Regie
from enrolment.models import EnrolmentRequest
from families.decorators import family_required

from . import services
from .models import Mandate


@require_GET
@family_required
def direct_debit(request, regie):
    """Prélèvement automatique of a régie: the active mandate with its programmed invoices, or
    what stands in the way of one and where to ask for it; a régie that offers no direct
    debit says so, and nothing else."""
    regie = get_object_or_404(Regie, slug=regie)
    today = timezone.localdate()
    family = request.family
    mandates = list(Mandate.objects.filter(family=family, regie=regie).select_related("revoked_by"))
    active = next((mandate for mandate in mandates if mandate.is_active), None)
    context = {
        "regie": regie,
        "today": today,
        "mandate": active,
        "revoked": [mandate for mandate in mandates if not mandate.is_active],
        "notice_days": settings.DIRECT_DEBIT_NOTICE_DAYS,
    }
    if active is not None:
        context["programmed"] = list(
            Invoice.objects.for_family(family)
            .filter(mandate=active, status=Invoice.Status.DIRECT_DEBIT)
            .order_by("debit_date", "number")
        )
        context["collected"] = list(
            Payment.objects.for_family(family)
            .filter(invoice__mandate=active, means=Payment.Means.DIRECT_DEBIT)
            .select_related("invoice")
            .order_by("-paid_on", "-pk")[:12]
        )
    elif not mandates and not services.offers_direct_debit(regie):
        context["not_offered"] = True
    else:
        teleservice = services.open_teleservice(regie, today)
        requests = EnrolmentRequest.objects.for_family(family).filter(
            kind=services.KIND, teleservice__direct_debit_regie__regie=regie
        )
        pending = (
            requests.filter(
                state__in=[EnrolmentRequest.State.DRAFT, EnrolmentRequest.State.SUBMITTED]
            )
            .order_by("-created_at")
            .first()
        )
        context.update(
            # After a revocation a new request can be filed (a new mandate, another account).
            teleservice=teleservice,
            pending_request=pending,
            hold=services.held_reasons([pending]).get(pending.pk) if pending else None,
            unsettled=services.unsettled_invoices(family, regie),
        )
    return render(request, "billing/mandate_detail.html", context)


def _family_mandate(request, pk) -> Mandate:
    return get_object_or_404(
        Mandate.objects.filter(family=request.family).select_related("regie"), pk=pk
    )


@require_http_methods(["GET", "POST"])
@family_required
def mandate_revoke(request, pk):
    """GET: what revoking changes, to confirm; POST: revokes the mandate."""
    mandate = _family_mandate(request, pk)
    if request.method == "POST":
        try:
            released = services.mandate_revoke(
                mandate=mandate, by=request.user, today=timezone.localdate()
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            text = f"Votre mandat {mandate.rum} est révoqué : plus aucun prélèvement ne sera fait."
            if released:
                numbers = ", ".join(invoice.number for invoice in released)
                text += (
                    f" Les factures {numbers} ne seront pas prélevées : réglez-les avant leur "
                    "date limite, par carte bancaire ou au guichet."
                    if len(released) > 1
                    else f" La facture {numbers} ne sera pas prélevée : réglez-la avant le "
                    f"{released[0].due_date:%d/%m/%Y}, par carte bancaire ou au guichet."
                )
            messages.success(request, text)
        return redirect("billing:direct_debit", mandate.regie.slug)
    today = timezone.localdate()
    programmed = list(
        Invoice.objects.for_family(request.family)
        .filter(mandate=mandate, status=Invoice.Status.DIRECT_DEBIT, sepa_batch__isnull=True)
        .order_by("debit_date", "number")
    )
    for invoice in programmed:
        invoice.due_if_revoked = services.released_due_date(invoice, today)
    return render(
        request,
        "billing/mandate_revoke.html",
        {"mandate": mandate, "regie": mandate.regie, "programmed": programmed},
    )
