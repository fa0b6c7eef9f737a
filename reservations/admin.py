"""The staff's side of the reservations: calendar, closures, créneaux and capacities, bookings
(with booking and cancelling past the deadline, and occupancy per day), absences. Every change
goes through the same services as the parents' pages."""

import datetime

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from common.admin import ReadOnlyTabularInline
from common.files import serve_private_file
from families.models import School

from . import services, waitlist
from .calendar import days_between, ensure_calendar_around
from .capacity import Capacities, taken_places
from .models import (
    Absence,
    Activity,
    Booking,
    CapacityOverride,
    Closure,
    Holiday,
    Slot,
    SlotCapacity,
    WaitlistEntry,
)


@admin.register(Holiday)
class HolidayAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "start_date", "end_date"]
    list_filter = ["kind"]
    date_hierarchy = "start_date"
    search_fields = ["name"]
    actions = ["load_calendar"]

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "kind":
            kwargs["choices"] = [(Holiday.Kind.SCHOOL, Holiday.Kind.SCHOOL.label)]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def has_change_permission(self, request, obj=None):
        # Public holidays are the law and count the booking deadline: they are not edited.
        if obj is not None and obj.kind == Holiday.Kind.PUBLIC:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.kind == Holiday.Kind.PUBLIC:
            return False
        return super().has_delete_permission(request, obj)

    @admin.action(
        description="Charger les vacances et jours fériés des années autour d'aujourd'hui",
        permissions=["add"],
    )
    def load_calendar(self, request, queryset):
        created = ensure_calendar_around(timezone.localdate())
        self.message_user(
            request, f"{created} période(s) ajoutée(s) ; les années déjà chargées sont inchangées."
        )


class ClosureForm(forms.ModelForm):
    class Meta:
        model = Closure
        fields = ["start_date", "end_date", "school", "activity", "reason"]

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("start_date")
            and cleaned.get("end_date")
            and cleaned["end_date"] < cleaned["start_date"]
        ):
            self.add_error("end_date", "La fin de la fermeture doit suivre son début.")
        return cleaned


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    form = ClosureForm
    list_display = [
        "reason",
        "start_date",
        "end_date",
        "scope",
        "cancelled_bookings",
        "created_by",
        "created_at",
    ]
    list_filter = ["school", "activity"]
    date_hierarchy = "start_date"
    search_fields = ["reason"]
    readonly_fields = ["created_by", "created_at"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("start_date", "end_date"),
                    ("school", "activity"),
                    "reason",
                    ("created_by", "created_at"),
                ],
                "description": "Enregistrer une fermeture annule les réservations des jours concernés, avec "
                "son motif, et prévient chaque famille par un message dans « Échanges ». Ces "
                "réservations ne sont pas facturées. Supprimer une fermeture ne rétablit pas les "
                "réservations annulées.",
            },
        ),
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("school", "activity", "created_by")
            .annotate(n_cancelled=Count("bookings"))
        )

    @admin.display(description="portée")
    def scope(self, obj):
        return obj.scope_label

    @admin.display(description="réservations annulées", ordering="n_cancelled")
    def cancelled_bookings(self, obj):
        return obj.n_cancelled

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        before = Closure.objects.filter(pk=obj.pk).first() if change else None
        super().save_model(request, obj, form, change)
        if before is not None:  # shortened or narrowed: the days it no longer covers reopen
            _closure_lifted(before)
        cancelled = services.closure_apply(closure=obj, by=request.user)
        if cancelled:
            self.message_user(
                request,
                f"{cancelled} réservation(s) annulée(s) ; chaque famille concernée a reçu un message.",
                messages.WARNING,
            )

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _closure_lifted(obj)

    def delete_queryset(self, request, queryset):
        closures = list(queryset)
        super().delete_queryset(request, queryset)
        for closure in closures:
            _closure_lifted(closure)


def _closure_lifted(closure: Closure) -> None:
    """The places of the days a closure covered (or no longer covers) go to the children
    waiting for them, if any (in the admin's transaction)."""
    waitlist.refill(
        today=timezone.localdate(),
        school_ids=[closure.school_id] if closure.school_id else None,
        slot_ids=list(closure.activity.slots.values_list("pk", flat=True))
        if closure.activity_id
        else None,
        start=closure.start_date,
        end=closure.end_date,
    )


def _capacity_raised(*, slot_id, school_id=None, day=None) -> None:
    """A capacity changed: free places go to the children waiting for them, if any."""
    waitlist.refill(
        today=timezone.localdate(),
        slot_ids=[slot_id],
        school_ids=[school_id] if school_id else None,
        start=day or timezone.localdate(),
        end=day,
    )


class SlotCapacityInline(admin.TabularInline):
    model = SlotCapacity
    extra = 0


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["name", "service", "position"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Slot)
class SlotAdmin(admin.ModelAdmin):
    list_display = ["label", "activity", "hours", "weekday_names", "default_capacity", "is_active"]
    list_filter = ["activity", "is_active"]
    inlines = [SlotCapacityInline]

    @admin.display(description="horaires")
    def hours(self, obj):
        return obj.hours

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if change:  # the default capacity or a school's may have been raised
            _capacity_raised(slot_id=form.instance.pk)

    @admin.display(description="jours")
    def weekday_names(self, obj):
        return obj.weekday_names


@admin.register(CapacityOverride)
class CapacityOverrideAdmin(admin.ModelAdmin):
    list_display = ["date", "slot", "school", "places", "reason"]
    list_filter = ["slot", "school"]
    date_hierarchy = "date"

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        _capacity_raised(slot_id=obj.slot_id, school_id=obj.school_id, day=obj.date)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        _capacity_raised(slot_id=obj.slot_id, school_id=obj.school_id, day=obj.date)

    def delete_queryset(self, request, queryset):
        overrides = list(queryset)
        super().delete_queryset(request, queryset)
        for obj in overrides:
            _capacity_raised(slot_id=obj.slot_id, school_id=obj.school_id, day=obj.date)


class StaffBookingForm(forms.ModelForm):
    """Booking for a family from the admin: the deadline does not apply (it is recorded), the
    capacity does unless "exceed" is ticked by someone allowed to."""

    exceed_capacity = forms.BooleanField(
        label="Dépasser la capacité si le créneau est complet",
        required=False,
        help_text="Enregistré sur la réservation. Réservé aux personnes habilitées.",
    )

    class Meta:
        model = Booking
        fields = ["child", "family", "slot", "date"]
        help_texts = {
            "family": "Laissez vide pour le foyer de l'enfant. Pour un enfant en résidence "
            "alternée, choisissez le foyer qui réserve ce jour-là : lui seul sera facturé."
        }

    user = None  # set by BookingAdmin.get_form

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["family"].required = False

    def clean(self):
        cleaned = super().clean()
        child, slot, day = cleaned.get("child"), cleaned.get("slot"), cleaned.get("date")
        family = cleaned.get("family")
        if child and family and family.pk not in child.household_family_ids():
            self.add_error("family", "Ce foyer n'est pas un foyer de cet enfant.")
            return cleaned
        if child and not family:
            cleaned["family"] = child.family
        if child and slot and day:
            try:
                services.staff_book_check(
                    child=child,
                    slot=slot,
                    day=day,
                    by=self.user,
                    today=timezone.localdate(),
                    exceed_capacity=cleaned.get("exceed_capacity", False),
                )
            except (ValidationError, PermissionDenied) as exc:
                raise ValidationError(getattr(exc, "messages", None) or str(exc)) from exc
        return cleaned


class OverrideFilter(admin.SimpleListFilter):
    """Walk-ins added to the register by derogation from the usual rules."""

    title = "ajout par dérogation"
    parameter_name = "derogation"

    def lookups(self, request, model_admin):
        return [("oui", "Oui"), ("non", "Non")]

    def queryset(self, request, queryset):
        if self.value() == "oui":
            return queryset.exclude(override_reason="")
        if self.value() == "non":
            return queryset.filter(override_reason="")
        return queryset


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = [
        "number_display",
        "date",
        "child",
        "slot",
        "school",
        "status",
        "presence",
        "origin",
        "past_deadline",
        "over_capacity",
        "override_display",
    ]
    list_filter = [
        ("date", admin.DateFieldListFilter),
        "slot",
        "school",
        "status",
        "presence",
        "origin",
        "past_deadline",
        "over_capacity",
        OverrideFilter,
    ]
    search_fields = ["=id", "child__last_name", "child__first_name", "child__family__name"]
    date_hierarchy = "date"
    list_select_related = ["child", "slot", "school"]
    autocomplete_fields = ["child", "family"]
    actions = ["cancel_bookings", "mark_excused"]
    readonly_fields = [
        "child",
        "family",
        "slot",
        "date",
        "school",
        "status",
        "presence",
        "origin",
        "past_deadline",
        "over_capacity",
        "created_at",
        "created_by",
        "cancelled_at",
        "cancelled_by",
        "cancel_reason",
        "closure",
        "absence",
        "presence_marked_at",
        "presence_marked_by",
        "override_by",
        "override_reason",
        "override_rule",
    ]
    change_list_template = "admin/reservations/booking/change_list.html"

    @admin.display(description="numéro", ordering="pk")
    def number_display(self, obj):
        return obj.number

    @admin.display(description="par dérogation", boolean=True)
    def override_display(self, obj):
        return obj.is_override

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = type(
                "StaffBookingFormForUser", (StaffBookingForm,), {"user": request.user}
            )
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else []

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["child", "family", "slot", "date", "exceed_capacity"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            return  # nothing is edited in place: status and presence change through the actions
        today = timezone.localdate()
        try:
            booking = services.staff_book(
                child=form.cleaned_data["child"],
                slot=form.cleaned_data["slot"],
                day=form.cleaned_data["date"],
                by=request.user,
                today=today,
                exceed_capacity=form.cleaned_data.get("exceed_capacity", False),
                family=form.cleaned_data.get("family"),
            )
        except (ValidationError, PermissionDenied) as exc:
            # Checked by the form a moment ago; only a concurrent booking gets here. The admin
            # has no way back to the form from save_model: add_view turns this into a message.
            raise _AdminRefusal(" ".join(getattr(exc, "messages", [str(exc)]))) from exc
        obj.pk = booking.pk
        obj.school_id = booking.school_id

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        waitlist.fill([(obj.slot_id, obj.school_id, obj.date)], today=timezone.localdate())

    def delete_queryset(self, request, queryset):
        keys = set(queryset.values_list("slot", "school", "date"))
        super().delete_queryset(request, queryset)
        waitlist.fill(keys, today=timezone.localdate())

    def add_view(self, request, form_url="", extra_context=None):
        try:
            return super().add_view(request, form_url, extra_context)
        except _AdminRefusal as exc:
            self.message_user(request, f"Réservation refusée : {exc}", messages.ERROR)
            return HttpResponseRedirect(reverse("admin:reservations_booking_add"))

    @admin.action(
        description="Annuler les réservations sélectionnées (même après le délai)",
        permissions=["change"],
    )
    def cancel_bookings(self, request, queryset):
        if not request.user.has_perm("reservations.book_past_deadline"):
            raise PermissionDenied
        today, done, refused = timezone.localdate(), 0, 0
        for booking in queryset.filter(status=Booking.Status.VALIDATED):
            try:
                services.booking_cancel(booking=booking, by=request.user, today=today, staff=True)
                done += 1
            except ValidationError:
                refused += 1
        self.message_user(
            request,
            f"{done} réservation(s) annulée(s)."
            + (f" {refused} déjà annulée(s)." if refused else ""),
        )

    @admin.action(description="Marquer « absent excusé » (non facturé)", permissions=["change"])
    def mark_excused(self, request, queryset):
        count = (
            queryset.filter(status=Booking.Status.VALIDATED)
            .exclude(presence=Booking.Presence.PRESENT)
            .update(
                presence=Booking.Presence.EXCUSED,
                presence_marked_at=timezone.now(),
                presence_marked_by=request.user,
            )
        )
        self.message_user(request, f"{count} réservation(s) marquée(s) « absent excusé ».")

    def get_urls(self):
        return [
            path(
                "occupation/",
                self.admin_site.admin_view(self.occupancy_view),
                name="reservations_occupancy",
            ),
            *super().get_urls(),
        ]

    def occupancy_view(self, request):
        """Places taken and left per day, créneau and school, over two weeks."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            start = datetime.date.fromisoformat(request.GET.get("du", ""))
        except ValueError:
            start = timezone.localdate()
        end = start + datetime.timedelta(days=13)
        schools = list(School.objects.filter(is_active=True))
        school_id = request.GET.get("ecole")
        if school_id and school_id.isdigit():
            schools = [s for s in schools if s.pk == int(school_id)] or schools
        slots = list(Slot.objects.active().select_related("activity"))
        school_ids = [s.pk for s in schools]
        capacities = Capacities(slots, school_ids, start, end)
        taken = taken_places([s.pk for s in slots], school_ids, start, end)
        rows = []
        for day in days_between(start, end):
            for slot in slots:
                if not slot.runs_on_weekday(day):
                    continue
                for school in schools:
                    booked = taken[(slot.pk, school.pk, day)]
                    places = capacities.places(slot.pk, school.pk, day)
                    rows.append(
                        {
                            "day": day,
                            "slot": slot,
                            "school": school,
                            "booked": booked,
                            "places": places,
                            "left": places - booked,
                            "url": reverse("admin:reservations_booking_changelist")
                            + f"?date={day.isoformat()}&slot__id__exact={slot.pk}&school__id__exact={school.pk}",
                        }
                    )
        context = {
            **self.admin_site.each_context(request),
            "title": "Occupation des créneaux",
            "opts": self.model._meta,
            "rows": rows,
            "start": start,
            "end": end,
            "previous": start - datetime.timedelta(days=14),
            "next": end + datetime.timedelta(days=1),
            "schools": School.objects.filter(is_active=True),
            "school_id": school_id or "",
        }
        return TemplateResponse(request, "admin/reservations/occupancy.html", context)


class _AdminRefusal(Exception):
    pass


class AbsenceBookingInline(ReadOnlyTabularInline):
    model = Booking
    fk_name = "absence"
    fields = ["date", "slot", "status", "presence"]
    readonly_fields = fields
    verbose_name_plural = "créneaux concernés"


class AbsenceStartFilter(admin.DateFieldListFilter):
    """The first day of the absence, under a heading of its own (the column reads « du »)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "début de l'absence"


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    list_display = [
        "child",
        "start_date",
        "end_date",
        "status",
        "has_certificate",
        "declared_at",
        "decided_by",
    ]
    list_filter = ["status", ("start_date", AbsenceStartFilter)]
    search_fields = ["child__last_name", "child__first_name", "child__family__name"]
    list_select_related = ["child", "decided_by"]
    readonly_fields = [
        "child",
        "start_date",
        "end_date",
        "reason",
        "certificate_link",
        "status",
        "declared_by",
        "declared_at",
        "decided_by",
        "decided_at",
    ]
    fields = [
        "child",
        ("start_date", "end_date"),
        "reason",
        "certificate_link",
        "status",
        "office_note",
        ("declared_by", "declared_at"),
        ("decided_by", "decided_at"),
    ]
    inlines = [AbsenceBookingInline]
    actions = ["excuse", "refuse"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="certificat", boolean=True)
    def has_certificate(self, obj):
        return bool(obj.certificate)

    @admin.display(description="certificat médical")
    def certificate_link(self, obj):
        if not obj.certificate:
            return "Aucun"
        url = reverse("admin:reservations_absence_certificate", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.certificate_name or "certificat")

    def _decide(self, request, queryset, excused):
        done = 0
        for absence in queryset:
            try:
                services.absence_decide(absence=absence, excused=excused, by=request.user)
                done += 1
            except ValidationError as exc:
                self.message_user(
                    request, f"{absence} : {' '.join(exc.messages)}", messages.WARNING
                )
        verdict = "excusée(s)" if excused else "non excusée(s)"
        self.message_user(request, f"{done} absence(s) {verdict} ; les familles sont prévenues.")

    @admin.action(
        description="Excuser (non facturé) et prévenir la famille", permissions=["change"]
    )
    def excuse(self, request, queryset):
        self._decide(request, queryset, True)

    @admin.action(
        description="Ne pas excuser (facturé) et prévenir la famille", permissions=["change"]
    )
    def refuse(self, request, queryset):
        self._decide(request, queryset, False)

    def get_urls(self):
        return [
            path(
                "<int:pk>/certificat/",
                self.admin_site.admin_view(self.certificate_view),
                name="reservations_absence_certificate",
            ),
            *super().get_urls(),
        ]

    def certificate_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        absence = get_object_or_404(Absence, pk=pk)
        if not absence.certificate:
            raise Http404
        return serve_private_file(
            absence.certificate,
            download_name=absence.certificate_name or "certificat",
            content_type=absence.certificate_type or "application/octet-stream",
        )


class WaitlistDateFilter(admin.DateFieldListFilter):
    """The day waited for, under a heading of its own."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "jour demandé"


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    """The waiting lines, one per créneau, school and day: staff see them in order and move a
    child up or down; the portal books the first in line when a place frees."""

    list_display = [
        "date",
        "slot",
        "school",
        "rank_display",
        "child",
        "family",
        "status",
        "created_at",
        "booking_link",
    ]
    list_filter = ["status", ("date", WaitlistDateFilter), "slot", "school"]
    list_select_related = ["child", "family", "slot", "school"]
    search_fields = ["child__last_name", "child__first_name", "family__name"]
    date_hierarchy = "date"
    actions = ["move_up", "move_down"]
    readonly_fields = [
        "child",
        "family",
        "slot",
        "date",
        "school",
        "position",
        "status",
        "created_at",
        "created_by",
        "closed_at",
        "note",
        "booking",
    ]
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).with_rank()

    def get_ordering(self, request):
        return ["date", "slot__position", "school__name", "status", "position", "pk"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="rang")
    def rank_display(self, obj):
        return obj.rank if obj.is_waiting else "—"

    @admin.display(description="réservation obtenue")
    def booking_link(self, obj):
        if not obj.booking_id:
            return "—"
        url = reverse("admin:reservations_booking_change", args=[obj.booking_id])
        return format_html('<a href="{}">n° {}</a>', url, obj.booking_id)

    def _move(self, request, queryset, up):
        entries = sorted(queryset, key=lambda e: e.rank if up else -e.rank)
        moved = sum(waitlist.move(entry=entry, up=up) for entry in entries if entry.is_waiting)
        where = "monté" if up else "descendu"
        self.message_user(
            request,
            f"{moved} enfant{'s' if moved > 1 else ''} {where}{'s' if moved > 1 else ''} d'un "
            "rang dans sa liste d'attente."
            if moved
            else "Aucun changement : premier ou dernier de sa liste, ou plus en attente.",
            messages.SUCCESS if moved else messages.WARNING,
        )

    @admin.action(description="Monter d'un rang dans la liste d'attente", permissions=["change"])
    def move_up(self, request, queryset):
        self._move(request, queryset, True)

    @admin.action(description="Descendre d'un rang dans la liste d'attente", permissions=["change"])
    def move_down(self, request, queryset):
        self._move(request, queryset, False)
