"""How login attempts are identified: the client's address and the account aimed at.

allauth's rate limits and django-axes's lockouts must agree on both, or an attacker could slip
between them; axes calls these two functions (AXES_CLIENT_IP_CALLABLE, AXES_USERNAME_CALLABLE).
"""

from allauth.account.adapter import get_adapter
from django.core.exceptions import PermissionDenied


def client_ip(request) -> str | None:
    """The client's address as allauth sees it: REMOTE_ADDR, or, behind TRUSTED_PROXY_COUNT
    proxies, the address that the outermost trusted proxy appended to X-Forwarded-For."""
    try:
        return get_adapter(request).get_client_ip(request)
    except PermissionDenied:
        return None


def login_identifier(request, credentials=None) -> str | None:
    """The e-mail address a login attempt is for, lowercased so that changing its case does not
    buy an attacker a fresh set of attempts."""
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username")
    if not value and request is not None:
        data = getattr(request, "POST", {})
        value = data.get("login") or data.get("email")
    return value.strip().lower() if value else None
