"""The bench URLconf: the portal's own URLs plus the floor, which only the bench serves."""

from django.http import HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_GET

from bench.run import FLOOR_PATH
from families.models import Guardian


@require_GET
def floor(request):
    """The cheapest authenticated page: the middleware stack, then exactly one query of its own."""
    has_family = Guardian.objects.filter(user=request.user).exists()
    return HttpResponse(f"ok {int(has_family)}", content_type="text/plain")


urlpatterns = [
    path(FLOOR_PATH.strip("/") + "/", floor, name="bench_floor"),
    path("", include("portail.urls")),
]
