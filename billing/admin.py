"""The régisseur's workplace: régies, tariffs, invoicing runs, invoices (payment at the counter,
cancellation with a credit note, reissue), payments, credit notes and the journal of money
collected. Invoices and payments are read-only here: they change only through the services."""

import csv
import datetime
import re

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.views.decorators.http import require_POST
from simple_history.admin import SimpleHistoryAdmin

from billing import columns
from common import outbox
from common.admin import ReadOnlyAdmin, ReadOnlyMixin, ReadOnlyTabularInline, change_link, csv_safe
from common.dates import month_name
from common.money import format_cents
from exchanges.admin import related_threads

from . import documents, pdfs, selectors, services

# The sub-domains' admin pages register with the same site: card payment (sessions, Stripe
# events, payment issues), direct debit (mandates, SEPA batches, rejections) and recovery.
from .card import admin as card_admin  # noqa: F401
from .directdebit import admin as directdebit_admin
from .directdebit.forms import RegieForm
from .forms import CancelForm, PaymentForm, PeriodForm, RunForm
from .invoicing import add_months, invoicing_preview, mark_interrupted_runs
from .models import (
    CreditNote,
    Invoice,
    InvoiceLine,
    InvoicingRun,
    Payment,
    Regie,
    RegieActivity,
    Tariff,
    TariffBracket,
    month_end,
    month_start,
)
from .recovery.admin import RecoveryListMixin, recovery_list_url
from .tariffs import grid_errors
from .tasks import generate_month_invoices


def _euros(cents):
    return format_cents(cents)


# Régies ---------------------------------------------------------------------------------------


class RegieActivityInline(admin.TabularInline):
    model = RegieActivity
    extra = 0
    verbose_name_plural = "activités facturées (chaque activité relève d'une seule régie)"


@admin.register(Regie)
class RegieAdmin(admin.ModelAdmin):
    form = RegieForm  # checks the SEPA creditor details (ICS, IBAN, BIC)
    list_display = ["name", "code", "slug", "issue_day", "payment_delay_days", "tools"]
    readonly_fields = ["slug", "invoice_prefix"]
    inlines = [RegieActivityInline]
    fieldsets = [
        (None, {"fields": ["name", "slug", "code", "invoice_prefix", "position"]}),
        (
            "Identité sur les documents",
            {
                "fields": [
                    "issuer",
                    "address",
                    "siret",
                    "regisseur_name",
                    "phone",
                    "email",
                    "payment_instructions",
                ]
            },
        ),
        ("Facturation", {"fields": ["issue_day", "payment_delay_days", "billing_start"]}),
        (
            "Prélèvement SEPA",
            {
                "fields": ["creditor_ics", "creditor_iban", "creditor_bic"],
                "description": "Facultatif tant que le prélèvement n'est pas proposé.",
            },
        ),
    ]

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    @admin.display(description="outils")
    def tools(self, obj):
        return format_html(
            '<a href="{}">Facturer un mois</a> · <a href="{}">Journal des encaissements</a>'
            ' · <a href="{}">Mises en recouvrement</a>',
            launch_url(obj),
            reverse("admin:billing_regie_journal", args=[obj.pk]),
            recovery_list_url(obj),
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/facturer/", view(self.run_view), name="billing_regie_run"),
            path("<int:pk>/journal/", view(self.journal_view), name="billing_regie_journal"),
            *super().get_urls(),
        ]

    def run_view(self, request, pk):
        """The former « Facturer un mois » of a régie: the runs' own page, this régie chosen."""
        if not request.user.has_perm(RUN_PERMISSION):
            raise PermissionDenied
        regie = get_object_or_404(Regie, pk=pk)
        return HttpResponseRedirect(launch_url(regie, request.GET.get("mois", "")))

    def journal_view(self, request, pk):
        if not request.user.has_perm("billing.view_journal"):
            raise PermissionDenied
        regie = get_object_or_404(Regie, pk=pk)
        today = timezone.localdate()
        last_paid = Payment.objects.filter(invoice__regie=regie, paid_on__lte=today).aggregate(
            last=Max("paid_on")
        )["last"]
        start, end = journal_period(today, last_paid)
        form = PeriodForm(
            request.GET if "du" in request.GET else None, initial={"du": start, "au": end}
        )
        if form.is_bound and form.is_valid():
            start, end = form.cleaned_data["du"], form.cleaned_data["au"]
        data = selectors.journal(regie, start, end)
        export = request.GET.get("format")
        filename = f"journal-encaissements-{regie.slug}-{start}-{end}"
        if export == "csv":
            response = HttpResponse(content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
            response.write("\ufeff")  # lets spreadsheet software read the accents
            writer = csv.writer(response, delimiter=";")
            for row in selectors.journal_csv_rows(data):
                writer.writerow([csv_safe(cell) for cell in row])
            return response
        if export == "pdf":
            response = HttpResponse(pdfs.journal_pdf(data), content_type="application/pdf")
            response["Content-Disposition"] = f'inline; filename="{filename}.pdf"'
            return response
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Journal des encaissements — {regie.name}",
            "form": form,
            "journal": data,
            "query": f"du={start.isoformat()}&au={end.isoformat()}",
            "last_paid": last_paid,
            "last_month": month_name(last_paid) if last_paid else "",
            "last_period": _period_query(month_start(last_paid), month_end(last_paid))
            if last_paid
            else "",
            "shortcuts": [
                ("30 derniers jours", _period_query(*journal_period(today, None))),
                ("Ce mois-ci", _period_query(month_start(today), today)),
                (
                    "Le mois dernier",
                    _period_query(add_months(today, -1), month_start(today) - ONE_DAY),
                ),
            ],
        }
        return TemplateResponse(request, "admin/billing/journal.html", context)


JOURNAL_DAYS = 30
ONE_DAY = datetime.timedelta(days=1)


def journal_period(today: datetime.date, last_paid: datetime.date | None):
    """(start, end) the journal opens on: the last JOURNAL_DAYS days up to `today` when money
    came in then (or never), otherwise the month of the last payment (`last_paid`): never an
    empty page while the régie has collected something."""
    start = today - datetime.timedelta(days=JOURNAL_DAYS - 1)
    if last_paid is None or last_paid >= start:
        return start, today
    return month_start(last_paid), month_end(last_paid)


def _period_query(start: datetime.date, end: datetime.date) -> str:
    return urlencode({"du": start.isoformat(), "au": end.isoformat()})


# Tariffs --------------------------------------------------------------------------------------


class BracketFormSet(BaseInlineFormSet):
    def clean(self):
        super().clean()
        rows = [
            (form.cleaned_data["qf_min"], form.cleaned_data.get("qf_max"))
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("qf_min") is not None
        ]
        errors = grid_errors(rows)
        if errors:
            raise ValidationError(errors)


class TariffBracketInline(admin.TabularInline):
    model = TariffBracket
    formset = BracketFormSet
    extra = 0
    min_num = 1
    fields = ["qf_min", "qf_max", "unit_price_cents", "price"]
    readonly_fields = ["price"]

    @admin.display(description="prix")
    def price(self, obj):
        return _euros(obj.unit_price_cents) if obj.pk else "—"


@admin.register(Tariff)
class TariffAdmin(admin.ModelAdmin):
    list_display = ["slot", "school_year", "regie", "grid", "surcharge"]
    list_filter = ["school_year", "slot__activity"]
    list_select_related = ["slot__activity__regie_link__regie", "school_year"]
    inlines = [TariffBracketInline]

    @admin.display(description="régie")
    def regie(self, obj):
        link = getattr(obj.slot.activity, "regie_link", None)
        return link.regie if link else "— (aucune)"

    @admin.display(description="tarifs par tranche de QF")
    def grid(self, obj):
        return " · ".join(str(bracket) for bracket in obj.brackets.all())

    @admin.display(description="majoration sans réservation")
    def surcharge(self, obj):
        return _euros(obj.walk_in_surcharge_cents)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("brackets")


# Invoicing runs -------------------------------------------------------------------------------


RUN_PERMISSION = "billing.run_invoicing"


def launch_url(regie: Regie | None = None, month: str = "") -> str:
    """The page « Facturer un mois », with the régie and the month chosen when given (a month
    "YYYY-MM" opens its preview)."""
    url = reverse("admin:billing_invoicingrun_launch")
    query = {"regie": regie.pk} if regie else {}
    if re.fullmatch(r"\d{4}-\d{2}", month):
        query["mois"] = month
    return f"{url}?{urlencode(query)}" if query else url


def month_of(month: datetime.date) -> str:
    """ "d'octobre 2026", "de novembre 2026"."""
    name = month_name(month)
    return f"d'{name}" if name[0] in "aeiouy" else f"de {name}"


def _run_state(run: InvoicingRun, *, now, relaunch: bool = False) -> str:
    """The state of a run as staff must read it: a run whose worker stopped is interrupted
    (even before it is recorded so), with what finishes it; a run that finished another says so.
    `relaunch`: the words that say what to do link to the form that does it."""
    status = run.display_status(now=now)
    label, notes = InvoicingRun.Status(status).label, []
    if status == InvoicingRun.Status.INTERRUPTED:
        label = format_html(
            '<img src="{}" alt=""> <strong>{}</strong>', static("admin/img/icon-alert.svg"), label
        )
        resumed = sorted(run.resumed_by.all(), key=lambda later: later.started_at)
        if resumed:
            notes.append(format_html("Reprise par {}.", _run_link(resumed[-1])))
        else:
            what = "Relancer la facturation de ce mois"
            if relaunch:
                url = launch_url(run.regie, f"{run.month:%Y-%m}")
                what = format_html('<a href="{}">{}</a>', url, what)
            notes.append(format_html("{} termine les familles restantes, sans doublon.", what))
    if run.resumes_id:
        notes.append(format_html("Reprend {}.", _run_link(run.resumes)))
    notes = format_html_join("", '<div class="help">{}</div>', ((note,) for note in notes))
    return format_html("{}{}", label, notes)


def _run_link(run: InvoicingRun) -> str:
    started = timezone.localtime(run.started_at)
    return change_link(
        "billing.invoicingrun", run.pk, f"la facturation du {started:%d/%m/%Y à %H:%M}"
    )


@admin.register(InvoicingRun)
class InvoicingRunAdmin(ReadOnlyAdmin):
    list_display = [
        "regie",
        "month_label",
        "state",
        "families_seen",
        "invoices_issued",
        "skipped",
        "amount",
        "issue_date",
        "started_at",
        "finished_at",
        "trigger",
    ]
    list_filter = ["regie", "status", "month"]
    list_select_related = ["regie", "resumes"]
    fields = [
        "regie",
        "month_label",
        "state",
        "families_seen",
        "invoices_issued",
        "skipped",
        "amount",
        "issue_date",
        "started_at",
        "heartbeat_at",
        "finished_at",
        "trigger",
        "error",
    ]

    def changelist_view(self, request, extra_context=None):
        # Runs whose worker stopped are recorded as interrupted before staff read (or filter)
        # the list.
        mark_interrupted_runs(now=timezone.now())
        extra_context = {
            **(extra_context or {}),
            "can_launch": request.user.has_perm(RUN_PERMISSION),
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("facturer/", view(self.launch_view), name="billing_invoicingrun_launch"),
            *super().get_urls(),
        ]

    def launch_view(self, request):
        """« Facturer un mois »: choose the régie and the month, read the preview of what would
        be issued (and what would not, and why), then confirm: the run goes to the worker."""
        if not request.user.has_perm(RUN_PERMISSION):
            raise PermissionDenied
        today = timezone.localdate()
        data = request.POST if request.method == "POST" else request.GET
        form = RunForm(data if "mois" in data else None, today=today)
        previews = []
        if form.is_bound and form.is_valid():
            month = form.cleaned_data["mois"]
            previews = [
                invoicing_preview(regie=regie, month=month, today=today) for regie in form.regies()
            ]
            if request.method == "POST":
                if any(preview.is_early for preview in previews) and not form.cleaned_data["early"]:
                    form.add_error(
                        "early", "Cochez cette case pour émettre les factures avant la date prévue."
                    )
                elif any(preview.blocking for preview in previews):
                    form.add_error(
                        None, "Saisissez d'abord les tarifs manquants : la facturation échouerait."
                    )
                else:
                    self._launch(request, month, [preview.regie for preview in previews])
                    return HttpResponseRedirect(reverse("admin:billing_invoicingrun_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Facturer un mois",
            "form": form,
            "previews": previews,
            "month_of": month_of(form.cleaned_data["mois"]) if previews else "",
            "early": any(preview.is_early for preview in previews),
            "blocked": any(preview.blocking for preview in previews),
        }
        return TemplateResponse(request, "admin/billing/invoicingrun/launch.html", context)

    def _launch(self, request, month, regies):
        """Hand the run of each régie to the worker, once this request commits (the outbox)."""
        trigger = f"Administration ({request.user.email})"
        for regie in regies:
            outbox.enqueue(
                generate_month_invoices.name,
                regie.pk,
                month.isoformat(),
                trigger,
                label=f"Facturation de {month:%m/%Y} — {regie.name}",
            )
            messages.success(
                request,
                f"Facturation {month_of(month)} lancée — {regie.name} : suivez-la ci-dessous.",
            )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("resumed_by")

    def get_list_display(self, request):
        """The state column links an interrupted run to the form that finishes it, for those
        who may run the invoicing."""
        relaunch = request.user.has_perm("billing.run_invoicing")

        @admin.display(description="état", ordering="status")
        def state(obj):
            return _run_state(obj, now=timezone.now(), relaunch=relaunch)

        return [state if name == "state" else name for name in self.list_display]

    @admin.display(description="état")
    def state(self, obj):
        return _run_state(obj, now=timezone.now())

    @admin.display(description="mois", ordering="month")
    def month_label(self, obj):
        return obj.month_label

    @admin.display(description="montant émis")
    def amount(self, obj):
        return _euros(obj.amount_cents)


# Invoices -------------------------------------------------------------------------------------


class PeriodFilter(admin.SimpleListFilter):
    title = "période"
    parameter_name = "periode"

    def lookups(self, request, model_admin):
        months = (
            Invoice.objects.order_by("-period_start")
            .values_list("period_start", flat=True)
            .distinct()[:24]
        )
        return [(month.strftime("%Y-%m"), month.strftime("%m/%Y")) for month in months]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        try:
            year, month = (int(part) for part in self.value().split("-"))
            return queryset.filter(period_start=datetime.date(year, month, 1))
        except ValueError:
            return queryset.none()


class InvoiceLineInline(ReadOnlyTabularInline):
    model = InvoiceLine
    fields = ["position", "label", "quantity", "unit_price", "amount", "kind"]
    readonly_fields = fields
    verbose_name_plural = "lignes"

    @admin.display(description="prix unitaire")
    def unit_price(self, obj):
        return _euros(obj.unit_price_cents)

    @admin.display(description="montant")
    def amount(self, obj):
        return _euros(obj.amount_cents)


class PaymentInline(ReadOnlyTabularInline):
    model = Payment
    fields = ["paid_on", "amount", "means", "reference", "recorded_by", "recorded_at"]
    readonly_fields = fields
    verbose_name_plural = "paiements"

    @admin.display(description="montant")
    def amount(self, obj):
        return _euros(obj.amount_cents)


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyMixin, RecoveryListMixin, SimpleHistoryAdmin):
    list_display = [
        "number",
        "family_link",
        "regie",
        "period",
        "total",
        "due",
        "status",
        "issue_date",
        "due_date",
    ]
    list_filter = ["regie", PeriodFilter, "status"]
    search_fields = [
        "number",
        "family__name",
        "payer_name",
        "family__guardians__user__email",
        "family__children__last_name",
        "family__children__first_name",
    ]
    list_select_related = ["regie", "family"]
    list_per_page = 50
    inlines = [InvoiceLineInline, PaymentInline]
    fields = [
        "number",
        "regie",
        "family_link",
        "status",
        "period",
        "issue_date",
        "due_date",
        "reminder_sent_at",
        "recovery_date",
        "total",
        "paid",
        "due",
        "payer_name",
        "payer_address",
        "quotient_label",
        "replaces",
        "replaced_by_link",
        "credit_note_link",
        "run",
        "related_threads",
    ]
    readonly_fields = fields
    related_threads = staticmethod(related_threads)  # its Échanges, and « Écrire »

    def get_queryset(self, request):
        return super().get_queryset(request).with_paid()

    @admin.display(description="foyer", ordering="family__name")
    def family_link(self, obj):
        return change_link("families.family", obj.family_id, obj.family_label)

    @admin.display(description="période", ordering="period_start")
    def period(self, obj):
        return obj.period_label

    @admin.display(description="montant", ordering="total_cents")
    def total(self, obj):
        return _euros(obj.total_cents)

    @admin.display(description="déjà payé")
    def paid(self, obj):
        return _euros(obj.paid_cents())

    @admin.display(description="reste à payer")
    def due(self, obj):
        return _euros(obj.due_cents())

    @admin.display(description="remplacée par")
    def replaced_by_link(self, obj):
        new = Invoice.objects.filter(replaces=obj).first()
        if not new:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:billing_invoice_change", args=[new.pk]),
            new.number,
        )

    @admin.display(description="avoir")
    def credit_note_link(self, obj):
        note = CreditNote.objects.filter(invoice=obj).first()
        return f"{note.number} du {note.issue_date:%d/%m/%Y} — {note.reason}" if note else "—"

    def change_view(self, request, object_id, form_url="", extra_context=None):
        invoice = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if invoice is not None:
            user = request.user
            extra_context.update(
                can_record_payment=invoice.is_open and user.has_perm("billing.record_payment"),
                can_cancel=invoice.is_open
                and user.has_perm("billing.cancel_invoice")
                and not invoice.payments.exists(),
                can_record_rejection=directdebit_admin.can_record_rejection(invoice, user),
                can_reissue=invoice.is_cancelled
                and user.has_perm("billing.cancel_invoice")
                and not Invoice.objects.filter(replaces=invoice).exists(),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/paiement/", view(self.payment_view), name="billing_invoice_payment"),
            path("<int:pk>/annuler/", view(self.cancel_view), name="billing_invoice_cancel"),
            path(
                "<int:pk>/reemettre/",
                view(require_POST(self.reissue_view)),
                name="billing_invoice_reissue",
            ),
            path("<int:pk>/pdf/", view(self.pdf_view), name="billing_invoice_pdf"),
            *super().get_urls(),
        ]

    def _invoice(self, request, pk, permission=None) -> Invoice:
        if not self.has_view_permission(request) or (
            permission and not request.user.has_perm(permission)
        ):
            raise PermissionDenied
        return get_object_or_404(Invoice.objects.select_related("regie", "family"), pk=pk)

    def _back(self, invoice):
        return HttpResponseRedirect(reverse("admin:billing_invoice_change", args=[invoice.pk]))

    def _form_page(self, request, invoice, form, title, submit_label, intro=""):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": invoice,
            "title": title,
            "form": form,
            "submit_label": submit_label,
            "intro": intro,
        }
        return TemplateResponse(request, "admin/billing/form_page.html", context)

    def payment_view(self, request, pk):
        invoice = self._invoice(request, pk, "billing.record_payment")
        today = timezone.localdate()
        due = invoice.due_cents()
        initial = {"paid_on": today, "amount": format_cents(due, currency=False)}
        form = PaymentForm(request.POST or None, initial=initial, today=today)
        if request.method == "POST" and form.is_valid():
            try:
                payment = services.payment_record(
                    invoice=invoice,
                    amount_cents=form.cleaned_data["amount"],
                    paid_on=form.cleaned_data["paid_on"],
                    means=form.cleaned_data["means"],
                    reference=form.cleaned_data["reference"],
                    by=request.user,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    f"Paiement de {_euros(payment.amount_cents)} enregistré "
                    f"sur la facture {invoice.number}.",
                )
                return self._back(invoice)
        return self._form_page(
            request,
            invoice,
            form,
            f"Enregistrer un paiement — facture {invoice.number}",
            "Enregistrer le paiement",
            f"Reste à payer : {_euros(due)} ({invoice.family_label}, {invoice.period_label.lower()}).",
        )

    def cancel_view(self, request, pk):
        invoice = self._invoice(request, pk, "billing.cancel_invoice")
        form = CancelForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                note = services.invoice_cancel(
                    invoice=invoice,
                    reason=form.cleaned_data["reason"],
                    by=request.user,
                    today=timezone.localdate(),
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request,
                    f"Facture {invoice.number} annulée par l'avoir {note.number}. "
                    "Vous pouvez la réémettre.",
                )
                return self._back(invoice)
        return self._form_page(
            request,
            invoice,
            form,
            f"Annuler la facture {invoice.number} par un avoir",
            "Annuler la facture et émettre l'avoir",
            f"Montant de l'avoir : {_euros(invoice.total_cents)}. La famille est prévenue. Ce qui "
            "était facturé redevient à facturer : réémettez la facture, ou ce sera régularisé sur "
            "la prochaine facture.",
        )

    def reissue_view(self, request, pk):
        invoice = self._invoice(request, pk, "billing.cancel_invoice")
        try:
            new = services.invoice_reissue(
                invoice=invoice, by=request.user, today=timezone.localdate()
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return self._back(invoice)
        messages.success(request, f"Facture réémise sous le numéro {new.number}.")
        return self._back(new)

    def pdf_view(self, request, pk):
        """The invoice's kept PDF, as the family downloads it. A file missing or altered is
        said on the invoice's page, never replaced by a new rendering."""
        invoice = self._invoice(request, pk)
        stored = documents.invoice_stored_document(invoice)
        try:
            return documents.response(request, stored, what=f"la facture n° {invoice.number}")
        except documents.DocumentUnavailable:
            messages.error(
                request,
                f"Le PDF conservé de la facture {invoice.number} est introuvable ou ne correspond "
                f"plus à son empreinte (SHA-256 {stored.sha256}, fichier {stored.path}) : il "
                "n'est pas envoyé. Restaurez le fichier depuis la sauvegarde.",
            )
            return self._back(invoice)


# Payments and credit notes --------------------------------------------------------------------


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = [
        "paid_on",
        "amount",
        "means",
        "reference",
        "invoice_link",
        "regie",
        "family",
        "recorded_by",
    ]
    list_filter = ["invoice__regie", "means", "paid_on"]
    search_fields = ["invoice__number", "reference", "invoice__family__name"]
    list_select_related = ["invoice__regie", "invoice__family", "recorded_by"]
    date_hierarchy = "paid_on"
    fields = [
        "invoice_link",
        "amount",
        "paid_on",
        "means",
        "reference",
        "recorded_by",
        "recorded_at",
        "allocations_table",
    ]
    readonly_fields = fields

    @admin.display(description="montant", ordering="amount_cents")
    def amount(self, obj):
        return _euros(obj.amount_cents)

    invoice_link = columns.invoice_link

    @admin.display(description="régie")
    def regie(self, obj):
        return obj.invoice.regie

    @admin.display(description="foyer")
    def family(self, obj):
        return obj.invoice.family_label

    @admin.display(description="affectation aux lignes")
    def allocations_table(self, obj):
        parts = obj.allocations.select_related("line").order_by("line__position")
        items = format_html_join(
            "", "<li>{} : {}</li>", ((part.line.label, _euros(part.amount_cents)) for part in parts)
        )
        return format_html("<ul>{}</ul>", items)


@admin.register(CreditNote)
class CreditNoteAdmin(ReadOnlyAdmin):
    list_display = ["number", "issue_date", "amount", "invoice_link", "reason", "created_by"]
    list_filter = ["invoice__regie", "issue_date"]
    search_fields = ["number", "invoice__number", "invoice__family__name"]
    list_select_related = ["invoice", "created_by"]

    @admin.display(description="montant", ordering="amount_cents")
    def amount(self, obj):
        return _euros(obj.amount_cents)

    invoice_link = columns.cancelled_invoice_link
