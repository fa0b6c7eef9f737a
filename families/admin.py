from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone

from common.admin import ReadOnlyAdmin, ReadOnlyTabularInline

from . import households, invitations, services
from .models import (
    Child,
    ChildContact,
    ChildHousehold,
    ChildHouseholdInvitation,
    Family,
    Guardian,
    GuardianEvent,
    GuardianInvitation,
    School,
    SchoolYear,
)

HEALTH_PERMISSION = "families.view_health_notes"


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ["name", "level", "address", "is_active"]
    list_filter = ["level", "is_active"]
    search_fields = ["name"]


@admin.register(SchoolYear)
class SchoolYearAdmin(admin.ModelAdmin):
    list_display = ["label", "start_date", "end_date"]
    date_hierarchy = "start_date"


class GuardianInline(admin.TabularInline):
    model = Guardian
    extra = 0
    fields = ["user", "relationship", "mobile_phone", "work_phone", "created_at"]
    readonly_fields = ["created_at"]
    autocomplete_fields = ["user"]
    # A guardian leaves through the "Détacher du foyer" action, which keeps the history.
    can_delete = False


class GuardianEventInline(ReadOnlyTabularInline):
    model = GuardianEvent
    fields = ["at", "kind", "email", "actor", "note"]
    readonly_fields = fields
    verbose_name_plural = "historique des responsables"


class ChildInline(admin.StackedInline):
    model = Child
    extra = 0
    show_change_link = True
    fields = [
        ("last_name", "first_name"),
        ("birth_date", "sex"),
        ("school", "school_class"),
        "health_notes",
    ]

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if not request.user.has_perm(HEALTH_PERMISSION):
            fields = [f for f in fields if f != "health_notes"]
        return fields


class SharedChildInline(ReadOnlyTabularInline):
    """On a family's page: the children it looks after as their second household."""

    model = ChildHousehold
    fk_name = "family"
    fields = ["child", "origin", "linked_at"]
    readonly_fields = fields
    verbose_name = "enfant en résidence alternée (second foyer)"
    verbose_name_plural = "enfants en résidence alternée (second foyer)"


class QuotientValidityFilter(admin.SimpleListFilter):
    title = "quotient familial"
    parameter_name = "qf"

    def lookups(self, request, model_admin):
        return [("valide", "Valide aujourd'hui"), ("absent", "Absent ou expiré")]

    def queryset(self, request, queryset):
        from django.db.models import Q
        from django.utils import timezone

        today = timezone.localdate()
        valid = Q(quotient_familial__isnull=False, quotient_valid_until__gte=today)
        if self.value() == "valide":
            return queryset.filter(valid)
        if self.value() == "absent":
            return queryset.exclude(valid)
        return queryset


@admin.register(Family)
class FamilyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "city",
        "phone",
        "quotient_familial",
        "quotient_valid_until",
        "child_count",
        "created_at",
    ]
    list_filter = [QuotientValidityFilter, "children__school", "city"]
    search_fields = [
        "name",
        "guardians__user__email",
        "guardians__user__last_name",
        "children__first_name",
        "children__last_name",
        "phone",
    ]
    fieldsets = (
        (None, {"fields": ("name", "phone")}),
        ("Adresse", {"fields": ("address", "address_complement", ("postal_code", "city"))}),
        ("Quotient familial", {"fields": (("quotient_familial", "quotient_valid_until"),)}),
    )
    inlines = [GuardianInline, ChildInline, SharedChildInline, GuardianEventInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_child_count=Count("children", distinct=True))

    def save_formset(self, request, form, formset, change):
        new_guardians = formset.model is Guardian
        instances = formset.save()
        if new_guardians:
            for guardian in formset.new_objects:
                services.guardian_added_by_staff(
                    guardian=guardian, by=request.user, now=timezone.now()
                )
        return instances

    @admin.display(description="enfants", ordering="_child_count")
    def child_count(self, obj):
        return obj._child_count


class ChildContactInline(admin.TabularInline):
    model = ChildContact
    extra = 0


class ChildHouseholdForm(forms.ModelForm):
    class Meta:
        model = ChildHousehold
        fields = ["child", "family"]

    def clean(self):
        cleaned = super().clean()
        child, family = cleaned.get("child"), cleaned.get("family")
        if child and family and not self.instance.pk:
            refusal = households.link_refusal(child=child, family=family)
            if refusal:
                raise ValidationError(refusal)
        return cleaned


class SecondHouseholdInline(admin.StackedInline):
    """On the child's page: the family of the other parent (résidence alternée)."""

    model = ChildHousehold
    fk_name = "child"
    extra = 0
    max_num = 1
    fields = ["family", "origin", "linked_by", "linked_at"]
    readonly_fields = ["origin", "linked_by", "linked_at"]
    autocomplete_fields = ["family"]
    verbose_name = "second foyer (résidence alternée)"
    verbose_name_plural = "second foyer (résidence alternée)"

    def get_readonly_fields(self, request, obj=None):
        # Changing the second household is removing the link, then linking the new one.
        return (
            [*self.readonly_fields, "family"] if obj and _has_second(obj) else self.readonly_fields
        )


def _unlink(model_admin, request, link) -> int:
    """Remove a second household through the service (its bookings to come are cancelled, the
    household told) and say so to the office."""
    child, family = link.child, link.family
    cancelled = households.household_unlink(link=link, by=request.user, today=timezone.localdate())
    bookings = f"{cancelled} réservation{'s' if cancelled > 1 else ''}"
    model_admin.message_user(
        request,
        f"Le foyer {family.name} n'est plus le second foyer de {child.first_name} : "
        f"{bookings} à venir de ce foyer pour {child.first_name} "
        f"{'ont été annulées' if cancelled > 1 else 'a été annulée'}, "
        "et le foyer en est informé dans « Échanges ».",
        messages.SUCCESS,
    )
    return cancelled


def _has_second(child) -> bool:
    return ChildHousehold.objects.filter(child=child).exists()


@admin.register(Child)
class ChildAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "birth_date", "school", "school_class", "family"]
    list_filter = ["school", "school_class"]
    search_fields = ["last_name", "first_name", "family__name"]
    list_select_related = ["school", "family"]
    autocomplete_fields = ["family"]
    inlines = [ChildContactInline, SecondHouseholdInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is ChildHousehold:
            for link_form in formset.forms:
                link = link_form.instance
                if link_form.has_changed() and not link.pk:
                    link.linked_by, link.linked_at = request.user, timezone.now()
            for link_form in formset.deleted_forms:  # « Supprimer » ticked: the link is removed
                if link_form.instance.pk:
                    _unlink(self, request, link_form.instance)
        return super().save_formset(request, form, formset, change)

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if not request.user.has_perm(HEALTH_PERMISSION):
            fields = [f for f in fields if f != "health_notes"]
        return fields


@admin.register(Guardian)
class GuardianAdmin(admin.ModelAdmin):
    list_display = ["user", "family", "relationship", "mobile_phone", "created_at"]
    search_fields = ["user__email", "user__last_name", "family__name"]
    list_select_related = ["user", "family"]
    autocomplete_fields = ["user", "family"]
    actions = ["detach"]

    def get_readonly_fields(self, request, obj=None):
        # Moving a guardian to another family is a detachment plus an invitation, both recorded.
        return ["family"] if obj else []

    def has_delete_permission(self, request, obj=None):
        return False  # see the "detach" action: a membership ends with a trace

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change:
            services.guardian_added_by_staff(guardian=obj, by=request.user, now=timezone.now())

    @admin.action(description="Détacher du foyer (séparation)", permissions=["change"])
    def detach(self, request, queryset):
        detached = 0
        for guardian in queryset.select_related("user", "family"):
            try:
                services.guardian_detach(guardian=guardian, by=request.user, now=timezone.now())
            except ValidationError as exc:
                self.message_user(request, exc.messages[0], messages.ERROR)
            else:
                detached += 1
        if detached:
            self.message_user(
                request,
                f"{detached} responsable(s) détaché(s) de leur foyer ; l'historique du foyer "
                "garde la trace du détachement.",
                messages.SUCCESS,
            )


@admin.register(GuardianInvitation)
class GuardianInvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "family", "state", "invited_by", "created_at", "expires_at"]
    list_filter = ["status"]
    search_fields = ["email", "family__name"]
    list_select_related = ["family", "invited_by"]
    fields = [
        "family",
        "email",
        "state",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_by",
        "accepted_at",
        "revoked_by",
        "revoked_at",
    ]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # invitations are sent by a guardian, with a link only they receive

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="état")
    def state(self, obj):
        return obj.state_label(timezone.now())

    @admin.action(description="Annuler les invitations en attente", permissions=["change"])
    def revoke(self, request, queryset):
        now = timezone.now()
        revoked = 0
        for invitation in queryset.pending(now):
            invitations.invitation_revoke(invitation=invitation, by=request.user, now=now)
            revoked += 1
        self.message_user(request, f"{revoked} invitation(s) annulée(s).", messages.SUCCESS)


@admin.register(GuardianEvent)
class GuardianEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "kind", "email", "family", "actor"]
    list_filter = ["kind"]
    search_fields = ["email", "family__name"]
    list_select_related = ["family", "actor"]
    date_hierarchy = "at"


@admin.register(ChildHousehold)
class ChildHouseholdAdmin(admin.ModelAdmin):
    """Résidence alternée: link a child to the family of its other parent."""

    form = ChildHouseholdForm
    list_display = ["child", "first_family", "family", "origin", "linked_at", "linked_by"]
    list_filter = ["origin"]
    search_fields = ["child__last_name", "child__first_name", "family__name", "child__family__name"]
    list_select_related = ["child__family", "family", "linked_by"]
    autocomplete_fields = ["child", "family"]
    readonly_fields = ["origin", "linked_by", "linked_at"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "child", "family"] if obj else self.readonly_fields

    def get_fields(self, request, obj=None):
        return ["child", "family", *self.readonly_fields]

    @admin.display(description="premier foyer", ordering="child__family__name")
    def first_family(self, obj):
        return obj.child.family

    def save_model(self, request, obj, form, change):
        if not change:
            obj.linked_by, obj.linked_at = request.user, timezone.now()
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        _unlink(self, request, obj)

    def delete_queryset(self, request, queryset):
        for link in queryset.select_related("child", "family"):
            _unlink(self, request, link)


@admin.register(ChildHouseholdInvitation)
class ChildHouseholdInvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "child", "state", "invited_by", "created_at", "expires_at"]
    list_filter = ["status"]
    search_fields = ["email", "child__last_name", "child__family__name"]
    list_select_related = ["child", "invited_by"]
    fields = [
        "child",
        "email",
        "state",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_by",
        "accepted_at",
        "revoked_at",
    ]
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False  # sent by the child's first household, with a link only the invitee gets

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="état")
    def state(self, obj):
        return obj.state_label(timezone.now())

    @admin.action(description="Annuler les invitations en attente", permissions=["change"])
    def revoke(self, request, queryset):
        now = timezone.now()
        revoked = 0
        for invitation in queryset.pending(now):
            households.invitation_revoke(invitation=invitation, now=now)
            revoked += 1
        self.message_user(request, f"{revoked} invitation(s) annulée(s).", messages.SUCCESS)
