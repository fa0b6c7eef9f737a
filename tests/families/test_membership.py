"""Leaving a family, and staff detaching a guardian (separation): at once, and on record."""

import html

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from families.models import Guardian, GuardianEvent, GuardianInvitation
from tests.factories import (
    ChildFactory,
    GuardianFactory,
    GuardianInvitationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

GUARDIANS_CHANGELIST = reverse("admin:families_guardian_changelist")


@pytest.fixture
def couple(today):
    """Family ALPHA with two guardians and a child."""
    first = GuardianFactory(family__name="ALPHA")
    second = GuardianFactory(family=first.family, relationship=Guardian.Relationship.FATHER)
    ChildFactory(family=first.family, first_name="Alice")
    return first, second


@pytest.fixture
def assistant(db):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Assistant administratif"))
    return user


def browser_for(user):
    """A separate browser signed in as `user`, who keeps that session during the test."""
    browser = Client()
    browser.force_login(user)
    return browser


def detach(client, staff, guardian):
    client.force_login(staff)
    return client.post(
        GUARDIANS_CHANGELIST,
        {"action": "detach", "_selected_action": [guardian.pk]},
        follow=True,
    )


def test_a_guardian_leaves_the_family(client, couple):
    """The guardian who leaves loses the family; the other keeps it; the history says who left."""
    first, second = couple
    client.force_login(second.user)
    assert "Quitter ce foyer" in client.get(reverse("families:family_detail")).content.decode()

    response = client.post(reverse("families:family_leave"))

    assert response.url == reverse("home")
    assert not Guardian.objects.filter(user=second.user).exists()
    assert list(first.family.guardians.all()) == [first]
    event = GuardianEvent.objects.get(kind=GuardianEvent.Kind.LEFT)
    assert (event.user, event.actor, event.family) == (second.user, second.user, first.family)
    assert client.get(reverse("families:family_detail")).url == reverse("families:family_create")


def test_the_last_guardian_cannot_leave(client, today):
    """Alone in the family, the guardian is told why and stays."""
    guardian = GuardianFactory()
    client.force_login(guardian.user)
    detail = client.get(reverse("families:family_detail")).content.decode()
    assert "Quitter ce foyer" not in detail
    page = html.unescape(client.get(reverse("families:family_leave")).content.decode())
    assert "seul responsable de ce foyer" in page

    response = client.post(reverse("families:family_leave"), follow=True)

    assert "vous ne pouvez pas le quitter" in html.unescape(response.content.decode())
    assert Guardian.objects.filter(pk=guardian.pk).exists()
    assert not GuardianEvent.objects.filter(kind=GuardianEvent.Kind.LEFT).exists()


def test_staff_detach_a_guardian_who_loses_access_at_once(client, couple, assistant):
    """After the admin action, the detached parent's next request finds no family: the child's
    page is a 404 and /foyer/ no longer shows the family; the history records who and when."""
    first, second = couple
    child = first.family.children.get()
    parent = browser_for(second.user)
    assert parent.get(reverse("families:child_update", args=[child.pk])).status_code == 200

    response = detach(client, assistant, second)

    assert "détaché" in html.unescape(response.content.decode())
    assert parent.get(reverse("families:child_update", args=[child.pk])).status_code == 404
    foyer = parent.get(reverse("families:family_detail"), follow=True).content.decode()
    assert "ALPHA" not in foyer and "Alice" not in foyer
    event = GuardianEvent.objects.get(kind=GuardianEvent.Kind.DETACHED)
    assert (event.user, event.actor, event.email) == (second.user, assistant, second.user.email)
    assert event.at is not None
    assert list(first.family.guardians.all()) == [first]


def test_staff_cannot_detach_the_last_guardian(client, today, assistant):
    """Detaching the only guardian would orphan the family: refused, with the reason."""
    guardian = GuardianFactory()

    response = detach(client, assistant, guardian)

    assert "seul responsable" in html.unescape(response.content.decode())
    assert Guardian.objects.filter(pk=guardian.pk).exists()


def test_guardians_are_never_deleted_silently_from_the_admin(client, couple, assistant):
    """The admin offers no deletion of a guardian: the recorded detachment is the only way out."""
    first, _ = couple
    client.force_login(assistant)
    page = client.get(GUARDIANS_CHANGELIST).content.decode()
    assert "delete_selected" not in page and "Détacher du foyer" in page
    url = reverse("admin:families_guardian_delete", args=[first.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Guardian.objects.filter(pk=first.pk).exists()


def test_detaching_revokes_the_invitations_the_guardian_sent(client, couple, assistant):
    """A detached guardian's pending invitations stop working with the membership."""
    first, second = couple
    invitation = GuardianInvitationFactory(family=first.family, invited_by=second.user)

    detach(client, assistant, second)

    invitation.refresh_from_db()
    assert invitation.status == GuardianInvitation.Status.REVOKED
    assert invitation.revoked_by == assistant


def test_staff_adding_a_guardian_in_the_admin_is_recorded(client, today, assistant):
    """A guardian attached by staff appears in the history with the staff member's name."""
    family = GuardianFactory().family
    newcomer = UserFactory()
    client.force_login(assistant)

    response = client.post(
        reverse("admin:families_guardian_add"),
        {
            "user": newcomer.pk,
            "family": family.pk,
            "relationship": "pere",
            "mobile_phone": "06 22 33 44 55",
            "work_phone": "",
        },
    )

    assert response.status_code == 302
    event = GuardianEvent.objects.get(kind=GuardianEvent.Kind.ADDED_BY_STAFF)
    assert (event.user, event.actor, event.family) == (newcomer, assistant, family)


def test_the_history_shows_on_the_family_in_the_admin(client, couple, assistant):
    """Staff read the family's membership history on its admin page."""
    first, second = couple
    detach(client, assistant, second)
    page = client.get(reverse("admin:families_family_change", args=[first.family.pk]))
    assert "Détachement par le pôle administratif" in page.content.decode()
