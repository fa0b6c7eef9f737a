from allauth.account.admin import EmailAddressAdmin as AllauthEmailAddressAdmin
from allauth.account.decorators import secure_admin_login
from allauth.account.models import EmailAddress
from allauth.mfa.admin import AuthenticatorAdmin as AllauthAuthenticatorAdmin
from allauth.mfa.models import Authenticator
from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.admin import IsLockedOutFilter
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.utils import formats, timezone

from .models import User

# The admin's own login form would bypass allauth's rate limits and the two-factor stage: staff
# sign in through allauth like everyone else, then come back to the admin.
admin.site.login = secure_admin_login(admin.site.login)


def permission_label(permission):
    """« Facturation | facture | Ajouter » rather than « … | Can add facture »."""
    model = permission.content_type.model_class()
    app = permission.content_type.app_label
    if model is not None:
        app = model._meta.app_config.verbose_name
        titles = getattr(admin.site._registry.get(model), "titles", None)
        name = titles.change if titles else str(model._meta.verbose_name)
        name = UNREGISTERED_MODEL_NAMES.get(model._meta.label, name)
        if name.startswith("historical "):
            name = f"historique ({name.removeprefix('historical ')})"
    else:
        name = permission.content_type.model
    action, _, model_name = permission.codename.partition("_")
    if model is not None and model_name == model._meta.model_name and action in ACTIONS:
        return f"{app} | {name} | {ACTIONS[action]}"
    return f"{app} | {name} | {permission.name}"


ACTIONS = {"add": "Ajouter", "change": "Modifier", "delete": "Supprimer", "view": "Voir"}
# Models out of the admin whose own names are English.
UNREGISTERED_MODEL_NAMES = {
    "axes.AccessAttemptExpiration": "expiration des tentatives de connexion",
}


class FrenchPermissionsMixin:
    """The permissions of the form named in French (Django names its own in English)."""

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and db_field.name in ("permissions", "user_permissions"):
            field.label_from_instance = permission_label
        return field


@admin.register(User)
class UserAdmin(FrenchPermissionsMixin, DjangoUserAdmin):
    ordering = ["email"]
    list_display = ["email", "last_name", "first_name", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Identité", {"fields": ("first_name", "last_name")}),
        (
            "Droits",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


# The actions of allauth's and axes' admins declare no permission: Django would run them for
# anyone who may open the list. The same admins, each action asking for the permission it uses.


class EmailAddressAdmin(AllauthEmailAddressAdmin):
    @admin.action(
        description=AllauthEmailAddressAdmin.make_verified.short_description,
        permissions=["change"],
    )
    def make_verified(self, request, queryset):
        return super().make_verified(request, queryset)


class LockedOutFilter(IsLockedOutFilter):
    title = "verrouillée"

    def lookups(self, request, model_admin):
        return (("yes", "Oui"), ("no", "Non"))


class AccessAttemptAdmin(AxesAccessAttemptAdmin):
    list_filter = [
        LockedOutFilter if item is IsLockedOutFilter else item
        for item in AxesAccessAttemptAdmin.list_filter
    ]

    @admin.action(description="Supprimer les tentatives expirées", permissions=["delete"])
    def cleanup_expired_attempts(self, request, queryset):
        # django-axes reads the time of the request it sets only on login requests.
        AxesProxyHandler.update_request(request)
        count = self.handler.clean_expired_user_attempts(request=request)
        self.message_user(
            request,
            f"{count} tentative(s) expirée(s) supprimée(s)."
            if count
            else "Aucune tentative expirée à supprimer.",
        )


for model, model_admin in ((EmailAddress, EmailAddressAdmin), (AccessAttempt, AccessAttemptAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
        admin.site.register(model, model_admin)


class AuthenticatorAdmin(AllauthAuthenticatorAdmin):
    """A staff member's authenticator apps, read only: the office deletes a lost one, the
    staff member sets up the next one from their account."""

    list_display = ["owner", "kind", "created", "last_used"]
    list_filter = ["type"]
    search_fields = ["user__email"]
    fields = ["owner", "kind", "created", "last_used"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="utilisateur", ordering="user__email")
    def owner(self, authenticator):
        return authenticator.user

    @admin.display(description="type", ordering="type")
    def kind(self, authenticator):
        return authenticator.get_type_display()

    @admin.display(description="créée le", ordering="created_at")
    def created(self, authenticator):
        return self._when(authenticator.created_at)

    @admin.display(description="dernière utilisation", ordering="last_used_at")
    def last_used(self, authenticator):
        return self._when(authenticator.last_used_at)

    def _when(self, moment):
        if moment is None:
            return self.get_empty_value_display()
        return formats.localize(timezone.localtime(moment))


if admin.site.is_registered(Authenticator):
    admin.site.unregister(Authenticator)
    admin.site.register(Authenticator, AuthenticatorAdmin)


class GroupAdmin(FrenchPermissionsMixin, DjangoGroupAdmin):
    pass


if admin.site.is_registered(Group):
    admin.site.unregister(Group)
    admin.site.register(Group, GroupAdmin)
