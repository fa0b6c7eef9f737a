from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect

# The URL namespaces of the staff's pages: the admin and the animateurs' register (pointage).
STAFF_NAMESPACES = frozenset({"admin", "pointage"})
# Pages of those namespaces that stay open, so that a staff member can always sign out.
OPEN_STAFF_PAGES = frozenset({"admin:login", "admin:logout"})


class StaffTwoFactorMiddleware:
    """Outside DEBUG, the staff's pages (the admin, the register) open only to staff whose account
    an authenticator app (TOTP) protects; until they set one up, every such page sends them to do
    so. The code itself is asked once, at login: a session that passed it keeps going."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not self._must_set_up_totp(request):
            return None
        messages.warning(
            request,
            "La double authentification est obligatoire pour accéder à l'administration et au "
            "pointage : activez une application d'authentification pour continuer.",
        )
        return redirect("mfa_activate_totp")

    @staticmethod
    def _must_set_up_totp(request) -> bool:
        user = request.user
        match = request.resolver_match
        namespace = match.namespaces[0] if match is not None and match.namespaces else ""
        return (
            not settings.DEBUG
            and namespace in STAFF_NAMESPACES
            and match.view_name not in OPEN_STAFF_PAGES
            and user.is_authenticated
            and user.is_staff
            and not is_mfa_enabled(user, [Authenticator.Type.TOTP])
        )
