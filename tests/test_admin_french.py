"""Every admin page a staff member can open reads in good French: headings with their article,
elisions made, no English left over — checked on the demo data, group by group."""

import contextlib
import json
import re
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.urls import NoReverseMatch, reverse

from accounts.models import User
from common.admin_titles import titles_for
from portail.demo import seed_demo
from portail.sites import NOUNS, SECTIONS
from tests.factories import activate_totp

pytestmark = pytest.mark.django_db

# Django's French admin glues the model's name to a fixed phrase: « Modification de facture »,
# « Ajout de inscription », « Sélectionnez l'objet demande à changer », « Ajouter échange ».
AWKWARD = [
    re.compile(r"Sélectionnez l['’]objet"),
    re.compile(r"\b(?:Modification|Affichage|Ajout) de (?!l['’]|la |les )"),
    re.compile(r"\bAjouter (?!un |une |des |l['’]|la |le |les |à |au |aux |d['’]|du )\w+"),
    # the links beside a related field: « Modifier l’objet école sélectionné »
    re.compile(r"\bl['’]objet \w+[^»]*? sélectionné|\bun autre objet \w+"),
    # Django's own slip on the « add user » page
    re.compile(r"\bvous pourrez \w+ez\b"),
    # a date and time as Python writes it: « 2026-11-26 10:00:00+00:00 »
    re.compile(r"\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"),
    # Django's selection of a whole list: « Sélectionner tous les 192 réservations »
    re.compile(r"\b[Tt]ous les \d+ \w+"),
    # an amount as Python writes it: « 67.30 € »
    re.compile(r"\b\d+\.\d\d ?€"),
    # a colon without the space French puts before it: « Enfant: »
    re.compile(r"\b[^\W\d_]+:(?=\s|$)"),
    # Django's filter headings: « Par émis le », « Par du »
    re.compile(r"^Par (?:du|au|.+ le)$"),
    # the link under an inline's rows: « Ajouter un objet Enfant supplémentaire »
    re.compile(r"\bun objet \w+[^»]*? supplémentaire"),
]
# « de échange », « le enfant », « que il »: an elision not made.
ELISION = re.compile(r"\b(?:de|le|la|que|ne|se|ce|je)\s+[aeiouyéèêàâîôû]\w*", re.IGNORECASE)
# English found on the admin pages, and the usual English of Django's admin and its add-ons.
ENGLISH = [
    # found on the demo's pages: allauth's authenticators, django-axes, Django's permissions
    "Authenticator",
    "Authenticators",
    "authenticator",
    "Created at",
    "Last used at",
    "Data",
    "User",
    "Locked Out",
    "Can add",
    "Can change",
    "Can delete",
    "Can view",
    "historical",
    "access attempt",
    # and the usual English of Django's admin and its add-ons
    "Email",
    "Primary",
    "Verified",
    "User agent",
    "Attempt time",
    "Not set",
    "Cleaned up",
    "Yes",
    "No",
    "Unknown",
    "None",
    "True",
    "False",
    "Add",
    "Change",
    "Delete",
    "Save",
    "Search",
    "Username",
    "Password",
    "Get data",
    "Post data",
    "IP address",
    "Path",
    "Login time",
    "Logout time",
    "Session hash",
    "Recovery codes",
]
ENGLISH_WORDS = re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, ENGLISH)) + r")(?![\w-])")


def _feminine_plurals():
    for model in admin.site._registry:
        gender, *nouns = NOUNS[model._meta.label]
        if gender == "f":
            yield str(nouns[1] if nouns else model._meta.verbose_name_plural)


# Django's delete action writes « Supprimer les fermetures sélectionnés ».
AGREEMENT = re.compile(r"\b(?:" + "|".join(map(re.escape, _feminine_plurals())) + r") sélectionnés")

SHOWN_ATTRIBUTES = {"title", "aria-label", "placeholder"}


class _VisibleText(HTMLParser):
    """The text a reader sees or hears: the page without its scripts and styles, plus the
    attributes shown as tooltips, read aloud or written in empty fields."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._hidden += 1
        self.parts.extend(value for name, value in attrs if name in SHOWN_ATTRIBUTES and value)
        # the texts of an inline's links, written by Django's inlines.js
        formset = dict(attrs).get("data-inline-formset")
        if formset:
            options = json.loads(formset)["options"]
            self.parts.extend([options["addText"], options["deleteText"]])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)


def visible_text(html: str) -> list[str]:
    parser = _VisibleText()
    parser.feed(html)
    return [" ".join(part.split()) for part in parser.parts if part.strip()]


def bad_strings(texts: list[str]) -> list[str]:
    found = []
    for text in texts:
        for pattern in [*AWKWARD, ELISION, AGREEMENT, ENGLISH_WORDS]:
            found += [match.group(0) for match in pattern.finditer(text)]
    return found


def _urls(client, user):
    """The index, each section's page, then for each model the user may see: its list, its
    « add » page if allowed, the page of its first object if any; the occupancy page and the CAF figures (of a month and of the year)."""
    index = reverse("admin:index")
    yield index
    response = client.get(index)
    sections = response.context["app_list"]
    yield from (section["app_url"] for section in sections if section.get("app_url"))
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        request = response.wsgi_request
        if not model_admin.has_view_or_change_permission(request):
            continue
        yield reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        if model_admin.has_add_permission(request):
            yield reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
        first = model_admin.get_queryset(request).order_by("pk").first()
        if first is not None:
            with contextlib.suppress(NoReverseMatch):
                yield reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
    if user.has_perm("reservations.view_booking"):
        yield reverse("admin:occupancy")
    if user.has_perm("billing.view_caf_figures"):
        yield reverse("admin:caf")
        yield reverse("admin:caf") + "?annee=2026&mois="


def _staff(group: str | None) -> User:
    if group is None:
        return User.objects.get(email="admin@example.org")
    return Group.objects.get(name=group).user_set.get(is_staff=True)


def crawl(client, user):
    """(url, visible text) of each admin page of `user`, failing on a server error."""
    activate_totp(user)
    client.force_login(user)
    seen = set()
    for url in _urls(client, user):
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code < 500, f"{url}: {response.status_code}"
        if response.status_code == 200 and "html" in response.get("Content-Type", ""):
            yield url, visible_text(response.content.decode())


@pytest.mark.parametrize(
    "group", ["Assistant administratif", "Régisseur", "Animateur", None], ids=str
)
def test_admin_pages_read_in_french(client, today, group):
    """No admin page of the demo shows Django's glued headings, an elision not made or
    English words, whoever the staff member."""
    seed_demo(today)
    user = _staff(group)

    offending = [
        f"{url}: « {text} »" for url, texts in crawl(client, user) for text in bad_strings(texts)
    ]

    assert not offending, "Textes à corriger :\n" + "\n".join(sorted(set(offending)))


def test_nouns_take_their_article():
    """« Nouveau » before a consonant, « Nouvel » before a vowel or a mute h, « Nouvelle »
    for a feminine noun; the list's button adds the article."""
    foyer = titles_for("foyer", "foyers", feminine=False)
    enfant = titles_for("enfant", "enfants", feminine=False)
    fermeture = titles_for("fermeture", "fermetures", feminine=True)

    assert (foyer.add, foyer.changelist, foyer.change) == ("Nouveau foyer", "Foyers", "Foyer")
    assert (enfant.add, enfant.add_button) == ("Nouvel enfant", "Ajouter un enfant")
    assert (fermeture.add, fermeture.add_button) == ("Nouvelle fermeture", "Ajouter une fermeture")


def test_every_model_of_the_admin_has_a_gender_and_a_section():
    """Each registered model, and each model of their inlines, is in NOUNS; each registered
    model is in exactly one section; sections have distinct names, security last."""
    registered = {model._meta.label for model in admin.site._registry}
    inlines = {
        inline.model._meta.label
        for model_admin in admin.site._registry.values()
        for inline in model_admin.inlines
    }
    listed = [label for _title, labels in SECTIONS for label in labels]
    names = [title for title, _labels in SECTIONS]

    assert (registered | inlines) - set(NOUNS) == set()
    assert sorted(listed) == sorted(registered)
    assert len(set(names)) == len(names) and names[-1] == "Comptes et sécurité"


def test_index_lists_sections_by_the_office_work(client, today):
    """A superuser's index lists the sections in order, each linked to an application's page;
    an application's own page keeps Django's list."""
    seed_demo(today)
    user = _staff(None)
    activate_totp(user)
    client.force_login(user)

    sections = client.get(reverse("admin:index")).context["app_list"]
    app_page = client.get(reverse("admin:app_list", args=["billing"]))

    assert [section["name"] for section in sections] == [title for title, _labels in SECTIONS]
    assert all(section["app_url"].startswith("/admin/") for section in sections)
    assert [app["app_label"] for app in app_page.context["app_list"]] == ["billing"]
    assert app_page.context["title"] == "Facturation"
