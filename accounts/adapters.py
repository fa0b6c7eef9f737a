from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    """Links in account e-mails point at the public address of the portal; failed logins are
    counted per (e-mail, client address), never per e-mail alone."""

    def _get_login_attempts_cache_key(self, request, **credentials) -> str:
        # allauth keys its "login_failed" limit on the e-mail alone: five wrong passwords typed
        # from anywhere would lock the parent out everywhere. With the client address in the
        # key, only the pair that failed is held back (as django-axes does); the second
        # factor's own limit stays per user (only someone with the password reaches it).
        key = super()._get_login_attempts_cache_key(request, **credentials)
        return f"{key}:{self.get_client_ip(request)}"

    def get_email_confirmation_url(self, request, emailconfirmation):
        url = super().get_email_confirmation_url(request, emailconfirmation)
        if request is None:
            return settings.SITE_URL + url if url.startswith("/") else url
        return url
