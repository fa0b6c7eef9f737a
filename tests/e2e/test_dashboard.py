"""The office's dashboard in the browser: the assistant signs in (password, then the
authenticator's code), lands on the dashboard, opens the occupancy of the coming weeks and the
figures for the CAF (a month, then the year); at 1280
and 360 px, with axe-core, the overflow check and no CSP violation; screenshots of each."""

import datetime

import pytest
import time_machine
from django.contrib.auth.models import Group
from playwright.sync_api import expect, sync_playwright

from accounts.models import User
from portail.demo import seed_demo
from tests.e2e.checks import BrowserWatch, axe_violations, find_overflow
from tests.e2e.conftest import ARTIFACTS, launch, log_in
from tests.factories import PASSWORD, UserFactory, activate_totp, totp_code

pytestmark = pytest.mark.e2e

TODAY = datetime.date(2026, 11, 26)
NOW = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)
WIDTHS = (1280, 360)


def dashboard_data():
    """The demo, and one assistant a width (a TOTP code serves only once)."""
    seed_demo(TODAY)
    demo = User.objects.get(email="assistant@example.org")
    second = UserFactory(email="assistant-2@example.org", is_staff=True, first_name="Maud")
    second.groups.add(Group.objects.get(name="Assistant administratif"))
    return {
        1280: ("assistant@example.org", "assistant-portail", activate_totp(demo)),
        360: ("assistant-2@example.org", PASSWORD, second.totp_secret),
    }


def check(page, name, width):
    """axe-core and the overflow check on the page as it stands, and its screenshot."""
    page.screenshot(path=ARTIFACTS / f"tableau-de-bord-{name}-{width}.png", full_page=True)
    return [f"{name} @ {width}px: {line}" for line in axe_violations(page) + find_overflow(page)]


def visit(browser, base, width, account):
    email, password, secret = account
    context = browser.new_context(viewport={"width": width, "height": 800}, locale="fr-FR")
    context.set_default_timeout(10_000)
    watch = BrowserWatch().attach(context)
    page = context.new_page()

    log_in(page, base, email, password)
    page.locator("input[name=code]").fill(totp_code(secret))
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    assert page.url == base + "/admin/", page.url  # the office lands on its dashboard
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de bord")
    expect(page.get_by_role("heading", name="Demandes")).to_be_visible()
    expect(page.get_by_role("link", name="Échanges", exact=False).first).to_be_visible()
    problems = check(page, "accueil", width)

    page.get_by_role("link", name="Places réservées et places offertes").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Occupation des quatre prochaines semaines"
    )
    expect(page.locator("figure.occupancy-chart svg").first).to_be_visible()
    problems += check(page, "occupation", width)
    page.locator(".occupancy-data summary").click()
    expect(page.locator(".occupancy-data table")).to_be_visible()
    problems += check(page, "occupation-tableau", width)

    # The figures for the CAF: last month by default, then the whole year month by month.
    page.goto(base + "/admin/")
    page.get_by_role("link", name="Heures réservées, réalisées et facturées").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Chiffres pour la CAF")
    expect(page.get_by_role("heading", level=2, name="Octobre 2026")).to_be_visible()
    expect(page.get_by_role("img", name="Heures réservées, réalisées et facturées")).to_be_visible()
    expect(page.locator("table.caf-table")).to_contain_text("Accueil du matin")
    problems += check(page, "caf-mois", width)
    page.get_by_label("Mois").select_option(label="Toute l'année")
    with page.expect_navigation():
        page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_role("heading", level=2, name="Année 2026")).to_be_visible()
    page.locator(".occupancy-data summary").click()
    expect(page.locator(".occupancy-data table")).to_contain_text("Septembre 2026")
    problems += check(page, "caf-annee", width)

    problems += [f"@ {width}px: {problem}" for problem in watch.drain()]
    context.close()
    return problems


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_dashboard_in_the_browser(live_server, browser_path, fresh_rate_limits):
    """The dashboard, the occupancy and the CAF figures pass axe-core, fit 360 px and break no
    CSP rule."""
    with time_machine.travel(NOW, tick=True):
        accounts = dashboard_data()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = launch(playwright, browser_path)
            problems = []
            for width in WIDTHS:
                problems += visit(browser, live_server.url, width, accounts[width])
            browser.close()
    assert not problems, "\n".join(problems)
