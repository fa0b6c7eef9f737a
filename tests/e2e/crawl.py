"""The crawl's vocabulary: the pages it visits and the check that no route is left out."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Partial:
    """An htmx partial that a page loads: fetched as htmx would (HX-Request), swapped into the
    page at `target`, then checked along with the page."""

    route: str  # the route name the partial's URL resolves to
    path: str
    target: str = "main"


@dataclass(frozen=True)
class ErrorState:
    """Submitting a form of the page with its text fields emptied (or `fill` applied): the page
    must come back with French error messages and pass the same checks."""

    form: str = "main form"  # CSS selector of the form
    submit: str = "button[type=submit]"  # within the form
    expect: str = "Ce champ est obligatoire."
    fill: tuple = ()  # (selector, value) pairs typed after emptying, to make a value invalid
    clear: bool = True


@dataclass(frozen=True)
class Visit:
    """One page (state) of the crawl, screenshotted as `<name>-<width>.png`."""

    name: str
    path: str
    route: str  # the route name the final URL must resolve to (redirects are caught)
    errors: ErrorState | None = None
    partials: tuple[Partial, ...] = field(default_factory=tuple)


def coverage_gaps(routes, visited, excluded, unreachable=()):
    """Why the crawl does not cover `routes`: every route must be visited, or excluded with a
    reason, or shown to render nothing (`unreachable`). Stale exclusions are reported too."""
    names = {route.name for route in routes}
    accounted = set(visited) | set(excluded) | set(unreachable)
    gaps = [
        f"route {route.name!r} ({route.pattern}) is neither crawled nor excluded with a reason"
        for route in routes
        if route.name not in accounted
    ]
    gaps += [
        f"route {route.pattern!r} has no name: name it so that the crawl can account for it"
        for route in routes
        if not route.name
    ]
    for name in sorted((set(excluded) | set(unreachable)) - names):
        gaps.append(f"exclusion {name!r} names no route: remove it")
    for name in sorted((set(excluded) | set(unreachable)) & set(visited)):
        gaps.append(f"route {name!r} is crawled: remove it from the exclusions")
    for name, reason in {**dict(excluded), **dict(unreachable)}.items():
        if not str(reason).strip():
            gaps.append(f"exclusion {name!r} gives no reason")
    return gaps
