"""The office's dashboard (the admin's index): what waits for someone, as counts that link to
the admin lists showing the same rows.

Each count is a queryset of the rows its list shows; a count is read only when the signed-in
staff member may view that list, so that nobody learns the size of a list they cannot open.
The counts are read together in one query, the registers and the closures in one each: the
page's queries do not grow with the data. `recovery_to_hand_over` is the single place that says
which invoices still have to go to the Trésor Public.
"""

import datetime
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db import connections
from django.db.models import Count, Q, QuerySet
from django.urls import reverse

from billing.card.models import PaymentIssue
from billing.recovery.selectors import to_hand_over
from enrolment.models import EnrolmentRequest, RequestState, Teleservice
from exchanges.models import Thread
from reservations.models import Booking, Closure

# How far ahead the dashboard looks for closures.
CLOSURES_AHEAD = datetime.timedelta(weeks=4)


# Each label in the singular, for 0 and 1 (« 1 demande dont… », « 0 facture… »): French
# takes the plural from 2 on.
SINGULAR = {
    "demandes dont les justificatifs sont à vérifier": (
        "demande dont les justificatifs sont à vérifier"
    ),
    "demandes en attente d'un justificatif de la famille": (
        "demande en attente d'un justificatif de la famille"
    ),
    "demandes de prélèvement automatique à traiter": (
        "demande de prélèvement automatique à traiter"
    ),
    "échanges non lus par le service": "échange non lu par le service",
    "anomalies de paiement à traiter": "anomalie de paiement à traiter",
    "factures mises en recouvrement à transmettre": "facture mise en recouvrement à transmettre",
    "fermetures dans les quatre semaines à venir": "fermeture dans les quatre semaines à venir",
    "appels non faits aujourd'hui": "appel non fait aujourd'hui",
    "appels non faits demain": "appel non fait demain",
}


@dataclass
class Figure:
    """One figure of the dashboard: how many, of what, and the list that shows them."""

    label: str  # in the plural
    count: int
    url: str
    details: list = field(default_factory=list)  # (text, url) pairs under the figure

    @property
    def text(self) -> str:
        """The label agreed with the count."""
        return self.label if self.count >= 2 else SINGULAR.get(self.label, self.label)


@dataclass
class Section:
    title: str
    counts: list[Figure]


@dataclass(frozen=True)
class Counted:
    """A count to show: the permission to view its list, the rows, the list's URL."""

    section: str
    label: str
    permission: str
    rows: QuerySet
    url: str


def _changelist(name: str, **params) -> str:
    url = reverse(f"admin:{name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


# What is counted ---------------------------------------------------------------------------


def requests_to_review() -> QuerySet:
    """Requests in progress with a document the office has not checked yet."""
    return EnrolmentRequest.objects.filter(state=RequestState.SUBMITTED, needs_review=True)


def direct_debit_requests() -> QuerySet:
    """Direct-debit requests (prélèvement automatique) waiting for the office's decision."""
    return EnrolmentRequest.objects.filter(
        state=RequestState.SUBMITTED, kind=Teleservice.Kind.PRELEVEMENT
    )


def open_payment_issues() -> QuerySet:
    """Payment issues nobody has handled yet."""
    return PaymentIssue.objects.filter(resolved_at__isnull=True)


def recovery_to_hand_over() -> QuerySet:
    """Invoices put in recovery that are on no hand-over list (bordereau) yet, whatever their
    month: the recovery page opens on them."""
    return to_hand_over()


def counted() -> list[Counted]:
    """Every plain count of the dashboard, in the order shown."""
    request_list = "enrolment_enrolmentrequest"
    return [
        Counted(
            "Demandes",
            "demandes dont les justificatifs sont à vérifier",
            "enrolment.view_enrolmentrequest",
            requests_to_review(),
            _changelist(request_list, state__exact=RequestState.SUBMITTED, a_revoir="oui"),
        ),
        Counted(
            "Demandes",
            "demandes en attente d'un justificatif de la famille",
            "enrolment.view_enrolmentrequest",
            EnrolmentRequest.objects.waiting_on_family(),
            _changelist(request_list, a_revoir="famille"),
        ),
        Counted(
            "Demandes",
            "demandes de prélèvement automatique à traiter",
            "enrolment.view_enrolmentrequest",
            direct_debit_requests(),
            _changelist(
                request_list,
                kind=Teleservice.Kind.PRELEVEMENT,
                state__exact=RequestState.SUBMITTED,
            ),
        ),
        Counted(
            "Échanges",
            "échanges non lus par le service",
            "exchanges.view_thread",
            Thread.objects.unread_by_office(),
            _changelist("exchanges_thread", lecture="service"),
        ),
        Counted(
            "Paiements",
            "anomalies de paiement à traiter",
            "billing.view_paymentissue",
            open_payment_issues(),
            _changelist("billing_paymentissue", etat="a-traiter"),
        ),
        Counted(
            "Paiements",
            "factures mises en recouvrement à transmettre",
            "billing.view_invoice",
            recovery_to_hand_over(),
            reverse("admin:billing_invoice_recovery"),  # opens on what is to hand over
        ),
    ]


def count_all(querysets: list[QuerySet]) -> list[int]:
    """The number of rows of each queryset, read in one query (one scalar subquery each)."""
    if not querysets:
        return []
    parts, params = [], []
    for queryset in querysets:
        sql, sql_params = queryset.order_by().values("pk").query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) counted_rows)")
        params.extend(sql_params)
    with connections[querysets[0].db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        return list(cursor.fetchone())


def registers_to_take(days) -> list[dict]:
    """The registers (créneau, school, day) of `days` with bookings and nobody marked yet, in
    one query: dicts with date, slot, slot__label, school, school__name."""
    return list(
        Booking.objects.active()
        .filter(date__in=list(days))
        .values("date", "slot", "slot__label", "slot__start_time", "school", "school__name")
        .annotate(marked=Count("pk", filter=~Q(presence=Booking.Presence.RESERVED)))
        .filter(marked=0)
        .order_by("date", "slot__start_time", "school__name")
    )


def upcoming_closures(today: datetime.date) -> list[Closure]:
    """Closures under way or starting within CLOSURES_AHEAD."""
    return list(
        Closure.objects.filter(end_date__gte=today, start_date__lte=today + CLOSURES_AHEAD)
        .select_related("school", "activity")
        .order_by("start_date", "pk")
    )


# The page ----------------------------------------------------------------------------------


def sections_for(user, today: datetime.date) -> list[Section]:
    """The dashboard's sections for `user`: only the counts whose list they may view."""
    allowed = [item for item in counted() if user.has_perm(item.permission)]
    sections: dict[str, Section] = {}
    for item, count in zip(allowed, count_all([item.rows for item in allowed]), strict=True):
        section = sections.setdefault(item.section, Section(item.section, []))
        section.counts.append(Figure(item.label, count, item.url))
    if user.has_perm("reservations.take_attendance") or user.has_perm("reservations.view_booking"):
        sections["Pointage"] = Section("Pointage", _register_figures(user, today))
    if user.has_perm("reservations.view_closure"):
        closures = upcoming_closures(today)
        url = _changelist(
            "reservations_closure",
            end_date__gte=today.isoformat(),
            start_date__lte=(today + CLOSURES_AHEAD).isoformat(),
        )
        details = [(_closure_text(closure), _change_url(closure)) for closure in closures]
        sections["Calendrier"] = Section(
            "Calendrier",
            [Figure("fermetures dans les quatre semaines à venir", len(closures), url, details)],
        )
    return list(sections.values())


def _register_figures(user, today: datetime.date) -> list[Figure]:
    tomorrow = today + datetime.timedelta(days=1)
    registers = registers_to_take([today, tomorrow])
    can_take = user.has_perm("reservations.take_attendance")
    can_list = user.has_perm("reservations.view_booking")
    figures = []
    for day, label in ((today, "aujourd'hui"), (tomorrow, "demain")):
        rows = [row for row in registers if row["date"] == day]
        if can_list:
            url = _changelist(
                "reservations_booking",
                date=day.isoformat(),
                presence__exact=Booking.Presence.RESERVED,
                status__exact=Booking.Status.VALIDATED,
            )
        else:
            url = reverse("pointage:attendance")
        details = [
            (
                f"{row['slot__label']} — {row['school__name']}",
                _register_url(row) if can_take else "",
            )
            for row in rows
        ]
        figures.append(Figure(f"appels non faits {label}", len(rows), url, details))
    return figures


def _register_url(row) -> str:
    query = urlencode({"ecole": row["school"], "creneau": row["slot"], "date": row["date"]})
    return f"{reverse('pointage:attendance')}?{query}"


def _closure_text(closure: Closure) -> str:
    if closure.start_date == closure.end_date:
        period = f"le {closure.start_date:%d/%m/%Y}"
    else:
        period = f"du {closure.start_date:%d/%m/%Y} au {closure.end_date:%d/%m/%Y}"
    return f"{closure.reason} ({closure.scope_label}), {period}"


def _change_url(obj) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
