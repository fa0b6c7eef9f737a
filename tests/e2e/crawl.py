"""The crawl's vocabulary (the pages it visits, how it checks them) and its coverage check."""

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.urls import Resolver404, resolve, reverse
from playwright.sync_api import Error as PlaywrightError

from tests.e2e.checks import BrowserWatch, axe_violations, find_overflow
from tests.e2e.conftest import ARTIFACTS, log_in


@dataclass(frozen=True)
class Partial:
    """An htmx partial that a page loads: fetched as htmx would (HX-Request header), put in
    place of the content of `target` (htmx's innerHTML swap), then checked with the page
    (screenshot `<page>-<route>`)."""

    route: str  # the route name the partial's URL resolves to
    path: str
    target: str = "main"


@dataclass(frozen=True)
class ErrorState:
    """The page's form submitted with its text fields emptied: the page must come back with a
    visible error, saying `expect` in French, and pass the same checks (screenshot
    `<name>-erreurs`)."""

    form: str = "main form"  # CSS selector of the form
    submit: str = "button[type=submit]"  # within the form
    expect: str = "Ce champ est obligatoire."
    status: int = 200
    route: str = ""  # the route the form posts to, when not the page's own


@dataclass(frozen=True)
class Visit:
    """One page (or state) of the crawl, screenshotted as `<name>-<width>.png`."""

    name: str
    path: str  # "" checks the page the browser is on (reached by the step before)
    route: str | None  # the route name the final URL must resolve to (None: no route, a 404)
    errors: ErrorState | None = None
    partials: tuple[Partial, ...] = field(default_factory=tuple)
    status: int = 200


@dataclass(frozen=True)
class Submit:
    """A step between pages: fills a form of the current page and submits it. A value may be a
    callable, called at that moment (e.g. to read a code from the last e-mail)."""

    form: str = "main form"
    fields: tuple = ()  # (selector within the form, value) pairs
    submit: str = "button[type=submit]"


@dataclass(frozen=True)
class Click:
    """A step: clicks a control of the current page (an htmx button, or a plain form button),
    waits for the answer of `route`, then checks the page as it stands (screenshot `name`)."""

    name: str
    selector: str
    route: str  # the route the click calls
    page_route: str  # the route of the page shown afterwards
    choose: tuple = ()  # (select, option label) pairs chosen before the click


@dataclass(frozen=True)
class LogIn:
    """A step: signs in through the login form."""

    email: str
    password: str


@dataclass(frozen=True)
class Download:
    """A route that answers a file, not a page: fetched with the browser's session."""

    route: str
    path: str
    content_type: str


def route_of(url):
    """The route name `url` resolves to, or None."""
    try:
        return resolve(urlsplit(url).path).view_name
    except Resolver404:
        return None


def coverage_gaps(routes, visited, excluded, unreachable=()):
    """Why the crawl does not cover `routes`: every route must be visited, or excluded with a
    reason, or shown to render nothing (`unreachable`). Stale exclusions are reported too."""
    names = {route.name for route in routes}
    exclusions = {**dict(excluded), **dict(unreachable)}
    accounted = set(visited) | set(exclusions)
    gaps = [
        f"route {route.name!r} ({route.pattern}) is neither crawled nor excluded with a reason"
        for route in routes
        if route.name and route.name not in accounted
    ]
    gaps += [
        f"route {route.pattern!r} has no name: name it so that the crawl can account for it"
        for route in routes
        if not route.name
    ]
    gaps += [
        f"exclusion {name!r} names no route: remove it" for name in sorted(set(exclusions) - names)
    ]
    gaps += [
        f"route {name!r} is crawled: remove it from the exclusions"
        for name in sorted(set(exclusions) & set(visited))
    ]
    gaps += [
        f"exclusion {name!r} gives no reason"
        for name, reason in exclusions.items()
        if not str(reason).strip()
    ]
    return gaps


class Crawler:
    """Visits pages in one browser context and collects every failure, page by page."""

    def __init__(self, context, base_url, width):
        context.set_default_timeout(10_000)
        self.watch = BrowserWatch().attach(context)
        self.page = context.new_page()
        self.base_url = base_url
        self.width = width
        self.failures = []
        self.visited = set()
        # The HTML of each page checked (name → document), for the Nu HTML Checker at the end.
        self.documents = {}
        self._document = None  # the response that brought the current page
        self.page.on("response", self._on_response)

    def _on_response(self, response):
        request = response.request
        if request.is_navigation_request() and request.frame == self.page.main_frame:
            self._document = response

    def visit(self, visit):
        """Opens the page (unless already on it), checks it, its partials and its error state."""
        response = self.page.goto(self.base_url + visit.path) if visit.path else None
        if self.check(visit.name, visit.route, response, visit.status) and visit.route:
            self.visited.add(visit.route)
        for partial in visit.partials:
            self._check_partial(visit, partial)
        if visit.errors:
            self._check_error_state(visit)

    def run(self, name, steps):
        """Runs Visit, Submit, LogIn and Download steps in order. A step that cannot go on (a
        missing form, a failed login) ends the session as a failure, not the whole crawl."""
        try:
            for step in steps:
                if isinstance(step, Visit):
                    self.visit(step)
                elif isinstance(step, Submit):
                    self.submit(step)
                elif isinstance(step, Click):
                    self.click(step)
                elif isinstance(step, LogIn):
                    log_in(self.page, self.base_url, step.email, step.password)
                else:
                    self.download(step)
        except Exception as exc:  # reported with the page it happened on, the crawl goes on
            self.page.screenshot(path=ARTIFACTS / f"echec-{name}-{self.width}.png", full_page=True)
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.failures.append(
                f"session {name} @ {self.width}px stopped at {self.page.url} by {step}: {message}"
            )

    def submit(self, step):
        """Fills and submits a form of the current page, waits for the next page; returns its
        response."""
        form = self.page.locator(step.form).first
        for selector, value in step.fields:
            form.locator(selector).fill(value() if callable(value) else value)
        with self.page.expect_navigation() as navigation:
            form.locator(step.submit).first.click()
        return navigation.value

    def click(self, step):
        """Clicks, waits for the call to `step.route` and for htmx to settle, checks the page."""
        for select, label in step.choose:
            self.page.locator(select).first.select_option(label=label)
        with self.page.expect_response(
            lambda response: route_of(response.url) == step.route
        ) as info:
            self.page.locator(step.selector).first.click()
        response = info.value
        self.page.wait_for_load_state()
        self.page.wait_for_function(
            "() => !document.querySelector('.htmx-request, .htmx-settling')"
        )
        if response.status >= 400:
            self.failures.append(
                f"{step.name} @ {self.width}px: {step.route} answered {response.status}"
            )
        if self.check(step.name, step.page_route, swapped=True) and response.status < 400:
            self.visited.add(step.route)

    def download(self, download):
        """The file route answers 200 with the expected type to the logged-in browser."""
        response = self.page.request.get(self.base_url + download.path)
        content_type = response.headers.get("content-type", "")
        if response.status != 200 or not content_type.startswith(download.content_type):
            self.failures.append(
                f"{download.route} @ {self.width}px: {response.status} {content_type!r} for "
                f"{download.path}, expected 200 {download.content_type}"
            )
        else:
            self.visited.add(download.route)
        response.dispose()

    def check_unreachable(self, names):
        """Each route still renders no page: 404, or a redirect to another route."""
        for name in names:
            response = self.page.goto(self.base_url + reverse(name))
            self.watch.drain()  # a 404 is the expected answer
            if response.status == 200 and route_of(self.page.url) == name:
                self.failures.append(f"{name} now renders a page: add it to the crawl")

    def check(self, name, route, response=None, status=200, swapped=False):
        """Checks the page as it stands and screenshots it; True when it is the expected page
        and passes every check. Keeps its HTML: as the server sent it, or, once htmx (or the
        crawl) has `swapped` a piece into it, as the browser now holds it."""
        self._keep_document(name, swapped)
        problems = []
        if response is not None and response.status != status:
            problems.append(f"HTTP {response.status}, expected {status}")
        if route_of(self.page.url) != route:
            problems.append(f"ended at {self.page.url} ({route_of(self.page.url)}), not {route}")
        problems += [f"overflow: {item}" for item in find_overflow(self.page)]
        problems += [f"axe: {item}" for item in axe_violations(self.page)]
        self.page.screenshot(path=ARTIFACTS / f"{name}-{self.width}.png", full_page=True)
        seen = self.watch.drain()
        if status != 200:  # the browser logs the expected error status of the page itself
            expected = f"the server responded with a status of {status}"
            seen = [item for item in seen if expected not in item or self.page.url not in item]
        problems += seen
        self.failures += [f"{name} @ {self.width}px: {problem}" for problem in problems]
        return not problems

    def _keep_document(self, name, swapped):
        document = self._document
        if swapped or document is None or document.url != self.page.url:
            html = self.page.content()
        elif "text/html" not in document.headers.get("content-type", ""):
            return
        else:
            try:
                html = document.text()
            except PlaywrightError:  # the body is no longer held: the page as the browser has it
                html = self.page.content()
        self.documents[f"{name}-{self.width}"] = html

    def _check_partial(self, visit, partial):
        swapped = self.page.evaluate(
            """async ([path, target]) => {
                const response = await fetch(path, {headers: {"HX-Request": "true"}});
                const html = await response.text();
                if (response.ok) document.querySelector(target).innerHTML = html;
                return {status: response.status, url: response.url};
            }""",
            [partial.path, partial.target],
        )
        name = f"{visit.name}-{partial.route.replace(':', '-')}"
        if swapped["status"] != 200 or route_of(swapped["url"]) != partial.route:
            self.failures.append(
                f"{name}: partial answered {swapped['status']} at {swapped['url']}"
            )
        elif self.check(name, visit.route, swapped=True):
            self.visited.add(partial.route)

    def _check_error_state(self, visit):
        state = visit.errors
        # Empties every text field a user can type in, in one round trip.
        self.page.locator(state.form).first.evaluate(
            """form => {
                const typed = "input:not([type]), input[type=text], input[type=email],"
                    + " input[type=password], input[type=tel], input[type=date], input[type=number],"
                    + " input[type=url], input[type=search], textarea";
                for (const field of form.querySelectorAll(typed)) {
                    if (!field.disabled && !field.readOnly && field.getClientRects().length) {
                        field.value = "";
                    }
                }
            }"""
        )
        response = self.submit(Submit(state.form, submit=state.submit))
        name = f"{visit.name}-erreurs"
        if not self.page.locator("main").get_by_text(state.expect).first.is_visible():
            self.failures.append(
                f"{name} @ {self.width}px: no visible error «{state.expect}» after submitting"
                " the form"
            )
        route = state.route or visit.route
        if self.check(name, route, response, state.status):
            self.visited.add(route)
