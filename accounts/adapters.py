from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.sites.shortcuts import get_current_site
from django.urls import reverse

from common import outbox

# The staff group whose workplace is the register (pointage), not the admin.
ANIMATEUR_GROUP = "Animateur"


class AccountAdapter(DefaultAccountAdapter):
    """Links in account e-mails point at the public address of the portal; failed logins are
    counted per (e-mail, client address), never per e-mail alone; staff land on their
    workplace after signing in."""

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        # allauth keys its "login_failed" limit on the e-mail alone: five wrong passwords typed
        # from anywhere would lock the parent out everywhere. With the client address in the
        # key, only the pair that failed is held back (as django-axes does); the second
        # factor's own limit stays per user (only someone with the password reaches it).
        key = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{key}:{self.get_client_ip(request)}"

    def get_login_redirect_url(self, request):
        # Staff land where they work: animateurs on the register, the office on the admin's
        # dashboard; parents on the home page. A safe `next` was already taken by allauth.
        user = request.user
        if user.is_authenticated and user.is_staff:
            if user.groups.filter(name=ANIMATEUR_GROUP).exists():
                return reverse("pointage:attendance")
            return reverse("admin:index")
        return super().get_login_redirect_url(request)

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        # Through the outbox: a mail server or a broker that is down neither fails the sign-up
        # or the password reset nor loses the e-mail; its link is erased once sent.
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        outbox.enqueue_email(self.render_mail(template_prefix, email, ctx), sensitive=True)

    def get_email_confirmation_url(self, request, emailconfirmation):
        url = super().get_email_confirmation_url(request, emailconfirmation)
        if request is None:
            return settings.SITE_URL + url if url.startswith("/") else url
        return url
