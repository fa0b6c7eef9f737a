import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse

from families.models import Child, Family
from portail.models import SitePage
from tests.factories import ChildFactory, UserFactory
from tests.urlwalk import parent_routes

pytestmark = pytest.mark.django_db

# The Stripe webhook is public too: Stripe has no session, its signature is the check
# (tests/billing/test_webhook.py).
PUBLIC_ROUTES = {
    "home",
    "health",
    "accessibility",
    "legal_notice",
    "privacy",
    "billing:stripe_webhook",
}


def test_landing_page_offers_connexion(client):
    """A visitor sees the public landing page with "Connexion" at the top."""
    page = client.get(reverse("home")).content.decode()
    assert "Connexion" in page and reverse("account_login") in page
    assert "Créer un compte" in page


def test_every_other_page_needs_login(client):
    """Deny by default: every parent page outside the public ones sends a visitor to log in."""
    for route in parent_routes():
        if route.params or route.name in PUBLIC_ROUTES or route.name.startswith("account_"):
            continue
        response = client.get(reverse(route.name))
        assert response.status_code == 302, route.name
        assert response.url.startswith(reverse("account_login")), route.name


def test_home_shows_only_tiles_that_lead_somewhere(client, family_a):
    """The home page links each tile to a page that answers 200."""
    client.force_login(family_a.guardians.first().user)
    response = client.get(reverse("home"))
    tiles = response.context["tiles"]
    assert "Mon foyer" in [tile["entry"].label for tile in tiles]
    for tile in tiles:
        assert client.get(tile["url"]).status_code == 200, tile["url"]


@pytest.mark.parametrize("route_name", ["accessibility", "legal_notice", "privacy"])
def test_footer_pages_are_public_and_linked(client, route_name):
    """The legal footer pages are reachable from every page without logging in."""
    home = client.get(reverse("home")).content.decode()
    assert reverse(route_name) in home
    assert client.get(reverse(route_name)).status_code == 200


def test_staff_edits_footer_page_and_html_is_escaped(client):
    """The page shows the staff's text with headings and lists; markup typed in is escaped."""
    page = SitePage.objects.get(slug="mentions-legales")
    page.body = "## Hébergeur\nSociété X <script>alert(1)</script>\n\n- un\n- deux"
    page.save()
    html = client.get(reverse("legal_notice")).content.decode()
    assert "<h2>Hébergeur</h2>" in html
    assert "&lt;script&gt;" in html and "<script>alert" not in html
    assert "<ul><li>un</li><li>deux</li></ul>" in html


def test_admin_is_branded_and_at_admin_url(client):
    """The staff site lives at ADMIN_URL, in French, under the portal's name."""
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    html = client.get("/" + settings.ADMIN_URL).content.decode()
    assert "Portail famille — administration" in html
    assert "Foyers" in html and "Enfants" in html


def test_staff_groups_exist_with_sensible_rights():
    """The three groups exist; only assistants and animateurs may see health notes."""
    names = set(Group.objects.values_list("name", flat=True))
    assert {"Assistant administratif", "Régisseur", "Animateur"} <= names

    def perms(group):
        return set(Group.objects.get(name=group).permissions.values_list("codename", flat=True))

    assert "view_health_notes" in perms("Assistant administratif")
    assert "view_health_notes" in perms("Animateur")
    assert "view_health_notes" not in perms("Régisseur")
    assert "change_family" in perms("Assistant administratif")
    assert "change_child" not in perms("Animateur")


@pytest.mark.parametrize(("group", "sees_health"), [("Animateur", True), ("Régisseur", False)])
def test_health_notes_in_admin_need_their_permission(client, group, sees_health):
    """The child's health notes appear in the admin only for staff allowed to see them."""
    child = ChildFactory(health_notes="Allergie aux arachides")
    staff = UserFactory(is_staff=True)
    staff.groups.add(Group.objects.get(name=group))
    client.force_login(staff)
    html = client.get(reverse("admin:families_child_change", args=[child.pk])).content.decode()
    assert ("Allergie aux arachides" in html) is sees_health


def test_seed_demo_is_idempotent_and_logins_work():
    """seed_demo twice gives the same data, and the README's logins authenticate."""
    call_command("seed_demo", "--today", "2026-11-26")
    counts = (Family.objects.count(), Child.objects.count())
    call_command("seed_demo", "--today", "2026-11-26")
    # LAGRANGE (Léa, Lalo), BERNARD (Nina), and Tom's two households in résidence alternée.
    assert (Family.objects.count(), Child.objects.count()) == counts == (4, 4)
    for email, password in [
        ("admin@example.org", "admin-portail"),
        ("assistant@example.org", "assistant-portail"),
        ("regisseur@example.org", "regisseur-portail"),
        ("animateur@example.org", "animateur-portail"),
        ("parent@example.org", "parent-portail"),
        ("voisin@example.org", "voisin-portail"),
        ("alternance-mere@example.org", "alternance-portail"),
        ("alternance-pere@example.org", "alternance-portail"),
    ]:
        # django-axes needs the request (the client's address) of every authentication.
        request = RequestFactory().post(reverse("account_login"))
        assert authenticate(request, email=email, password=password) is not None, email
    lagrange = Family.objects.get(guardians__user__email="parent@example.org")
    assert lagrange.name == "LAGRANGE"
    assert sorted(lagrange.children.values_list("first_name", flat=True)) == ["Lalo", "Léa"]
