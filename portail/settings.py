"""Settings of the Portail famille, read from the environment (see .env.example)."""

import datetime
import sys
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

TESTING = "pytest" in sys.modules or (len(sys.argv) > 1 and sys.argv[1] == "test")

DEBUG = env.bool("DEBUG", default=False)

if DEBUG or TESTING:
    SECRET_KEY = env(
        "SECRET_KEY", default="dev-only-insecure-key-do-not-use-in-production-0123456789"
    )
else:
    try:
        SECRET_KEY = env("SECRET_KEY")
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(
            "SECRET_KEY doit être défini quand DEBUG est désactivé."
        ) from exc

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
ADMIN_URL = env("ADMIN_URL", default="admin/").strip("/") + "/"

INSTALLED_APPS = [
    "portail.apps.OfficeAdminConfig",  # django.contrib.admin, its index the dashboard
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "crispy_forms",
    "crispy_bootstrap5",
    "django_htmx",
    "csp",
    "axes",
    "simple_history",
    "common",
    "accounts",
    "families",
    "exchanges",
    "enrolment",
    "reservations",
    "billing",
    "portail",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "accounts.sessions.AuthenticationMiddleware",  # Django's, user read with the session
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "accounts.middleware.StaffTwoFactorMiddleware",
    "families.middleware.FamilyMiddleware",
    # Last, as django-axes asks: it turns a lockout flagged during the login into its page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portail.urls"
WSGI_APPLICATION = "portail.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portail.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
# Redis may go down without taking the portal with it: the cache (rate-limit counters, and
# reference data that common.refcache then reads from the database; sessions are in the
# database) falls back to memory, with timeouts short enough that no request waits on it
# (common.cache).
REDIS_TIMEOUT = env.float("REDIS_TIMEOUT", default=0.5)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "common.cache.FallbackRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "portail",
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT,
                "socket_timeout": REDIS_TIMEOUT,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out pair before any check
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

# allauth: login by e-mail, verified addresses only, rate limits on (see ACCOUNT_RATE_LIMITS).
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Portail famille] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if not DEBUG else "http"
# Rate limits: per client address, per signed-in user, or per (e-mail, client address), never
# keyed on the e-mail alone. allauth keys login_failed's "/key" part on the e-mail and
# reset_password's on the address asked for: anyone typing a parent's e-mail five times from
# anywhere would block that parent's login (or password reset) from every address. Our adapter
# (accounts.adapters) puts the client address in login_failed's key, so "5/5m/key" holds back
# the pair that failed, as django-axes does below; the second factor's codes keep their limit
# per user (allauth.mfa uses the same action), reachable only with the password.
# confirm_email keeps its cooldown per e-mail address: it only spaces out the verification
# e-mails sent to one mailbox (no flood), it never refuses a login or a form.
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "confirm_email": "1/3m/key",
    "reset_password": "20/m/ip",
    "reset_password_from_key": "20/m/ip",
    "request_login_code": "20/m/ip",
    "reauthenticate": "10/m/user",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
}
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
ACCOUNT_FORMS = {"signup": "accounts.forms.SignupForm"}
# Adding, removing or making primary an e-mail address (and setting a first password) asks for
# the password again unless it was re-entered in the last 5 minutes (a fresh login does not
# count); changing the password asks for the current one; allauth.mfa always re-asks before a
# change of second factor.
ACCOUNT_REAUTHENTICATION_REQUIRED = True

# Two-factor authentication: an authenticator app (TOTP) with recovery codes. Staff must have one
# outside DEBUG before the admin opens (accounts.middleware.StaffTwoFactorMiddleware).
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "Portail famille Tassin"

# Number of reverse proxies in front of the app that append to X-Forwarded-For (0: none, the
# header is ignored and REMOTE_ADDR is the client). allauth's rate limits and axes read the
# client address the same way (accounts.security.client_ip).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

# Brute force (django-axes): 5 failures lock the pair (e-mail, client address) for 15 minutes,
# never an address alone (a school or a household shares one).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Retrying during the lockout does not push its end further away.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_CALLABLE = "accounts.security.login_identifier"
AXES_CLIENT_IP_CALLABLE = "accounts.security.client_ip"
AXES_LOCKOUT_TEMPLATE = "accounts/lockout.html"
# No row per successful login (client address, browser) kept forever; failures are enough.
AXES_DISABLE_ACCESS_LOG = True

# Days during which an invitation to join a family (the second guardian) can be accepted.
GUARDIAN_INVITATION_DAYS = env.int("GUARDIAN_INVITATION_DAYS", default=7)

# Requests (demandes): the single-use link to replace a refused document, and the retention job.
ENROLMENT_REPLACE_LINK_DAYS = env.int("ENROLMENT_REPLACE_LINK_DAYS", default=30)
ENROLMENT_DRAFT_RETENTION_MONTHS = env.int("ENROLMENT_DRAFT_RETENTION_MONTHS", default=6)
ENROLMENT_DOCUMENT_RETENTION_MONTHS = env.int("ENROLMENT_DOCUMENT_RETENTION_MONTHS", default=24)

LANGUAGE_CODE = "fr-fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "private")
MEDIA_URL = None
# An uploaded file past the size limit (common.files) is not read further (common.uploads).
FILE_UPLOAD_HANDLERS = [
    "common.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not (DEBUG or TESTING)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Portail famille <portail@example.org>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
OFFICE_EMAIL = env("OFFICE_EMAIL", default="periscolaire@example.org")

STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="")

# Payments: the reminder before the due date, direct debit delays, a rejected debit's new due date.
PAYMENT_REMINDER_DAYS = env.int("PAYMENT_REMINDER_DAYS", default=5)
DIRECT_DEBIT_NOTICE_DAYS = env.int("DIRECT_DEBIT_NOTICE_DAYS", default=14)
DIRECT_DEBIT_REJECTION_DUE_DAYS = env.int("DIRECT_DEBIT_REJECTION_DUE_DAYS", default=15)
# An invoicing run whose worker gave no sign of life for this long was stopped before its end.
INVOICING_RUN_STALE_AFTER = datetime.timedelta(minutes=10)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# Messages ("Réservation enregistrée") ride in a signed cookie, and in the session only when
# too long for it: showing one after a redirect writes no session row, on the request that
# adds it nor on the page that shows it. The cookie takes the session cookie's flags
# (Secure, HttpOnly, SameSite=Lax).
MESSAGE_STORAGE = "django.contrib.messages.storage.fallback.FallbackStorage"

# Celery: Redis as broker; without REDIS_URL (and always in tests) tasks run in-process.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL or TESTING
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Requests hand work to the worker through the outbox (common.outbox): a publish that fails is
# not retried in the request, the beat's sweep delivers it; and while the broker is down,
# requests stop trying for OUTBOX_BROKER_RETRY_AFTER seconds.
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": REDIS_TIMEOUT,
    "socket_timeout": max(REDIS_TIMEOUT, 1.0),
    # Connecting to send a task: one quick retry, not kombu's ~2 s of them.
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.5,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_TIMEOUT
CELERY_REDIS_SOCKET_TIMEOUT = max(REDIS_TIMEOUT, 1.0)
OUTBOX_BROKER_RETRY_AFTER = env.int("OUTBOX_BROKER_RETRY_AFTER", default=30)

# Security
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=60 * 60 * 8)
SESSION_SAVE_EVERY_REQUEST = True  # so that SESSION_COOKIE_AGE is an idle timeout
# Sessions in the database, read with their user and family in one query (accounts.sessions); an
# unchanged session is written back only when its end moves by more than SESSION_REFRESH_SECONDS
# (the idle timeout holds to within that), not on every request.
SESSION_ENGINE = "accounts.sessions"
SESSION_USER_RELATED = ["guardian__family"]
SESSION_REFRESH_SECONDS = 5 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        # The green card button's POST is answered with a redirect to Stripe Checkout, and
        # browsers check form-action along the redirect too.
        "form-action": ["'self'", "https://checkout.stripe.com"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
