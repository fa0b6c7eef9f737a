"""Cross-family access matrix: no family reaches another family's objects, by URL or by form field.

Every parent-facing route with a parameter in its path is listed below, either with how to build
its URL for an object of a family, or on the list of parameters that belong to no family (with the
reason). A new route or a new id field that this file does not know makes the tests fail.
"""

import importlib
import inspect

import pytest
from django import forms
from django.apps import apps
from django.forms.models import BaseModelFormSet
from django.urls import reverse

from tests.factories import ChildContactFactory
from tests.urlwalk import Route, parent_routes

PROJECT_APPS = ["accounts", "families", "exchanges", "enrolment", "reservations", "billing", "portail"]


def _child_payload(child, *, first_name):
    contact = child.contacts.first()
    return {
        "last_name": child.last_name,
        "first_name": first_name,
        "birth_date": child.birth_date.isoformat(),
        "sex": "F",
        "school": child.school_id or "",
        "school_class": "CM1",
        "health_notes": "",
        "contacts-TOTAL_FORMS": "2",
        "contacts-INITIAL_FORMS": "1",
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000",
        "contacts-0-id": contact.pk,
        "contacts-0-child": child.pk,
        "contacts-0-full_name": contact.full_name,
        "contacts-0-relationship": contact.relationship,
        "contacts-0-phone": contact.phone,
        "contacts-0-can_pick_up": "on",
        "contacts-1-child": child.pk,
        "contacts-1-can_pick_up": "on",  # the blank row's box is ticked by default, as a browser sends it
    }


# route name → (kwargs for an object of `family`, a valid POST payload for it or None for GET-only)
OBJECT_ROUTES = {
    "families:child_update": (
        lambda family: {"pk": family.children.first().pk},
        lambda family: _child_payload(family.children.first(), first_name="Modifié"),
    ),
}

# Path parameters that belong to no family, and why they need no cross-family check.
NON_FAMILY_ROUTES = {
    "account_confirm_email": "clé de confirmation d'e-mail d'allauth : liée à une adresse, pas à un foyer",
    "account_reset_password_from_key": "clé de réinitialisation d'allauth : liée à un compte, pas à un foyer",
}

# Form fields that take the id of a family-owned object → the test that tries another family's id.
ID_FIELD_TESTS = {
    ("families.forms.ChildContactFormSet", "id"): "test_contact_id_of_another_family_is_refused",
}


def _snapshot():
    """Every row of the project's tables, to prove that a refused request changed nothing."""
    rows = {}
    for label in PROJECT_APPS:
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        for model in config.get_models():
            rows[model._meta.label] = list(model.objects.order_by("pk").values())
    return rows


def uncovered_routes(routes):
    return [
        route.name or route.pattern
        for route in routes
        if route.params and route.name not in OBJECT_ROUTES and route.name not in NON_FAMILY_ROUTES
    ]


def test_a_new_parametrised_route_is_noticed():
    """A route with an id in its path that the matrix does not list is reported."""
    new_route = Route("families:child_delete", "foyer/enfants/<int:pk>/supprimer/", ("pk",))
    assert uncovered_routes([*parent_routes(), new_route]) == ["families:child_delete"]


def test_every_parametrised_route_is_covered():
    """A parent route with a path parameter must be in the matrix or on the explained list."""
    uncovered = uncovered_routes(parent_routes())
    assert uncovered == [], f"Routes absentes de la matrice d'accès : {uncovered}"
    stale = set(OBJECT_ROUTES) - {route.name for route in parent_routes()}
    assert not stale, f"Routes de la matrice qui n'existent plus : {stale}"


@pytest.mark.parametrize("route_name", sorted(OBJECT_ROUTES))
def test_owner_reaches_object_and_other_family_gets_404(client, family_a, family_b, route_name):
    """The owner opens the object; another family gets 404 on GET and POST and nothing changes."""
    build_kwargs, build_payload = OBJECT_ROUTES[route_name]
    url = reverse(route_name, kwargs=build_kwargs(family_a))
    owner = family_a.guardians.first().user
    intruder = family_b.guardians.first().user

    client.force_login(owner)
    assert client.get(url).status_code in (200, 302)

    client.force_login(intruder)
    assert client.get(url).status_code == 404
    if build_payload:
        payload = build_payload(family_a)
        before = _snapshot()
        assert client.post(url, payload).status_code == 404
        assert _snapshot() == before

        # Positive control: the same payload is accepted from the owner.
        client.force_login(owner)
        assert client.post(url, payload).status_code == 302
        assert _snapshot() != before


def _family_owned(model):
    return hasattr(model._default_manager, "for_family")


def _project_form_classes():
    for label in PROJECT_APPS:
        try:
            module = importlib.import_module(f"{label}.forms")
        except ModuleNotFoundError:
            continue
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and obj.__module__ == module.__name__
                and issubclass(obj, (forms.BaseForm, BaseModelFormSet))
            ):
                yield f"{module.__name__}.{name}", obj


def _id_fields(form_class):
    """(field name, model) of the fields of a form (or a model formset's form) taking an id."""
    if issubclass(form_class, BaseModelFormSet):
        if form_class.model is None:  # a base class, not a formset of a model
            return
        yield "id", form_class.model
        form_class = form_class.form
    for name, field in form_class.base_fields.items():
        if isinstance(field, forms.ModelChoiceField):
            yield name, field.queryset.model


def test_every_id_field_is_covered():
    """A form field taking the id of a family-owned object must have its cross-family test."""
    uncovered = []
    for path, form_class in _project_form_classes():
        for field_name, model in _id_fields(form_class):
            if _family_owned(model) and (path, field_name) not in ID_FIELD_TESTS:
                uncovered.append(f"{path}.{field_name} ({model._meta.label})")
    assert uncovered == [], f"Champs d'identifiant sans test inter-familles : {uncovered}"
    missing_tests = [name for name in ID_FIELD_TESTS.values() if not callable(globals().get(name))]
    assert missing_tests == [], f"Tests inter-familles annoncés mais absents : {missing_tests}"


def test_contact_id_of_another_family_is_refused(client, family_a, family_b):
    """Editing one's child with another family's contact id gives a form error and saves nothing."""
    child = family_a.children.first()
    foreign_contact = family_b.children.first().contacts.first()
    payload = _child_payload(child, first_name="Modifié")
    payload["contacts-0-id"] = foreign_contact.pk
    payload["contacts-0-full_name"] = "Détourné"
    client.force_login(family_a.guardians.first().user)
    before = _snapshot()

    response = client.post(reverse("families:child_update", args=[child.pk]), payload)

    assert response.status_code == 200
    assert "ne figure pas sur la fiche de cet enfant" in response.content.decode()
    assert _snapshot() == before


def test_contact_of_another_family_is_not_shown(client, family_a, family_b):
    """A family's contacts never appear on another family's pages."""
    ChildContactFactory(child=family_b.children.first(), full_name="Secret BRAVO")
    client.force_login(family_a.guardians.first().user)
    for url in (reverse("families:family_detail"), reverse("families:child_update",
                                                           args=[family_a.children.first().pk])):
        assert "BRAVO" not in client.get(url).content.decode()
