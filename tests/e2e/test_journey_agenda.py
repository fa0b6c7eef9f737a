"""The agenda in the browser: a parent books and unbooks créneaux on a day (with the mouse, then
with the keyboard only), meets a day that can no longer be changed, books a period in one go
with the saisie groupée; an animateur takes the register on a phone."""

import datetime
import re

import pytest
import time_machine
from playwright.sync_api import expect, sync_playwright

from accounts.models import User
from families.models import Child
from portail.demo import seed_demo
from reservations.calendar import ServiceCalendar
from reservations.models import Booking, Slot
from tests.e2e.checks import BrowserWatch
from tests.e2e.conftest import ARTIFACTS, launch, log_in
from tests.factories import activate_totp, totp_code

pytestmark = pytest.mark.e2e

TODAY = datetime.date(2026, 11, 26)  # a Thursday: the first modifiable day is Wed 02/12/2026
NOW = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)
PARENT = ("parent@example.org", "parent-portail")
ANIMATEUR = ("animateur@example.org", "animateur-portail")

BOOKED_DAY = datetime.date(2026, 12, 7)  # Monday, ISO week 50: Lalo has only « soir 2 » booked
KEYBOARD_DAY = datetime.date(2026, 12, 8)  # Tuesday: nothing booked for Lalo
LOCKED_DAY = datetime.date(2026, 11, 27)  # Friday, within the 3 working days
MATIN = "Matin 07h20-08h20"
SOIR_1 = "soir 1 : 16h30 à 17h30"


def shot(page, step, width):
    page.screenshot(path=ARTIFACTS / f"journey-agenda-{step}-{width}.png", full_page=True)


def cell(page, day):
    return page.locator(f"#jour-{day.isoformat()}")


def cell_bookings(page, day):
    return cell(page, day).locator(".agenda-bookings li")


def panel(page):
    return page.locator("#panneau-jour")


def new_page(browser, width, height=800):
    context = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR")
    context.set_default_timeout(10_000)
    watch = BrowserWatch().attach(context)
    return context, context.new_page(), watch


def journey_day_with_the_mouse(browser, base, data, width=1280):
    """Tick two créneaux on a modifiable day, save, see them on the grid, delete one from its
    detail; then a day past the deadline: disabled boxes with the reason, nothing saved."""
    context, page, watch = new_page(browser, width)
    log_in(page, base, *PARENT)
    page.goto(base + "/agenda/")
    page.get_by_role("navigation", name="Choisir l'enfant").get_by_role(
        "link", name=re.compile("Lalo")
    ).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Agenda de Lalo")
    page.get_by_role("link", name="Mois suivant").click()
    expect(page.locator("#titre-mois")).to_contain_text("décembre 2026")
    expect(cell_bookings(page, BOOKED_DAY)).to_have_text([re.compile("Soir 2")])

    cell(page, BOOKED_DAY).locator("a.agenda-day-link").click()
    expect(panel(page).get_by_role("heading", level=2)).to_have_text(
        "Horaires disponibles pour le 07/12/2026"
    )
    expect(page.locator("[data-panel-title]")).to_be_focused()
    panel(page).get_by_label(MATIN).check()
    panel(page).get_by_label(SOIR_1).check()
    shot(page, "jour-coche", width)
    panel(page).get_by_role("button", name="Enregistrer").click()
    expect(panel(page).locator(".alert-success")).to_have_text(f"Réservé : {MATIN}, {SOIR_1}.")
    expect(cell_bookings(page, BOOKED_DAY)).to_have_text(
        [re.compile("^Matin"), re.compile("^Soir 1"), re.compile("^Soir 2")]
    )
    expect(panel(page).get_by_label(MATIN)).to_be_checked()
    shot(page, "jour-enregistre", width)

    # The grid survives a reload: the bookings are in the database, not only on the page.
    page.reload()
    expect(cell_bookings(page, BOOKED_DAY)).to_have_count(3)

    cell_bookings(page, BOOKED_DAY).get_by_role("link", name=re.compile("^Matin")).click()
    expect(panel(page).get_by_role("heading", level=2)).to_have_text(f"Accueil du matin : {MATIN}")
    expect(panel(page)).to_contain_text("Le 07/12/2026 de 07:20 à 08:20")
    shot(page, "reservation-detail", width)
    panel(page).get_by_role("link", name=re.compile("^Supprimer")).click()
    expect(panel(page)).to_contain_text(
        f"Vous allez supprimer : {MATIN} (lundi 7 décembre). Confirmer la suppression ?"
    )
    expect(page.locator("[data-panel-title]")).to_be_focused()
    expect(cell_bookings(page, BOOKED_DAY)).to_have_count(3)  # nothing removed yet
    panel(page).get_by_role("button", name="Confirmer la suppression").click()
    expect(panel(page).locator(".alert-success")).to_have_text(f"Supprimé : {MATIN}.")
    expect(cell_bookings(page, BOOKED_DAY)).to_have_text(
        [re.compile("^Soir 1"), re.compile("^Soir 2")]
    )
    page.reload()
    expect(cell_bookings(page, BOOKED_DAY)).to_have_text(
        [re.compile("^Soir 1"), re.compile("^Soir 2")]
    )
    shot(page, "jour-supprime", width)

    # Friday 27/11: within the 3 working days, nothing can be changed.
    page.get_by_role("link", name="Mois précédent").click()
    expect(page.locator("#titre-mois")).to_contain_text("novembre 2026")
    cell(page, LOCKED_DAY).locator("a.agenda-day-link").click()
    expect(panel(page).get_by_role("heading", level=2)).to_have_text(
        "Horaires disponibles pour le 27/11/2026"
    )
    expect(panel(page)).to_contain_text("Non réservable : les réservations et suppressions")
    boxes = panel(page).locator("input[type=checkbox][name=creneau]")
    expect(boxes).to_have_count(3)
    for index in range(3):
        box = boxes.nth(index)
        expect(box).to_be_disabled()
        reason_id = box.get_attribute("aria-describedby")
        assert reason_id, "a disabled créneau must point to its reason"
        expect(page.locator(f"#{reason_id}")).not_to_be_empty()
    expect(panel(page).get_by_role("button", name="Enregistrer")).to_have_count(0)
    shot(page, "jour-non-modifiable", width)

    # Even a forged submission (box re-enabled in the page) is refused by the server.
    page.evaluate(
        """() => {
            const box = document.querySelector("#panneau-jour input[name=creneau]");
            box.disabled = false;
            box.checked = true;
            box.form.requestSubmit();
        }"""
    )
    expect(panel(page).locator("[role=status]")).to_be_visible()
    expect(panel(page).locator(".alert-success")).to_have_count(0)
    expect(cell_bookings(page, LOCKED_DAY)).to_have_count(0)

    problems = watch.drain()
    context.close()
    return problems


def tab_to(page, selector, limit=250):
    """Presses Tab until the focused element matches `selector`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} never got the keyboard focus")


def journey_day_with_the_keyboard(browser, base, data, width=1280):
    """The same booking with Tab, Space and Enter only."""
    context, page, watch = new_page(browser, width)
    page.goto(base + "/comptes/login/")
    page.locator("input[name=login]").fill(PARENT[0])
    page.locator("input[name=password]").fill(PARENT[1])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/comptes/login/" not in page.url

    page.goto(base + f"/agenda/{data['lalo']}/2026/12/")
    tab_to(page, f"a.agenda-day-link[href$='/{KEYBOARD_DAY.isoformat()}/']")
    page.keyboard.press("Enter")
    title = page.locator("[data-panel-title]")
    expect(title).to_have_text("Horaires disponibles pour le 08/12/2026")
    expect(title).to_be_focused()  # the panel takes the focus, so Tab goes on from there

    for label in (MATIN, SOIR_1):
        box = panel(page).get_by_label(label)
        tab_to(page, f"#{box.get_attribute('id')}")
        page.keyboard.press("Space")
        expect(box).to_be_checked()
    tab_to(page, "#panneau-jour button[type=submit]")
    shot(page, "clavier-coche", width)
    page.keyboard.press("Enter")
    expect(panel(page).locator(".alert-success")).to_have_text(f"Réservé : {MATIN}, {SOIR_1}.")
    expect(cell_bookings(page, KEYBOARD_DAY)).to_have_text(
        [re.compile("^Matin"), re.compile("^Soir 1")]
    )
    shot(page, "clavier-enregistre", width)

    problems = watch.drain()
    context.close()
    return problems


def journey_bulk_entry(browser, base, data, width=1280):
    """Saisie groupée: both children, Monday mornings of odd weeks, December to January."""
    context, page, watch = new_page(browser, width)
    log_in(page, base, *PARENT)
    page.goto(base + "/agenda/")
    page.get_by_role("link", name="Saisie groupée").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Saisie groupée")

    def group(legend):
        return page.locator(f"fieldset:has(legend:text-is('{legend}'))")

    users = page.locator("fieldset.bulk-fieldset").first
    users.get_by_label(re.compile("Léa$")).check()
    users.get_by_label(re.compile("Lalo$")).check()
    page.get_by_label("Créer", exact=True).check()
    page.get_by_label("Période du").fill("2026-12-01")
    page.get_by_label("au", exact=True).fill("2027-01-31")
    page.get_by_label(re.compile(r"^Matin 07h20-08h20 \(")).check()
    page.get_by_label("Semaines impaires").check()
    group("Jours de la semaine").get_by_label("Lundi").check()
    shot(page, "saisie-groupee", width)
    page.get_by_role("button", name="Enregistrer").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Vérifiez avant de confirmer")
    expect(page.locator("main")).to_contain_text("Du 01/12/2026 au 31/01/2027, semaines impaires.")
    todo = page.locator("section[aria-labelledby=a-faire]")
    expect(todo.get_by_role("heading", level=2)).to_have_text(
        re.compile(r"^\d+ réservations? seront? créées?$")
    )
    expect(todo).to_contain_text("Lalo — Accueil du matin : Matin 07h20-08h20")
    skipped = page.locator("section[aria-labelledby=ignores]")
    expect(skipped.get_by_role("heading", level=2)).to_have_text("Ignoré")
    expect(skipped.get_by_role("heading", level=3).first).to_be_visible()
    preview = {
        "todo": todo.get_by_role("heading", level=2).inner_text(),
        "skipped": skipped.get_by_role("heading", level=3).all_inner_texts(),
        "days": todo.locator(".bulk-days").all_text_contents(),
    }
    shot(page, "saisie-groupee-apercu", width)

    page.get_by_role("button", name="Confirmer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Saisie groupée enregistrée")
    expect(page.locator(".alert-success")).to_have_text(
        re.compile(r"^\d+ réservations? créées?\.$")
    )
    preview["done"] = page.locator(".alert-success").inner_text()
    shot(page, "saisie-groupee-resultat", width)

    # Lalo's December: Matin on the Monday of ISO week 51 only (49 starts in November, 53 is
    # in the Christmas holidays); none on the Mondays of even weeks.
    page.goto(base + f"/agenda/{data['lalo']}/2026/12/")
    mondays = [datetime.date(2026, 12, day) for day in (7, 14, 21, 28)]
    for monday in mondays:
        matin = cell_bookings(page, monday).filter(has_text=re.compile("^Matin"))
        if monday.isocalendar().week % 2 == 0:
            expect(matin).to_have_count(0)
        elif monday in data["lalo_expected_mondays"]:
            expect(matin).to_have_count(1)
    shot(page, "saisie-groupee-agenda", width)

    problems = watch.drain()
    context.close()
    return problems, preview


def journey_register(browser, base, data, width=360):
    """The animateur, on a phone, opens the morning register of Léa's school and marks her."""
    context, page, watch = new_page(browser, width)
    log_in(page, base, *ANIMATEUR)
    page.locator("input[name=code]").fill(totp_code(data["animateur_totp"]))
    with page.expect_navigation():
        page.locator("main form button[type=submit]").first.click()
    page.goto(base + "/pointage/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Pointage")
    page.get_by_label("École").select_option(label=data["school"])
    page.get_by_label("Créneau").select_option(label=MATIN)
    page.get_by_label("Date").fill(TODAY.isoformat())
    with page.expect_navigation():
        page.get_by_role("button", name="Voir").click()
    # The register's counter. Each row of the full page also renders an out-of-band copy of
    # it (same id); htmx updates every copy, so they must all agree.
    counters = page.locator("#compteur")
    counter = counters.first
    total = data["register_size"]
    expect(counter).to_contain_text(f"0 présent, 0 absent, 0 absent excusé, {total} à pointer.")
    shot(page, "pointage", width)

    row = page.locator(f"#enfant-{data['lea_booking']}")
    present = row.get_by_role("button", name=re.compile("^Présent"))
    expect(present).to_have_attribute("aria-pressed", "false")
    present.click()
    row = page.locator(f"#enfant-{data['lea_booking']}")
    expect(row.get_by_role("button", name=re.compile("^Présent"))).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(row).to_contain_text("Présent")
    expect(counter).to_contain_text(f"1 présent, 0 absent, 0 absent excusé, {total - 1} à pointer.")
    assert set(counters.all_inner_texts()) == {counter.inner_text()}, counters.all_inner_texts()
    shot(page, "pointage-present", width)

    problems = watch.drain()
    context.close()
    return problems


def journey_data():
    """Everything the journeys need, from the demo, read before the browser starts."""
    seed_demo(TODAY)
    lea = Child.objects.get(first_name="Léa", family__guardians__user__email=PARENT[0])
    lalo = Child.objects.get(first_name="Lalo", family__guardians__user__email=PARENT[0])
    matin = Slot.objects.get(code="matin")
    assert not Booking.objects.active().filter(child=lalo, date=BOOKED_DAY, slot=matin).exists()
    assert not Booking.objects.active().filter(child=lalo, date=KEYBOARD_DAY).exists()
    register = Booking.objects.active().filter(school=lea.school, slot=matin, date=TODAY)
    # The Mondays of odd ISO weeks in December when the morning runs (not in the holidays).
    december = ServiceCalendar(datetime.date(2026, 12, 1), datetime.date(2026, 12, 31))
    odd_mondays = [
        day
        for day in (datetime.date(2026, 12, d) for d in range(1, 32))
        if day.isoweekday() == 1
        and day.isocalendar().week % 2 == 1
        and december.runs(day, matin, lalo.school_id)
    ]
    return {
        "lea": lea.pk,
        "lalo": lalo.pk,
        "school": str(lea.school),
        "lea_booking": register.get(child=lea).pk,
        "register_size": register.count(),
        "lalo_expected_mondays": odd_mondays,
        # Staff need an authenticator app outside DEBUG, the register included.
        "animateur_totp": activate_totp(User.objects.get(email=ANIMATEUR[0])),
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_agenda_journeys(live_server, browser_path, fresh_rate_limits):
    """Day panel by mouse and by keyboard, a locked day, saisie groupée, and the register."""
    with time_machine.travel(NOW, tick=True):
        data = journey_data()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        base = live_server.url
        with sync_playwright() as playwright:
            browser = launch(playwright, browser_path)
            problems = journey_day_with_the_mouse(browser, base, data)
            problems += journey_day_with_the_keyboard(browser, base, data)
            bulk_problems, preview = journey_bulk_entry(browser, base, data)
            problems += bulk_problems
            problems += journey_register(browser, base, data)
            browser.close()
    assert not problems, "\n".join(problems)

    lalo_matin = Booking.objects.active().filter(child_id=data["lalo"], slot__code="matin")
    assert not lalo_matin.filter(date=BOOKED_DAY).exists()  # deleted from its detail
    assert lalo_matin.filter(date=KEYBOARD_DAY).exists()  # booked by keyboard
    assert (
        Booking.objects.active()
        .filter(child_id=data["lalo"], slot__code="soir-1", date__in=[BOOKED_DAY, KEYBOARD_DAY])
        .count()
        == 2
    )
    assert not Booking.objects.filter(child_id=data["lalo"], date=LOCKED_DAY).exists()
    bulk_days = set(
        lalo_matin.filter(date__gte=datetime.date(2026, 12, 1)).values_list("date", flat=True)
    ) - {KEYBOARD_DAY}
    assert bulk_days, preview
    assert all(d.isoweekday() == 1 and d.isocalendar().week % 2 == 1 for d in bulk_days), (
        sorted(bulk_days),
        preview,
    )
    assert set(data["lalo_expected_mondays"]) <= bulk_days
    assert Booking.objects.get(pk=data["lea_booking"]).presence == Booking.Presence.PRESENT
