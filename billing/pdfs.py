"""Every PDF of billing, rendered by WeasyPrint from a template and a small context."""

import gc
from contextlib import contextmanager
from functools import cache

from django.conf import settings
from django.template.loader import render_to_string


@cache
def _font_config():
    """One font configuration per process: building it (fontconfig) costs a good part of a
    one-page document."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@cache
def _parsed_stylesheet():
    from weasyprint import CSS

    return CSS(string=render_to_string("billing/_pdf.css"), font_config=_font_config())


def _stylesheet():
    """The rules every billing document shares (billing/_pdf.css), parsed once per process:
    parsing them again for each document took a twentieth of a one-page invoice's rendering.
    Under DEBUG, read again each time, so that an edit shows without a restart."""
    if settings.DEBUG:
        _parsed_stylesheet.cache_clear()
    return _parsed_stylesheet()


@contextmanager
def _cyclic_collector_paused():
    """Without the cyclic garbage collector while WeasyPrint renders. A one-page document keeps
    some ten thousand objects alive until it is written and leaves most of them in reference
    cycles: run meanwhile, the collector walks them ten times over for nothing and moves them
    to its older generations, whose collections walk the worker's whole heap. Resumed, it frees
    them in its next young collection."""
    if not gc.isenabled():  # paused by the caller, who resumes it
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def render_pdf(template_name: str, context: dict, *, stylesheets=()) -> bytes:
    """The PDF of `template_name` rendered with `context`, styled by its own rules and these
    WeasyPrint stylesheets."""
    from weasyprint import HTML  # imported here: loading WeasyPrint takes a while

    html = render_to_string(template_name, context)
    with _cyclic_collector_paused():
        return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf(
            font_config=_font_config(), stylesheets=list(stylesheets)
        )


def document_pdf(template_name: str, context: dict) -> bytes:
    """The PDF of a billing document: `template_name` extends billing/_pdf_base.html and is
    styled by billing/_pdf.css."""
    return render_pdf(template_name, context, stylesheets=[_stylesheet()])


def invoice_pdf(document) -> bytes:
    """The invoice as the family receives it (a `selectors.InvoiceDocument`)."""
    return document_pdf(
        "billing/invoice_pdf.html",
        {"doc": document, "invoice": document.invoice, "regie": document.regie},
    )


def statement_pdf(statement) -> bytes:
    return document_pdf(
        "billing/statement_pdf.html", {"statement": statement, "regie": statement.regie}
    )


def _certificate_context(certificate) -> dict:
    return {"certificate": certificate, "regie": certificate.regie}


def tax_certificate_html(certificate) -> str:
    """The HTML the certificate's PDF is made from (what it says, without rendering it)."""
    return render_to_string("billing/tax_certificate_pdf.html", _certificate_context(certificate))


def tax_certificate_pdf(certificate) -> bytes:
    return document_pdf("billing/tax_certificate_pdf.html", _certificate_context(certificate))


def credit_note_pdf(note) -> bytes:
    """The credit note (avoir) cancelling an invoice."""
    invoice = note.invoice
    return document_pdf(
        "billing/credit_note_pdf.html", {"note": note, "invoice": invoice, "regie": invoice.regie}
    )


def journal_pdf(journal) -> bytes:
    return document_pdf("billing/journal_pdf.html", {"journal": journal, "regie": journal.regie})
