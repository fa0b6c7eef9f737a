"""Parent pages of "Paiements": balances, invoices and their PDF, statement, tax certificate.

Every lookup goes through the family of the signed-in guardian: another family's invoice is a
404, and the pages of a régie show only the family's own invoices, payments and children.
"""

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from families.decorators import family_required

from . import documents, pdfs, selectors
from .forms import PeriodForm
from .invoicing import Biller
from .models import CreditNote, Invoice, Payment, Regie, month_end

INVOICES_PER_PAGE = 24
FIRST_CERTIFICATE_YEAR = 2000


def _regie(slug: str) -> Regie:
    return get_object_or_404(Regie, slug=slug)


def _agenda_url():
    try:
        return reverse("reservations:agenda")
    except NoReverseMatch:
        return ""


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@require_GET
@family_required
def regie_list(request):
    today = timezone.localdate()
    balances = selectors.family_balances(request.family, on=today)
    return render(request, "billing/regie_list.html", {"balances": balances, "today": today})


@require_GET
@family_required
def invoice_list(request, regie):
    regie = _regie(regie)
    invoices = Invoice.objects.for_family(request.family).filter(regie=regie).with_paid()
    page = Paginator(
        invoices.order_by("-period_start", "-issue_date", "-pk"), INVOICES_PER_PAGE
    ).get_page(request.GET.get("page"))
    balance = selectors.family_balance(request.family, regie, on=timezone.localdate())
    return render(
        request, "billing/invoice_list.html", {"regie": regie, "page": page, "balance": balance}
    )


def _family_invoice(request, pk) -> Invoice:
    queryset = Invoice.objects.for_family(request.family).select_related(
        "regie", "replaces", "mandate", "document"
    )
    return get_object_or_404(queryset, pk=pk)


@require_GET
@family_required
def invoice_detail(request, pk):
    document = selectors.invoice_document(_family_invoice(request, pk))
    return render(
        request, "billing/invoice_detail.html", {"doc": document, "invoice": document.invoice}
    )


def _kept_document_response(request, stored, *, what: str, back_url: str):
    """Send a kept document; if its file is missing or altered (logged for the office), a page
    saying so rather than another document."""
    try:
        return documents.response(request, stored, what=what)
    except documents.DocumentUnavailable:
        return render(
            request,
            "billing/document_unavailable.html",
            {"what": what, "back_url": back_url},
            status=503,
        )


@require_GET
@family_required
def invoice_pdf(request, pk):
    """The invoice's PDF as it was issued: the file kept since then (made now if it was not)."""
    invoice = _family_invoice(request, pk)
    return _kept_document_response(
        request,
        documents.invoice_stored_document(invoice),
        what=f"la facture n° {invoice.number}",
        back_url=invoice.get_absolute_url(),
    )


@require_GET
@family_required
def credit_note_pdf(request, pk):
    """The PDF of the credit note that cancelled the invoice `pk`."""
    invoice = _family_invoice(request, pk)
    note = get_object_or_404(CreditNote.objects.select_related("document"), invoice=invoice)
    note.invoice = invoice
    return _kept_document_response(
        request,
        documents.credit_note_stored_document(note),
        what=f"l'avoir n° {note.number}",
        back_url=invoice.get_absolute_url(),
    )


@require_GET
@family_required
def regie_bookings(request, regie):
    """Mes réservations of a régie: what is not invoiced yet, up to the end of this month."""
    regie = _regie(regie)
    today = timezone.localdate()
    draft = Biller(regie).not_invoiced(request.family, today=today)
    return render(
        request,
        "billing/regie_bookings.html",
        {
            "regie": regie,
            "today": today,
            "draft": draft,
            "agenda_url": _agenda_url(),
            "month_end": month_end(today),
        },
    )


def _statement_data(request, regie):
    today = timezone.localdate()
    start, end = selectors.default_statement_period(today)
    form = PeriodForm(
        request.GET if "du" in request.GET else None, initial={"du": start, "au": end}
    )
    if form.is_bound and form.is_valid():
        start, end = form.cleaned_data["du"], form.cleaned_data["au"]
    return form, selectors.statement(request.family, regie, start, end, today=today)


@require_GET
@family_required
def statement(request, regie):
    regie = _regie(regie)
    form, data = _statement_data(request, regie)
    pdf_url = reverse("billing:statement_pdf", args=[regie.slug])
    query = f"?du={data.start.isoformat()}&au={data.end.isoformat()}"
    return render(
        request,
        "billing/statement.html",
        {"regie": regie, "form": form, "statement": data, "pdf_url": pdf_url + query},
    )


@require_GET
@family_required
def statement_pdf(request, regie):
    regie = _regie(regie)
    form, data = _statement_data(request, regie)
    if form.is_bound and not form.is_valid():
        raise Http404("Période invalide")
    return _pdf_response(
        pdfs.statement_pdf(data), f"releve-{regie.slug}-{data.start}-{data.end}.pdf"
    )


@require_GET
@family_required
def tax_certificate_list(request, regie):
    regie = _regie(regie)
    today = timezone.localdate()
    first = (
        Payment.objects.for_family(request.family)
        .filter(invoice__regie=regie)
        .order_by("paid_on")
        .values_list("paid_on", flat=True)
        .first()
    )
    oldest = min(first.year, today.year - 1) if first else today.year - 1
    years = list(range(today.year, oldest - 1, -1))
    return render(
        request,
        "billing/tax_certificate_list.html",
        {"regie": regie, "years": years, "today": today},
    )


@require_GET
@family_required
def tax_certificate(request, regie, year):
    regie = _regie(regie)
    today = timezone.localdate()
    if not FIRST_CERTIFICATE_YEAR <= year <= today.year:
        raise Http404("Année hors de portée")
    data = selectors.tax_certificate(request.family, regie, year, today=today)
    if not documents.certificate_is_closed(year, today=today):
        return _pdf_response(pdfs.tax_certificate_pdf(data), documents.certificate_filename(data))
    return _kept_document_response(
        request,
        documents.certificate_stored_document(data),
        what=f"l'attestation fiscale {year}",
        back_url=reverse("billing:tax_certificate_list", args=[regie.slug]),
    )
