from allauth.account.admin import EmailAddressAdmin as AllauthEmailAddressAdmin
from allauth.account.decorators import secure_admin_login
from allauth.account.models import EmailAddress
from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import User

# The admin's own login form would bypass allauth's rate limits and the two-factor stage: staff
# sign in through allauth like everyone else, then come back to the admin.
admin.site.login = secure_admin_login(admin.site.login)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
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


class AccessAttemptAdmin(AxesAccessAttemptAdmin):
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
