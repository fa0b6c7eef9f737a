"""A child's calendar in the family's phone: the page with the feed's private address, its
regeneration, and the feed itself (open without login: the token is the check)."""

import hashlib

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control
from django.views.decorators.http import require_http_methods, require_safe

from families.decorators import family_required
from families.models import Child

from .. import feeds

# Calendar apps fetch a feed every few hours; an hour of private caching spares the server and
# keeps a regenerated address's old feed out of shared caches.
FEED_MAX_AGE = 3600


def _child(request, child_id) -> Child:
    child = Child.objects.in_household(request.family).filter(pk=child_id).first()
    if child is None:
        raise Http404("Enfant introuvable.")
    return child


def _addresses(request, feed) -> tuple[str, str]:
    """The feed's https address and its webcal:// twin, which phones open as a subscription."""
    url = request.build_absolute_uri(
        reverse("reservations:calendar_feed", args=[feeds.feed_token(feed)])
    )
    return url, "webcal://" + url.split("://", 1)[1]


@require_safe
@family_required
def calendar_subscribe(request, child_id):
    """The child's calendar address, with how to subscribe to it from a phone."""
    child = _child(request, child_id)
    feed = feeds.feed_for(child=child, family=request.family)
    url, webcal = _addresses(request, feed)
    context = {
        "child": child,
        "feed_url": url,
        "webcal_url": webcal,
        "today": timezone.localdate(),
    }
    response = render(request, "reservations/calendar_subscribe.html", context)
    patch_cache_control(response, private=True, no_store=True)
    return response


@require_http_methods(["GET", "POST"])
@family_required
def calendar_regenerate(request, child_id):
    """GET: asks for confirmation; POST: a new address, the old one stops working at once."""
    child = _child(request, child_id)
    if request.method == "POST":
        feeds.feed_regenerate(feed=feeds.feed_for(child=child, family=request.family))
        messages.success(
            request,
            f"Le lien de l'agenda de {child.first_name} a été régénéré : l'ancien ne fonctionne "
            "plus. Abonnez de nouveau vos appareils avec le nouveau lien.",
        )
        return redirect("reservations:calendar_subscribe", child.pk)
    return render(request, "reservations/calendar_regenerate.html", {"child": child})


@login_not_required
@require_safe
def calendar_feed(request, token):
    """The child's calendar (iCalendar), for calendar apps; an unknown token is a 404."""
    feed = feeds.find_feed(token)
    if feed is None:
        raise Http404("Agenda introuvable.")
    body = feeds.calendar_for(feed, today=timezone.localdate(), now=timezone.now())
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    response = get_conditional_response(request, etag=etag)
    if response is None:
        response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="agenda.ics"'
    response["ETag"] = etag
    response["X-Robots-Tag"] = "noindex, nofollow"
    patch_cache_control(response, private=True, max_age=FEED_MAX_AGE)
    return response
