"""A child's second household (résidence alternée): linked by the office from the admin, or by
the single-use invitation the first household sends and the other parent accepts with their own
family."""

import datetime
import html
import re

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from families.models import ChildHousehold, ChildHouseholdInvitation
from tests.factories import ChildFactory, GuardianFactory, UserFactory

pytestmark = pytest.mark.django_db


def text(response):
    return html.unescape(response.content.decode())


@pytest.fixture
def first(today):
    guardian = GuardianFactory(family__name="ALPHA", user__email="anne@example.org")
    ChildFactory(family=guardian.family, first_name="Alice")
    return guardian.family


@pytest.fixture
def other_parent(today):
    """The other parent, with the verified account and their own family file."""
    return GuardianFactory(family__name="BRAVO", user__email="paul@example.org").user


def invite(client, family, email, capture):
    """The first household invites `email` for its child; returns the accept link's path."""
    client.force_login(family.guardians.first().user)
    child = family.children.get()
    with capture(execute=True):
        response = client.post(
            reverse("families:household_invite", args=[child.pk]), {"email": email}
        )
    assert response.status_code == 302, text(response)


def link_in(mail):
    found = re.search(r"https?://[^/\s]+(/foyer/second-foyer/accepter/[\w-]+/)", mail.body)
    assert found, mail.body
    return found.group(1)


def test_the_other_parent_accepts_and_the_child_joins_their_household(
    client, first, other_parent, mailoutbox, django_capture_on_commit_callbacks
):
    """The e-mail's single-use link, opened by the invited parent signed in with their family,
    makes their family the child's second household; the link then no longer works."""
    invite(client, first, "Paul@Example.org", django_capture_on_commit_callbacks)
    [mail] = mailoutbox
    assert mail.to == ["paul@example.org"] and "Alice" in mail.subject
    path = link_in(mail)
    invitation = ChildHouseholdInvitation.objects.get()
    assert invitation.expires_at - invitation.created_at == datetime.timedelta(days=7)
    assert "paul@example.org" in text(client.get(reverse("families:family_detail")))

    client.force_login(other_parent)
    assert "Rattacher Alice à mon foyer" in text(client.get(path))
    response = client.post(path)

    assert response.status_code == 302
    link = ChildHousehold.objects.get()
    assert (link.child, link.family, link.origin) == (
        first.children.get(),
        other_parent.guardian.family,
        ChildHousehold.Origin.INVITATION,
    )
    again = client.post(path)
    assert again.status_code == 400
    assert "déjà été utilisée" in text(again)
    assert ChildHousehold.objects.count() == 1


def test_the_link_works_only_for_the_invited_address_with_a_family(
    client, first, mailoutbox, django_capture_on_commit_callbacks
):
    """Another account, or the invited account without a family file yet, is told why in
    French; nothing is linked."""
    invite(client, first, "paul@example.org", django_capture_on_commit_callbacks)
    path = link_in(mailoutbox[0])

    client.force_login(GuardianFactory(user__email="intrus@example.org").user)
    wrong = client.post(path)
    client.force_login(UserFactory(email="paul@example.org"))
    no_family = client.post(path)

    assert wrong.status_code == no_family.status_code == 400
    assert "autre adresse e-mail" in text(wrong)
    assert "Créez d'abord le dossier de votre foyer" in text(no_family)
    assert not ChildHousehold.objects.exists()


def test_a_revoked_invitation_stops_at_once(
    client, first, other_parent, mailoutbox, django_capture_on_commit_callbacks
):
    """The first household cancels the pending invitation: its link is refused."""
    invite(client, first, "paul@example.org", django_capture_on_commit_callbacks)
    path = link_in(mailoutbox[0])
    invitation = ChildHouseholdInvitation.objects.get()
    client.post(reverse("families:household_invitation_revoke", args=[invitation.pk]))

    client.force_login(other_parent)
    response = client.post(path)

    assert response.status_code == 400
    assert "annulée" in text(response)
    assert not ChildHousehold.objects.exists()


def test_an_unknown_token_is_a_404(client, other_parent):
    """A guessed link finds nothing."""
    client.force_login(other_parent)
    url = reverse("families:household_accept", args=["jeton-invente"])
    assert client.get(url).status_code == 404


def test_a_guardian_of_the_same_family_cannot_be_invited(
    client, first, django_capture_on_commit_callbacks
):
    """Inviting one's own household is refused on the form, in French."""
    client.force_login(first.guardians.first().user)
    child = first.children.get()
    response = client.post(
        reverse("families:household_invite", args=[child.pk]), {"email": "anne@example.org"}
    )
    assert response.status_code == 200
    assert "responsable de votre foyer" in text(response)
    assert not ChildHouseholdInvitation.objects.exists()


@pytest.fixture
def assistant(db):
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Assistant administratif"))
    return user


def test_the_office_links_the_child_from_the_admin(client, first, other_parent, assistant):
    """The assistant adds the second household from the admin (« seconds foyers »); the link
    records who made it; the child's own family is refused with a French message."""
    child = first.children.get()
    client.force_login(assistant)
    url = reverse("admin:families_childhousehold_add")

    refused = client.post(url, {"child": child.pk, "family": first.pk})
    assert refused.status_code == 200
    assert "fait déjà partie de ce foyer" in text(refused)

    response = client.post(url, {"child": child.pk, "family": other_parent.guardian.family.pk})
    assert response.status_code == 302
    link = ChildHousehold.objects.get()
    assert (link.family, link.linked_by, link.origin) == (
        other_parent.guardian.family,
        assistant,
        ChildHousehold.Origin.OFFICE,
    )
    page = text(client.get(reverse("admin:families_child_change", args=[child.pk])))
    assert "Second foyer (résidence alternée)" in page or "second foyer" in page.lower()
