"""How the simulated parents read the portal's forms, as a browser would submit them: the CSRF
token, the day panel's fields and the removal's confirmation step. Plain functions on the HTML,
without Locust, so that the tests check them against the pages the portal renders."""

import re

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HIDDEN_RE = re.compile(r'<input type="hidden" name="(affiches|reserves|modifiables)" value="(\d+)"')
CHECKBOX_RE = re.compile(r'<input[^>]*\bname="creneau"[^>]*>')
VALUE_RE = re.compile(r'\bvalue="(\d+)"')


def title(html: str) -> str:
    """The page's <title>, to say what came back instead of the expected page."""
    match = re.search(r"<title>([^<]*)</title>", html)
    return f"« {match.group(1).strip()} »" if match else ""


def csrf_token(html: str) -> str | None:
    match = CSRF_RE.search(html)
    return match.group(1) if match else None


def panel_form(html: str) -> dict[str, list[str]]:
    """The day panel's form as a browser would submit it: CSRF token, hidden fields, and the
    créneaux ticked and enabled."""
    fields = {"affiches": [], "reserves": [], "modifiables": [], "creneau": []}
    for name, value in HIDDEN_RE.findall(html):
        fields[name].append(value)
    for tag in CHECKBOX_RE.findall(html):
        value = VALUE_RE.search(tag)
        if value and re.search(r"\schecked\b", tag) and not re.search(r"\sdisabled\b", tag):
            fields["creneau"].append(value.group(1))
    return fields


def confirm_form(html: str) -> dict[str, list[str]]:
    """The hidden fields of the removal's confirmation step."""
    fields = {}
    for name, value in re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html):
        if name != "csrfmiddlewaretoken":
            fields.setdefault(name, []).append(value)
    return fields


def encode(fields: dict[str, list[str]], token: str) -> list[tuple[str, str]]:
    return [("csrfmiddlewaretoken", token)] + [
        (name, value) for name, values in fields.items() for value in values
    ]
