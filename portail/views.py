import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connections
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from common.text import render_plain_text

from .models import SitePage
from .navigation import entries_for
from .todo import family_todos

logger = logging.getLogger(__name__)


@login_not_required
@require_GET
def home(request):
    if not request.user.is_authenticated:
        return render(request, "portail/landing.html")
    tiles = [
        item
        for item in entries_for(request)
        if item["entry"].url_name != "families:family_detail" or request.family
    ]
    return render(
        request, "portail/home.html", {"tiles": tiles, "todos": family_todos(request.family)}
    )


@login_not_required
@require_GET
def site_page(request, slug):
    page = get_object_or_404(SitePage, slug=slug)
    return render(
        request, "portail/site_page.html", {"page": page, "body": render_plain_text(page.body)}
    )


def _check_database():
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_redis():
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=settings.REDIS_TIMEOUT,
        socket_timeout=settings.REDIS_TIMEOUT,
    )
    try:
        client.ping()
    finally:
        client.close()


@login_not_required
@never_cache
@require_GET
def health(request):
    """Status of the database (and Redis when configured). 503 only without the database: with
    Redis down the portal still serves every page (the cache falls back to memory, tasks wait in
    the outbox), so it answers 200 and says it is degraded."""
    checks = {"database": _check_database}
    if settings.REDIS_URL:
        checks["redis"] = _check_redis
    status = {}
    for name, check in checks.items():
        try:
            check()
        except Exception:  # any failure of a dependency is reported, never raised
            logger.exception("Health check failed for %s", name)
            status[name] = "indisponible"
        else:
            status[name] = "ok"
    healthy = all(value == "ok" for value in status.values())
    return JsonResponse(
        {"status": "ok" if healthy else "degrade", **status},
        status=200 if status["database"] == "ok" else 503,
    )
