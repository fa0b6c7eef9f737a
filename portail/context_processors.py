from django.conf import settings
from django.utils.functional import SimpleLazyObject

from .navigation import entries_for


def navigation(request):
    """The parent navigation, computed only if a template uses it."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"nav_entries": [], "admin_url": "/" + settings.ADMIN_URL}
    return {
        "nav_entries": SimpleLazyObject(lambda: entries_for(request)),
        "admin_url": "/" + settings.ADMIN_URL,
    }
