from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect


class StaffTwoFactorMiddleware:
    """Outside DEBUG, the admin opens only to staff whose account an authenticator app (TOTP)
    protects; until they set one up, every admin page sends them to do so."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._must_set_up_totp(request):
            messages.warning(
                request,
                "La double authentification est obligatoire pour accéder à l'administration : "
                "activez une application d'authentification pour continuer.",
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    @staticmethod
    def _must_set_up_totp(request) -> bool:
        user = request.user
        return (
            not settings.DEBUG
            and request.path_info.startswith("/" + settings.ADMIN_URL)
            and user.is_authenticated
            and user.is_staff
            and not is_mfa_enabled(user, [Authenticator.Type.TOTP])
        )
