"""The second guardian: invitation by e-mail, single use, bound to a verified address, expiring,
revocable, and recorded."""

import datetime
import html
import re

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from families.invitations import hash_token
from families.models import Guardian, GuardianEvent, GuardianInvitation
from tests.factories import GuardianFactory, GuardianInvitationFactory, UserFactory

pytestmark = pytest.mark.django_db

GUARDIAN_PAYLOAD = {
    "guardian-last_name": "Martin",
    "guardian-first_name": "Paul",
    "guardian-relationship": "pere",
    "guardian-mobile_phone": "06 22 33 44 55",
    "guardian-work_phone": "",
}


def accept_url(token):
    return reverse("families:invitation_accept", args=[token])


def text(response):
    """The page as a reader sees it (apostrophes unescaped)."""
    return html.unescape(response.content.decode())


def invite(client, family, email, capture):
    """The first guardian of `family` invites `email`; returns the link sent by e-mail."""
    client.force_login(family.guardians.first().user)
    with capture(execute=True):
        response = client.post(reverse("families:invitation_create"), {"email": email})
    assert response.status_code == 302, text(response)
    return response


@pytest.fixture
def invited(today):
    """A pending invitation to family A, and the verified account of the invited address."""
    guardian = GuardianFactory(family__name="ALPHA")
    user = UserFactory(email="paul@example.org")
    invitation = GuardianInvitationFactory(
        family=guardian.family, email=user.email, invited_by=guardian.user, token="le-bon-jeton"
    )
    return invitation, user


def test_a_guardian_invites_the_other_parent_by_email(
    client, today, mailoutbox, django_capture_on_commit_callbacks, settings
):
    """The e-mail carries an absolute link on SITE_URL; only a hash of its token is stored."""
    settings.SITE_URL = "https://portail.example.org"
    guardian = GuardianFactory(family__name="ALPHA")

    invite(client, guardian.family, "Paul@Example.org", django_capture_on_commit_callbacks)

    invitation = GuardianInvitation.objects.get()
    assert invitation.email == "paul@example.org" and invitation.invited_by == guardian.user
    assert invitation.expires_at - invitation.created_at == datetime.timedelta(days=7)
    [mail] = mailoutbox
    assert mail.to == ["paul@example.org"] and "foyer ALPHA" in mail.subject
    link = re.search(
        r"https://portail\.example\.org(/foyer/invitations/accepter/([\w-]+)/)", mail.body
    )
    assert link, mail.body
    token = link.group(2)
    assert len(token) >= 40 and token not in invitation.token_hash
    assert invitation.token_hash == hash_token(token)
    html = mail.alternatives[0][0]
    assert link.group(0) in html
    event = GuardianEvent.objects.get()
    assert (event.kind, event.actor, event.email) == ("invited", guardian.user, invitation.email)
    page = client.get(reverse("families:family_detail")).content.decode()
    assert "Invitations en attente" in page and "paul@example.org" in page


def test_the_invited_parent_accepts_and_becomes_a_guardian(client, invited):
    """With the invited address verified, the parent joins the family; the link is then used."""
    invitation, user = invited
    client.force_login(user)
    page = client.get(accept_url("le-bon-jeton")).content.decode()
    assert "foyer ALPHA" in page and "Rejoindre le foyer ALPHA" in page

    response = client.post(accept_url("le-bon-jeton"), GUARDIAN_PAYLOAD)

    assert response.status_code == 302 and response.url == reverse("families:family_detail")
    guardian = Guardian.objects.get(user=user)
    assert guardian.family == invitation.family and guardian.relationship == "pere"
    invitation.refresh_from_db()
    assert invitation.status == "accepted" and invitation.accepted_by == user
    assert GuardianEvent.objects.filter(kind="joined", user=user, actor=user).exists()
    detail = client.get(reverse("families:family_detail")).content.decode()
    assert "Mon foyer — ALPHA" in detail


def test_a_visitor_following_the_link_is_sent_to_log_in_and_back(client, invited):
    """The invitation page needs an account; the login and sign-up keep the way back to it."""
    response = client.get(accept_url("le-bon-jeton"))
    assert response.status_code == 302
    assert response.url == reverse("account_login") + "?next=" + accept_url("le-bon-jeton")
    # The sign-up link of the login page keeps the way back too.
    login_page = client.get(response.url).content.decode()
    assert reverse("account_signup") + "?next=%2Ffoyer%2Finvitations%2Faccepter%2F" in login_page


def test_an_account_with_another_email_is_refused(client, invited):
    """The link works only for the invited address, whoever holds it."""
    invitation, _ = invited
    other = UserFactory(email="quelquun@example.org")
    client.force_login(other)

    page = client.get(accept_url("le-bon-jeton")).content.decode()
    assert "envoyée à une autre adresse e-mail" in page
    response = client.post(accept_url("le-bon-jeton"), GUARDIAN_PAYLOAD)

    assert response.status_code == 400
    assert "envoyée à une autre adresse e-mail" in text(response)
    assert not Guardian.objects.filter(user=other).exists()
    invitation.refresh_from_db()
    assert invitation.status == "pending"


def test_the_invited_address_must_be_verified(client, invited):
    """An account that added the invited address without confirming it is refused."""
    invitation, user = invited
    EmailAddress.objects.filter(user=user).update(verified=False)
    client.force_login(user)

    response = client.post(accept_url("le-bon-jeton"), GUARDIAN_PAYLOAD)

    assert response.status_code == 400
    assert "Confirmez d'abord l'adresse e-mail invitée" in text(response)
    assert not Guardian.objects.filter(user=user).exists()


def test_a_link_is_used_only_once(client, invited):
    """After acceptance the same link is refused, even to another account of the same address."""
    invitation, user = invited
    client.force_login(user)
    client.post(accept_url("le-bon-jeton"), GUARDIAN_PAYLOAD)
    Guardian.objects.filter(user=user).delete()  # even if the account left the family since

    response = client.post(accept_url("le-bon-jeton"), GUARDIAN_PAYLOAD)

    assert response.status_code == 400
    assert "déjà été utilisée" in text(response)
    assert not Guardian.objects.filter(user=user).exists()


def test_an_expired_invitation_is_refused(client, invited, time_machine):
    """Past GUARDIAN_INVITATION_DAYS the link no longer works."""
    invitation, user = invited
    time_machine.move_to(invitation.expires_at + datetime.timedelta(seconds=1), tick=False)
    client.force_login(user)

    response = client.post(accept_url("le-bon-jeton"), GUARDIAN_PAYLOAD)

    assert response.status_code == 400
    assert "Cette invitation a expiré" in text(response)
    assert not Guardian.objects.filter(user=user).exists()


def test_a_revoked_invitation_is_refused(client, invited):
    """A guardian revokes the pending invitation; its link then says so."""
    invitation, user = invited
    inviter = invitation.invited_by
    client.force_login(inviter)
    revoke = reverse("families:invitation_revoke", args=[invitation.pk])
    assert "Annuler l'invitation" in client.get(revoke).content.decode()
    assert client.post(revoke).url == reverse("families:family_detail")
    invitation.refresh_from_db()
    assert invitation.status == "revoked" and invitation.revoked_by == inviter
    assert GuardianEvent.objects.filter(kind="invitation_revoked", actor=inviter).exists()

    client.force_login(user)
    response = client.post(accept_url("le-bon-jeton"), GUARDIAN_PAYLOAD)

    assert response.status_code == 400
    assert "a été annulée" in text(response)
    assert not Guardian.objects.filter(user=user).exists()


def test_an_accepted_invitation_cannot_be_revoked(client, invited):
    """Revoking concerns pending invitations only; an accepted one stays accepted."""
    invitation, user = invited
    client.force_login(user)
    client.post(accept_url("le-bon-jeton"), GUARDIAN_PAYLOAD)
    client.force_login(invitation.invited_by)

    client.post(reverse("families:invitation_revoke", args=[invitation.pk]))

    invitation.refresh_from_db()
    assert invitation.status == "accepted"


def test_a_parent_already_in_a_family_is_refused(client, invited):
    """Someone who already belongs to a family cannot join a second one."""
    invitation, user = invited
    GuardianFactory(user=user, family__name="BRAVO")
    client.force_login(user)

    response = client.post(accept_url("le-bon-jeton"), GUARDIAN_PAYLOAD)

    assert response.status_code == 400
    assert "déjà rattaché à un foyer" in text(response)
    assert Guardian.objects.get(user=user).family.name == "BRAVO"


def test_an_unknown_token_is_a_404_in_french(client, today):
    """A made-up or truncated link answers 404 with an explanation."""
    client.force_login(UserFactory())
    response = client.get(accept_url("nimporte-quoi"))
    assert response.status_code == 404
    assert "Ce lien d'invitation n'est pas valide" in text(response)


def test_inviting_again_replaces_the_pending_invitation(
    client, today, mailoutbox, django_capture_on_commit_callbacks
):
    """A second invitation to the same address revokes the first link."""
    guardian = GuardianFactory()
    invite(client, guardian.family, "paul@example.org", django_capture_on_commit_callbacks)
    invite(client, guardian.family, "paul@example.org", django_capture_on_commit_callbacks)

    statuses = list(GuardianInvitation.objects.order_by("pk").values_list("status", flat=True))
    assert statuses == ["revoked", "pending"]
    assert len(mailoutbox) == 2


def test_a_current_guardian_cannot_be_invited(client, today, django_capture_on_commit_callbacks):
    """Inviting someone who is already a guardian of the family is refused."""
    first = GuardianFactory()
    second = GuardianFactory(family=first.family)
    client.force_login(first.user)

    response = client.post(reverse("families:invitation_create"), {"email": second.user.email})

    assert response.status_code == 200
    assert "déjà responsable de votre foyer" in text(response)
    assert not GuardianInvitation.objects.exists()


def test_pending_invitations_are_capped(client, today):
    """A family cannot pile up invitations: three pending at most."""
    guardian = GuardianFactory()
    for _ in range(3):
        GuardianInvitationFactory(family=guardian.family)
    client.force_login(guardian.user)

    response = client.post(reverse("families:invitation_create"), {"email": "x@example.org"})

    assert "annulez-en une" in text(response)
    assert GuardianInvitation.objects.count() == 3


def test_a_parent_without_family_cannot_invite(client, today):
    """The invitation page needs a family: without one, the parent is sent to create it."""
    client.force_login(UserFactory())
    response = client.get(reverse("families:invitation_create"))
    assert response.url == reverse("families:family_create")
