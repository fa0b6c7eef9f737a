"""« À faire », in the browser: the demo parent's refused document is the first thing on the home
page, and it is replaced in two taps from there on a 360 px phone (tap 1: the link in « À
faire »; tap 2: the form at the top of the page it opens). Home page and Mes demandes pass axe
at 360 and 1280 px."""

import datetime
import re

import pytest
import time_machine
from playwright.sync_api import expect, sync_playwright

from enrolment.models import RequestDocument
from portail.demo import seed_demo
from tests.e2e.checks import BrowserWatch, axe_violations, find_overflow
from tests.e2e.conftest import ARTIFACTS, launch, log_in
from tests.enrolment.helpers import upload

pytestmark = pytest.mark.e2e

TODAY = datetime.date(2026, 11, 26)
NOW = datetime.datetime(2026, 11, 26, 10, 0, tzinfo=datetime.UTC)
PARENT = ("parent@example.org", "parent-portail")


def shot(page, step, width):
    page.screenshot(path=ARTIFACTS / f"journey-todo-{step}-{width}.png", full_page=True)


def checks(page, name):
    """axe-core and the overflow check on the page as it stands."""
    return [f"{name}: axe: {line}" for line in axe_violations(page)] + [
        f"{name}: overflow: {line}" for line in find_overflow(page)
    ]


def refused_document():
    """The demo parent's refused document, read before the browser starts."""
    document = RequestDocument.objects.select_related("document_type", "request").get(
        request__family__guardians__user__email=PARENT[0], state=RequestDocument.State.REFUSED
    )
    return {
        "pk": document.pk,
        "name": document.document_type.name,
        "request_pk": document.request_id,
        "number": document.request.number,
    }


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_demo_parent_replaces_the_refused_document_in_two_taps_from_home(
    live_server, browser_path, settings, tmp_path, fresh_rate_limits
):
    """Home page at 360 px: « À faire » starts with « Document à remplacer », its link opens the
    document's page with the form on the first screen; the file sent, the request says the
    document waits for the office and « À faire » no longer asks for it."""
    settings.MEDIA_ROOT = tmp_path / "private"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    replacement = tmp_path / "rib-nouveau.pdf"
    replacement.write_bytes(upload("rib-nouveau.pdf").read())
    with time_machine.travel(NOW, tick=True):
        seed_demo(TODAY)
        document = refused_document()
        problems = []
        with sync_playwright() as playwright:
            browser = launch(playwright, browser_path)
            for width in (1280, 360):
                context = browser.new_context(
                    viewport={"width": width, "height": 800}, locale="fr-FR"
                )
                context.set_default_timeout(15_000)
                watch = BrowserWatch().attach(context)
                page = context.new_page()
                log_in(page, live_server.url, *PARENT)
                todo = page.get_by_role("region", name="À faire")
                expect(todo).to_be_visible()
                first = todo.locator(".todo-item").first
                expect(first).to_contain_text(f"Document à remplacer : « {document['name']} »")
                problems += checks(page, f"accueil-{width}")
                shot(page, "accueil", width)
                page.goto(live_server.url + "/demandes/")
                expect(
                    page.get_by_role("link", name=re.compile("Document à remplacer"))
                ).to_have_count(1)
                problems += checks(page, f"mes-demandes-{width}")
                shot(page, "mes-demandes", width)
                if width == 360:
                    page.goto(live_server.url + "/")
                    # Tap 1: the link of the first item of « À faire ».
                    first = page.get_by_role("region", name="À faire").locator(".todo-item").first
                    first.get_by_role("link", name=f"Remplacer « {document['name']} »").click()
                    expect(page.get_by_role("heading", level=1)).to_have_text(
                        "Remplacer un justificatif"
                    )
                    send = page.get_by_role("button", name="Envoyer le nouveau document")
                    box = send.bounding_box()
                    assert box and box["y"] + box["height"] <= 800, box  # first screen
                    problems += checks(page, "remplacer-360")
                    shot(page, "remplacer", width)
                    # Tap 2: choose the file and send.
                    page.locator("input[type=file]").set_input_files(str(replacement))
                    send.click()
                    page.wait_for_url(re.compile(rf"/demandes/{document['request_pk']}/$"))
                    expect(page.locator(".alert-success")).to_contain_text(
                        f"Le nouveau document « {document['name']} » est envoyé"
                    )
                    shot(page, "demande-apres", width)
                    page.goto(live_server.url + "/")
                    expect(page.get_by_role("region", name="À faire")).not_to_contain_text(
                        "Document à remplacer"
                    )
                    shot(page, "accueil-apres", width)
                problems += watch.drain()
                context.close()
            browser.close()
    assert not problems, "\n".join(problems)
    assert RequestDocument.objects.get(pk=document["pk"]).state == RequestDocument.State.PENDING
