"""The settings gunicorn serves the load test with: production's, plus the bench URLconf (the
portal's URLs and the floor view). Only `make loadtest` names this module
(DJANGO_SETTINGS_MODULE); nothing in production does."""

from portail.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
