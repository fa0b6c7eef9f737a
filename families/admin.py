from django.contrib import admin
from django.db.models import Count

from .models import Child, ChildContact, Family, Guardian, School, SchoolYear

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
    inlines = [GuardianInline, ChildInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_child_count=Count("children", distinct=True))

    @admin.display(description="enfants", ordering="_child_count")
    def child_count(self, obj):
        return obj._child_count


class ChildContactInline(admin.TabularInline):
    model = ChildContact
    extra = 0


@admin.register(Child)
class ChildAdmin(admin.ModelAdmin):
    list_display = ["last_name", "first_name", "birth_date", "school", "school_class", "family"]
    list_filter = ["school", "school_class"]
    search_fields = ["last_name", "first_name", "family__name"]
    list_select_related = ["school", "family"]
    autocomplete_fields = ["family"]
    inlines = [ChildContactInline]

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
