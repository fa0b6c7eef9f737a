"""Sessions in the database, read with their user in one query, written only when needed.

Every signed-in page used to cost four queries before its own: the session, the user, the
family, and the session written back (so that its end moves 8 hours past each request, the
idle timeout). Here:

- the session row carries the user's id (`accounts.Session.user`): loading the session joins
  the user and what `settings.SESSION_USER_RELATED` names (the guardian and its family), and
  `get_user` (used by `AuthenticationMiddleware` below) takes that user instead of reading it
  again — with the same checks as Django's: an allowed backend, an active user, and the
  password hash of the session (a password change signs every other session out);
- an unchanged session is written back only when its end would move by more than
  `settings.SESSION_REFRESH_SECONDS`: the idle timeout holds to within that precision, and
  most requests write nothing. A changed session (login, messages…) is always written, in one
  UPDATE.

Sessions stay in the database (not the cache): logging out or changing one's password takes
effect at once on every server, with Redis up or down.
"""

import datetime
import logging

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthentication
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import UpdateError
from django.core.exceptions import SuspiciousOperation
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject


class SessionStore(db.SessionStore):
    preloaded_user = None  # the user read with the session, if any
    _stored_expiry = None  # the end of the session as stored

    @classmethod
    def get_model_class(cls):
        from .models import Session

        return Session

    def _get_session_from_db(self):
        related = ["user"] + [f"user__{name}" for name in settings.SESSION_USER_RELATED]
        try:
            session = self.model.objects.select_related(*related).get(
                session_key=self.session_key, expire_date__gt=timezone.now()
            )
        except (self.model.DoesNotExist, SuspiciousOperation) as exc:
            if isinstance(exc, SuspiciousOperation):
                logger = logging.getLogger(f"django.security.{exc.__class__.__name__}")
                logger.warning(str(exc))
            self._session_key = None
            return None
        self.preloaded_user = session.user
        self._stored_expiry = session.expire_date
        return session

    def create_model_instance(self, data):
        session = super().create_model_instance(data)
        try:
            session.user_id = int(data[SESSION_KEY])
        except (KeyError, TypeError, ValueError):
            session.user_id = None
        return session

    def _end_moves_little(self) -> bool:
        """Whether writing the unchanged session now would move its end by less than
        SESSION_REFRESH_SECONDS."""
        if self._stored_expiry is None:
            return False
        moved = self.get_expiry_date() - self._stored_expiry
        return moved < datetime.timedelta(seconds=settings.SESSION_REFRESH_SECONDS)

    def save(self, must_create=False):
        if self.session_key is None or must_create:
            return super().save(must_create=must_create)
        data = self._get_session()
        if not self.modified and self._end_moves_little():
            return None
        session = self.create_model_instance(data)
        # One UPDATE (Django's own wraps it in a transaction: three queries).
        updated = self.model.objects.filter(session_key=session.session_key).update(
            session_data=session.session_data,
            expire_date=session.expire_date,
            user_id=session.user_id,
        )
        if not updated:  # deleted meanwhile (signed out elsewhere): as Django does
            raise UpdateError
        self._stored_expiry = session.expire_date
        return None


def _user(request, backend, user_id):
    """The session's user through `backend`: the one read with the session when it is that
    user and the backend is a ModelBackend (which would read it by id and check it may sign
    in); otherwise the backend's own answer."""
    preloaded = getattr(request.session, "preloaded_user", None)
    if (
        isinstance(backend, ModelBackend)
        and preloaded is not None
        and preloaded.pk == user_id
        and type(preloaded) is auth.get_user_model()
    ):
        return preloaded if backend.user_can_authenticate(preloaded) else None
    return backend.get_user(user_id)


def get_user(request):
    """`django.contrib.auth.get_user`, taking the user read with the session."""
    user = None
    try:
        user_id = auth.get_user_model()._meta.pk.to_python(request.session[SESSION_KEY])
        backend_path = request.session[BACKEND_SESSION_KEY]
    except KeyError:
        pass
    else:
        if backend_path in settings.AUTHENTICATION_BACKENDS:
            user = _user(request, auth.load_backend(backend_path), user_id)
            if hasattr(user, "get_session_auth_hash"):
                session_hash = request.session.get(HASH_SESSION_KEY)
                verified = bool(session_hash) and constant_time_compare(
                    session_hash, user.get_session_auth_hash()
                )
                if not verified:
                    if session_hash and any(
                        constant_time_compare(session_hash, fallback)
                        for fallback in user.get_session_auth_fallback_hash()
                    ):
                        request.session.cycle_key()
                        request.session[HASH_SESSION_KEY] = user.get_session_auth_hash()
                    else:
                        request.session.flush()
                        user = None
    return user or AnonymousUser()


class AuthenticationMiddleware(DjangoAuthentication):
    """Django's, with `request.user` taken from the session's own query (`get_user`)."""

    def process_request(self, request):
        super().process_request(request)

        def lazy_user():
            if not hasattr(request, "_cached_user"):
                request._cached_user = get_user(request)
            return request._cached_user

        request.user = SimpleLazyObject(lazy_user)
