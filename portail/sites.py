"""The staff's site: Django's admin, whose index is the office's dashboard (portail.dashboard)
and which adds the occupancy of the coming weeks (portail.occupancy). Its headings read in
French (common.admin_titles, from the nouns below) and its models are grouped by the office's
work rather than by application."""

import csv
from dataclasses import replace

from django.apps import apps
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from billing import caf
from billing.forms import CafPeriodForm
from common.admin_titles import FrenchInlineMixin, FrenchTitlesMixin, titles_for

from . import dashboard
from .occupancy import charts, csv_rows, occupancy

OCCUPANCY_PERMISSION = "reservations.view_booking"
CAF_PERMISSION = "billing.view_caf_figures"

# The gender of the noun of each model of the admin and its inlines ("m" or "f"), for
# « Nouveau foyer », « Nouvelle fermeture », « Ajouter une facture »; and, after it, the singular and plural to show instead of a
# third-party model's own verbose names.
NOUNS = {
    "account.EmailAddress": ("f", "adresse e-mail", "adresses e-mail"),
    "accounts.User": ("m",),
    "auth.Group": ("m",),
    "axes.AccessAttempt": ("f",),
    "axes.AccessFailureLog": ("m",),
    "axes.AccessLog": ("f",),
    "billing.CheckoutSession": ("m",),
    "billing.CreditNote": ("m",),
    "billing.DebitRejection": ("m",),
    "billing.DirectDebitTeleservice": ("m",),
    "billing.Invoice": ("f",),
    "billing.InvoiceLine": ("f",),
    "billing.InvoicingRun": ("f",),
    "billing.Mandate": ("m",),
    "billing.Payment": ("m",),
    "billing.PaymentIssue": ("f",),
    "billing.RecoveryHandover": ("m",),
    "billing.Regie": ("f",),
    "billing.RegieActivity": ("f",),
    "billing.SepaBatch": ("m",),
    "billing.StripeEvent": ("m",),
    "billing.Tariff": ("f",),
    "billing.TariffBracket": ("f",),
    "common.OutboxItem": ("m",),
    "enrolment.DocumentType": ("m",),
    "enrolment.Enrolment": ("f",),
    "enrolment.EnrolmentRequest": ("f",),
    "enrolment.Service": ("m",),
    "enrolment.Teleservice": ("m",),
    "enrolment.TeleserviceDocument": ("m",),
    "exchanges.Thread": ("m",),
    "families.Child": ("m",),
    "families.ChildContact": ("f",),
    "families.ChildHousehold": ("m",),
    "families.ChildHouseholdInvitation": ("f",),
    "families.Family": ("m",),
    "families.Guardian": ("m",),
    "families.GuardianEvent": ("m",),
    "families.GuardianInvitation": ("f",),
    "families.School": ("f",),
    "families.SchoolYear": ("f",),
    "mfa.Authenticator": (
        "f",
        "application d'authentification",
        "applications d'authentification",
    ),
    "portail.SitePage": ("f",),
    "reservations.Absence": ("f",),
    "reservations.Activity": ("f",),
    "reservations.Booking": ("f",),
    "reservations.CapacityOverride": ("f",),
    "reservations.Closure": ("f",),
    "reservations.Holiday": ("m",),
    "reservations.Slot": ("m",),
    "reservations.SlotCapacity": ("f",),
    "reservations.WaitlistEntry": ("f",),
}

# The names of the applications whose own are English or repeat another's (breadcrumbs).
APP_NAMES = {
    "account": "Adresses e-mail",
    "axes": "Sécurité des connexions",
    "mfa": "Double authentification",
    "common": "Envois différés",
}

# The sidebar and the index list the models by the office's work, in this order; a model
# left out here comes last, under « Autres ».
SECTIONS = [
    (
        "Familles",
        [
            "families.Family",
            "families.Child",
            "families.ChildHousehold",
            "families.Guardian",
            "families.GuardianInvitation",
            "families.ChildHouseholdInvitation",
            "families.GuardianEvent",
        ],
    ),
    ("Demandes et inscriptions", ["enrolment.EnrolmentRequest", "enrolment.Enrolment"]),
    ("Échanges", ["exchanges.Thread"]),
    (
        "Réservations et pointage",
        ["reservations.Booking", "reservations.WaitlistEntry", "reservations.Absence"],
    ),
    (
        "Facturation",
        [
            "billing.Invoice",
            "billing.Payment",
            "billing.CreditNote",
            "billing.InvoicingRun",
            "billing.RecoveryHandover",
            "billing.PaymentIssue",
            "billing.CheckoutSession",
            "billing.StripeEvent",
        ],
    ),
    (
        "Prélèvement automatique",
        [
            "billing.Mandate",
            "billing.SepaBatch",
            "billing.DebitRejection",
            "billing.DirectDebitTeleservice",
        ],
    ),
    (
        "Paramètres",
        [
            "families.School",
            "families.SchoolYear",
            "enrolment.Service",
            "enrolment.Teleservice",
            "enrolment.DocumentType",
            "reservations.Activity",
            "reservations.Slot",
            "reservations.CapacityOverride",
            "reservations.Closure",
            "reservations.Holiday",
            "billing.Regie",
            "billing.Tariff",
            "portail.SitePage",
            "common.OutboxItem",
        ],
    ),
    (
        "Comptes et sécurité",
        [
            "accounts.User",
            "auth.Group",
            "account.EmailAddress",
            "mfa.Authenticator",
            "axes.AccessAttempt",
            "axes.AccessFailureLog",
            "axes.AccessLog",
        ],
    ),
]
OTHERS = "Autres"


def _titles(model, singular=None):
    gender, *nouns = NOUNS.get(model._meta.label, ("m",))
    default = (singular or model._meta.verbose_name, model._meta.verbose_name_plural)
    singular, plural = nouns or default
    return titles_for(str(singular), str(plural), feminine=gender == "f")


def _french_inline(inline_class):
    """The inline with French links: « Ajouter un enfant » under its rows."""
    if issubclass(inline_class, FrenchInlineMixin):
        return inline_class
    titles = _titles(inline_class.model, inline_class.verbose_name)
    return type(
        inline_class.__name__,
        (FrenchInlineMixin, inline_class),
        {
            "__module__": inline_class.__module__,
            "__qualname__": inline_class.__qualname__,
            "add_another": titles.add_button,
        },
    )


def name_applications():
    """Give the applications of APP_NAMES their French names."""
    for label, name in APP_NAMES.items():
        if label in apps.app_configs:
            apps.get_app_config(label).verbose_name = name


class OfficeAdminSite(admin.AdminSite):
    site_header = "Portail famille — administration"
    site_title = "Portail famille — administration"
    index_title = "Tableau de bord"
    site_url = "/"
    index_template = "admin/dashboard.html"

    def register(self, model_or_iterable, admin_class=None, **options):
        """Register as Django does, each admin without `titles` given French headings built
        from its model's nouns (NOUNS)."""
        models = [model_or_iterable] if isinstance(model_or_iterable, type) else model_or_iterable
        for model in models:
            super().register(model, self._titled(model, admin_class or admin.ModelAdmin), **options)

    @staticmethod
    def _titled(model, admin_class):
        attrs = {
            "__module__": admin_class.__module__,
            "__qualname__": admin_class.__qualname__,
            "inlines": [_french_inline(inline) for inline in admin_class.inlines],
        }
        titles = getattr(admin_class, "titles", None)
        if not titles:
            attrs["titles"] = _titles(model)
        elif not titles.delete_selected:
            attrs["titles"] = replace(titles, delete_selected=_titles(model).delete_selected)
        bases = (admin_class,)
        if not issubclass(admin_class, FrenchTitlesMixin):
            bases = (FrenchTitlesMixin, admin_class)
        return type(admin_class.__name__, bases, attrs)

    def get_app_list(self, request, app_label=None):
        """The sections of SECTIONS, each with the models the user may see; an application's
        own page (app_label) keeps Django's list."""
        if app_label:
            return super().get_app_list(request, app_label)
        by_label = {}
        for app in self._build_app_dict(request).values():
            for model in app["models"]:
                model["name"] = self._plural(model["model"], model["name"])
                by_label[model["model"]._meta.label] = (app, model)
        listed = {label for _title, labels in SECTIONS for label in labels}
        others = sorted(set(by_label) - listed)
        sections = []
        for index, (title, labels) in enumerate([*SECTIONS, (OTHERS, others)], start=1):
            rows = [by_label[label] for label in labels if label in by_label]
            if not rows:
                continue
            first_app = rows[0][0]
            sections.append(
                {
                    "name": title,
                    "app_label": f"rubrique-{index}",
                    "app_url": first_app["app_url"],
                    "has_module_perms": True,
                    "models": [model for _app, model in rows],
                }
            )
        return sections

    @staticmethod
    def _plural(model, name):
        _gender, *nouns = NOUNS.get(model._meta.label, ("m",))
        return nouns[1][:1].upper() + nouns[1][1:] if nouns else name

    def app_index(self, request, app_label, extra_context=None):
        """An application's page, titled with its name alone (Django's « Administration de
        Échanges » misses the elision)."""
        app_config = apps.get_app_config(app_label)
        name = str(app_config.verbose_name)
        context = {"title": name[:1].upper() + name[1:], **(extra_context or {})}
        return super().app_index(request, app_label, context)

    def index(self, request, extra_context=None):
        """The dashboard above the list of applications."""
        today = timezone.localdate()
        context = {
            "today": today,
            "sections": dashboard.sections_for(request.user, today),
            "can_see_occupancy": request.user.has_perm(OCCUPANCY_PERMISSION),
            "can_see_caf": request.user.has_perm(CAF_PERMISSION),
            **(extra_context or {}),
        }
        return super().index(request, context)

    def get_urls(self):
        return [
            path("occupation/", self.admin_view(self.occupancy_view), name="occupancy"),
            path("occupation/csv/", self.admin_view(self.occupancy_csv), name="occupancy_csv"),
            path("chiffres-caf/", self.admin_view(self.caf_view), name="caf"),
            path("chiffres-caf/csv/", self.admin_view(self.caf_csv), name="caf_csv"),
            *super().get_urls(),
        ]

    def occupancy_view(self, request):
        """Places booked against places offered, per créneau, school and week: a chart and
        the table behind it."""
        if not request.user.has_perm(OCCUPANCY_PERMISSION):
            raise PermissionDenied
        data = occupancy(timezone.localdate())
        context = {
            **self.each_context(request),
            "title": "Occupation des quatre prochaines semaines",
            "subtitle": None,
            "occupancy": data,
            "charts": charts(data),
        }
        request.current_app = self.name
        return TemplateResponse(request, "admin/occupancy.html", context)

    def occupancy_csv(self, request):
        """The occupancy table as a CSV file (semicolons, UTF-8 with BOM, for spreadsheets)."""
        # Imported here: common.admin registers with this site, which must exist first.
        from common.admin import csv_safe

        if not request.user.has_perm(OCCUPANCY_PERMISSION):
            raise PermissionDenied
        today = timezone.localdate()
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="occupation-{today}.csv"'
        response.write("\ufeff")  # lets spreadsheet software read the accents
        writer = csv.writer(response, delimiter=";")
        for row in csv_rows(occupancy(today)):
            writer.writerow([csv_safe(cell) for cell in row])
        return response

    @staticmethod
    def _caf_period(request):
        """The period asked for (the last month ended by default) and the form that chose it."""
        today = timezone.localdate()
        data = request.GET if "annee" in request.GET else CafPeriodForm.default_initial(today)
        form = CafPeriodForm(data, today=today)
        if form.is_valid():
            return caf.Period(form.cleaned_data["annee"], form.cleaned_data["mois"]), form
        default = CafPeriodForm.default_initial(today)
        return caf.Period(default["annee"], default["mois"]), form

    def caf_view(self, request):
        """The figures for the CAF (hours booked, attended and invoiced, children welcomed, by
        activity and age group) for a month or a year: a chart and the table."""
        if not request.user.has_perm(CAF_PERMISSION):
            raise PermissionDenied
        period, form = self._caf_period(request)
        data = caf.caf_figures(period)
        context = {
            **self.each_context(request),
            "title": "Chiffres pour la CAF",
            "subtitle": None,
            "form": form,
            "figures": data,
            "chart": caf.chart(data),
            "csv_query": f"annee={period.year}" + (f"&mois={period.month}" if period.month else ""),
        }
        request.current_app = self.name
        return TemplateResponse(request, "admin/caf.html", context)

    def caf_csv(self, request):
        """The CAF figures as a CSV file (semicolons, UTF-8 with BOM, for spreadsheets)."""
        # Imported here: common.admin registers with this site, which must exist first.
        from common.admin import csv_safe

        if not request.user.has_perm(CAF_PERMISSION):
            raise PermissionDenied
        period, _form = self._caf_period(request)
        suffix = f"{period.year}-{period.month:02d}" if period.month else str(period.year)
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="chiffres-caf-{suffix}.csv"'
        response.write("\ufeff")  # lets spreadsheet software read the accents
        writer = csv.writer(response, delimiter=";")
        for row in caf.csv_rows(caf.caf_figures(period)):
            writer.writerow([csv_safe(cell) for cell in row])
        return response
