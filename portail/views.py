import logging
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connections
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from common.text import render_plain_text
from families.decorators import family_required

from . import mydata, pdfs
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


def guardians_only(view):
    """A page of a family's own data: staff accounts get a 404, whatever family they belong to
    (the office reads a family's data in the admin, where access is granted and logged)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_staff:
            raise Http404("Page réservée aux familles")
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
@guardians_only
@family_required
def my_data(request):
    """« Mes données »: what the download holds, and the two formats."""
    return render(request, "portail/mes_donnees.html", {"family": request.family})


def _download(request, content: bytes, *, content_type: str, extension: str) -> HttpResponse:
    mydata.data_download_record(family=request.family, user=request.user, file_format=extension)
    response = HttpResponse(content, content_type=content_type)
    filename = f"mes-donnees-portail-famille-{timezone.localdate():%Y-%m-%d}.{extension}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@never_cache
@require_GET
@guardians_only
@family_required
def my_data_json(request):
    """Everything the portal holds about the family, as one JSON file; the download is logged."""
    data = mydata.family_data(request.family, now=timezone.now())
    return _download(
        request,
        mydata.to_json(data),
        content_type="application/json; charset=utf-8",
        extension="json",
    )


@never_cache
@require_GET
@guardians_only
@family_required
def my_data_pdf(request):
    """The same data as a readable PDF; the download is logged."""
    data = mydata.family_data(request.family, now=timezone.now())
    return _download(
        request,
        pdfs.my_data_pdf(data, family=request.family),
        content_type="application/pdf",
        extension="pdf",
    )
