"""The register in the browser, on a phone and on a desktop: the three states tapped, a walk-in
added, a child added by derogation with its reason; no axe-core violation, nothing sticking out
of the screen, screenshots to look at."""

import datetime
import re

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.urls import reverse
from playwright.sync_api import expect, sync_playwright

from families.demo import ensure_school_years
from reservations.models import Booking
from reservations.reference import ensure_reference_data
from tests.e2e.checks import BrowserWatch, axe_violations, find_overflow
from tests.e2e.conftest import ARTIFACTS, launch, log_in
from tests.factories import PASSWORD, SchoolFactory, UserFactory, totp_code
from tests.reservations.conftest import make_family

pytestmark = pytest.mark.e2e

TODAY = datetime.date(2026, 11, 26)
NOW = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)
WIDTHS = (360, 1280)
MARKS = (("Léa", "Présent"), ("Lalo", "Absent"), ("Nina", "Absent excusé"))


def register_data(width):
    """A school of its own per width: three children booked on this morning's créneau, an
    enrolled child to add, a child without enrolment to add by derogation, and the staff."""
    slots = ensure_reference_data()
    ensure_school_years(TODAY)
    school = SchoolFactory(name=f"École du Prainet {width}")
    family = make_family(f"LAGRANGE{width}", school, children=["Léa", "Lalo"])
    other = make_family(f"BERNARD{width}", school, children=["Nina"])
    for child in [*family.children.all(), *other.children.all()]:
        Booking.objects.create(child=child, slot=slots["matin"], date=TODAY, school=school)
    make_family(f"MARTIN{width}", school, children=["Hugo"])
    make_family(f"NOUVEAU{width}", school, children=["Zoé"], enrolled=False)
    users = {}
    for group, email in (
        ("Assistant administratif", f"assistant-{width}@example.org"),
        ("Animateur", f"animateur-{width}@example.org"),
    ):
        user = UserFactory(email=email, is_staff=True, first_name="Claire", last_name="ROUX")
        user.groups.add(Group.objects.get(name=group))
        users[group] = user.totp_secret
    return {
        "path": reverse("pointage:attendance")
        + f"?ecole={school.pk}&creneau={slots['matin'].pk}&date={TODAY.isoformat()}",
        "assistant": (f"assistant-{width}@example.org", users["Assistant administratif"]),
        "animateur": (f"animateur-{width}@example.org", users["Animateur"]),
        "width": width,
    }


def sign_in(page, base, email, secret):
    log_in(page, base, email, PASSWORD)
    page.locator("input[name=code]").fill(totp_code(secret))
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    assert "/comptes/2fa/" not in page.url, page.url


def check(page, name, width, problems):
    page.screenshot(path=ARTIFACTS / f"pointage-{name}-{width}.png", full_page=True)
    problems += [f"{name} {width}px: {p}" for p in axe_violations(page)]
    problems += [f"{name} {width}px: {p}" for p in find_overflow(page)]


def take_register(browser, base, data):
    """The office's assistant taps the three states, adds a walk-in, then a child by
    derogation; the animateur sees the same list without the derogation form."""
    width, problems = data["width"], []
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="fr-FR")
    context.set_default_timeout(10_000)
    watch = BrowserWatch().attach(context)
    page = context.new_page()
    sign_in(page, base, *data["assistant"])
    page.goto(base + data["path"])
    expect(page.get_by_role("heading", level=2).first).to_have_text(
        f"Jeudi 26 novembre 2026 — Accueil du matin (07h20-08h20) · École du Prainet {width}"
    )
    for first_name, state in MARKS:
        row = page.locator(".attendance-row", has_text=first_name)
        row.get_by_role("button", name=re.compile(f"^{state} :")).click()
        expect(
            page.locator(".attendance-row", has_text=first_name).get_by_role(
                "button", name=re.compile(f"^{state} :")
            )
        ).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#compteur").first).to_contain_text(
        "3 enfants : 1 présent, 1 absent, 1 absent excusé, 0 à pointer."
    )
    check(page, "trois-etats", width, problems)

    page.get_by_label("Enfant inscrit au service", exact=True).select_option(
        label=f"MARTIN{width} Hugo (CE2)"
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Ajouter présent").click()
    expect(page.locator(".messages")).to_contain_text("Hugo MARTIN")
    page.locator("#id_enfant_derogation").select_option(
        label=f"NOUVEAU{width} Zoé (CE2) — sans inscription acceptée"
    )
    page.get_by_label("Motif de la dérogation").fill("Inscription en cours de traitement")
    with page.expect_navigation():
        page.get_by_role("button", name="Ajouter par dérogation").click()
    expect(page.locator(".messages")).to_contain_text("par dérogation")
    expect(page.locator(".attendance-row", has_text="Zoé")).to_contain_text(
        "Dérogation de Claire ROUX : Inscription en cours de traitement"
    )
    page.evaluate("window.scrollTo(0, 0)")
    check(page, "sans-reservation-et-derogation", width, problems)
    context.close()

    context = browser.new_context(viewport={"width": width, "height": 800}, locale="fr-FR")
    watch.attach(context)
    page = context.new_page()
    sign_in(page, base, *data["animateur"])
    page.goto(base + data["path"])
    expect(page.locator("#par-derogation")).to_have_count(0)
    check(page, "animateur", width, problems)
    context.close()
    # The sign-in pages name no icon: the browser asks for /favicon.ico on its own.
    return problems + [item for item in watch.drain() if "/favicon.ico" not in item]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_register_on_a_phone_and_a_desktop(live_server, browser_path, fresh_rate_limits):
    """Three states, a walk-in and a derogation at 360 px and 1280 px, with no axe violation."""
    with time_machine.travel(NOW, tick=True):
        data = [register_data(width) for width in WIDTHS]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        problems = []
        with sync_playwright() as playwright:
            browser = launch(playwright, browser_path)
            for per_width in data:
                problems += take_register(browser, live_server.url, per_width)
            browser.close()
    assert not problems, "\n".join(problems)
    assert Booking.objects.filter(override_reason="Inscription en cours de traitement").count() == 2
