"""Walks the URLconf so that the guardrail tests notice every route, including future ones."""

from dataclasses import dataclass

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    name: str  # "namespace:name" or "name"
    pattern: str  # the path as written, e.g. "foyer/enfants/<int:pk>/"
    params: tuple  # the parameters taken from the path, e.g. ("pk",)


def _walk(entries, prefix="", namespace="", params=()):
    for entry in entries:
        names = params + tuple(entry.pattern.regex.groupindex)
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), full_ns, names)
        elif isinstance(entry, URLPattern):
            name = entry.name or ""
            full_name = f"{namespace}:{name}" if namespace and name else name
            yield Route(full_name, prefix + str(entry.pattern), names)


def all_routes():
    return list(_walk(get_resolver().url_patterns))


def is_admin(route: Route) -> bool:
    return route.pattern.startswith(settings.ADMIN_URL) or route.name.startswith("admin:")


def parent_routes():
    """Every route a parent (or a visitor) can reach: all but the staff site."""
    return [route for route in all_routes() if not is_admin(route)]
