"""Card payment pages: the green button's POST, the page Stripe sends the parent back to, and
Stripe's webhook. The invoice becomes paid only from the webhook (or the night's
reconciliation), never from the parent's return."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from billing import stripe_gateway
from billing.models import Invoice
from families.decorators import family_required

from . import services, sessions
from .models import CheckoutSession

logger = logging.getLogger(__name__)

POLL_SECONDS = 3


def _family_invoice(request, pk) -> Invoice:
    return get_object_or_404(
        Invoice.objects.for_family(request.family).select_related("regie"), pk=pk
    )


@require_http_methods(["GET", "POST"])
@family_required
def invoice_pay(request, pk):
    invoice = _family_invoice(request, pk)
    if request.method == "GET":  # a reload or a bookmarked address: the invoice, nothing paid
        return redirect(invoice)
    detail_url = request.build_absolute_uri(invoice.get_absolute_url())
    try:
        session = sessions.payment_start(
            invoice=invoice,
            user=request.user,
            return_url=request.build_absolute_uri(reverse("billing:payment_return", args=[pk])),
            cancel_url=detail_url,
            now=timezone.now(),
        )
    except sessions.PaymentRefused as refusal:
        messages.error(request, str(refusal))
        return redirect(invoice)
    return HttpResponseSeeOther(session.url)


class HttpResponseSeeOther(HttpResponseRedirect):
    """303 See Other: the browser follows with a GET, as Stripe recommends after a POST."""

    status_code = 303


@require_GET
@family_required
def payment_return(request, pk):
    invoice = _family_invoice(request, pk)
    session = None
    session_id = request.GET.get("session_id", "").strip()
    sessions = CheckoutSession.objects.filter(invoice=invoice)
    if session_id:
        session = sessions.filter(session_id=session_id).first()
        if session is None:
            raise Http404("Session de paiement inconnue pour cette facture.")
    else:
        session = sessions.order_by("-created_at", "-pk").first()
    state = services.return_state(invoice, session)
    context = {"invoice": invoice, "session": session, "state": state, "poll": POLL_SECONDS}
    if request.htmx:
        return render(request, "billing/_payment_status.html", context)
    return render(request, "billing/payment_return.html", context)


@csrf_exempt
@login_not_required
@require_POST
def stripe_webhook(request):
    try:
        event = stripe_gateway.construct_event(
            request.body, request.headers.get("Stripe-Signature")
        )
    except stripe_gateway.SignatureError as error:
        if not stripe_gateway.is_configured():
            return HttpResponse("Paiement en ligne non configuré.", status=503)
        logger.warning("Stripe webhook refused: %s", error)
        return HttpResponse("Signature invalide.", status=400)
    new, outcome = services.event_handle(event)
    logger.info("Stripe event %s %s: %s", event.type, event.id, outcome if new else "replay")
    return HttpResponse("ok", content_type="text/plain")
