from django.utils.functional import SimpleLazyObject


def _family_of(user):
    if not user.is_authenticated:
        return None
    from .models import Guardian

    read = user.__class__.guardian.related  # the user's side of Guardian.user
    if read.is_cached(user):  # read with the session (accounts.sessions): no query
        guardian = read.get_cached_value(user)
    else:
        guardian = Guardian.objects.select_related("family").filter(user=user).first()
    return guardian.family if guardian else None


class FamilyMiddleware:
    """Sets `request.family`: the family of the signed-in guardian, or None (loaded on first use)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.family = SimpleLazyObject(lambda: _family_of(request.user))
        return self.get_response(request)
