"""The second guardian: a guardian invites another person (the other parent) to join the family.

The token travels only in the e-mail; the database keeps its SHA-256, so that a leaked database
gives no usable link. An invitation is single-use, bound to the invited address (the accepting
account must have verified it), expires after GUARDIAN_INVITATION_DAYS and can be revoked by a
guardian of the family while pending. Every step is written to GuardianEvent.
"""

import datetime
import hashlib
import hmac
import secrets

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from common import outbox
from common.emails import absolute_url, render_templated_email

from .models import Family, Guardian, GuardianEvent, GuardianInvitation

# More pending invitations than this would turn the portal into a mailer for whoever holds an
# account: two parents rarely need more than one.
MAX_PENDING_INVITATIONS = 3


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_for_token(token: str) -> GuardianInvitation | None:
    """The invitation whose link carries `token`, or None."""
    digest = hash_token(token)
    invitation = (
        GuardianInvitation.objects.select_related("family", "invited_by")
        .filter(token_hash=digest)
        .first()
    )
    # The lookup is by a hash of the token, so its timing reveals nothing useful; the final
    # comparison is constant-time all the same.
    if invitation is None or not hmac.compare_digest(invitation.token_hash, digest):
        return None
    return invitation


def acceptance_refusal(*, invitation: GuardianInvitation, user, now) -> str:
    """Why `user` cannot accept `invitation` at `now`, in French; empty when they can."""
    reason = invitation.refusal_reason(now)
    if reason:
        return reason
    addresses = EmailAddress.objects.filter(user=user, email__iexact=invitation.email)
    if not addresses.exists():
        return (
            "Cette invitation a été envoyée à une autre adresse e-mail que celle de votre compte. "
            "Connectez-vous avec le compte de l'adresse invitée, ou ajoutez cette adresse à votre "
            "compte et confirmez-la depuis « Mon compte »."
        )
    if not addresses.filter(verified=True).exists():
        return (
            "Confirmez d'abord l'adresse e-mail invitée : ouvrez le lien de confirmation que vous "
            "avez reçu, puis revenez sur ce lien d'invitation."
        )
    if Guardian.objects.filter(user=user).exists():
        return (
            "Votre compte est déjà rattaché à un foyer : il ne peut pas en rejoindre un second. "
            "En cas de séparation, écrivez au pôle administratif."
        )
    return ""


@transaction.atomic
def invitation_create(*, family: Family, invited_by, email: str, now) -> GuardianInvitation:
    """Invite `email` to join `family` and send the link; an earlier pending invitation of the
    same address is revoked (its link stops working)."""
    email = email.strip().lower()
    # One family's invitations are created one at a time (the pending count below holds).
    Family.objects.select_for_update().filter(pk=family.pk).first()
    if family.guardians.filter(user__email__iexact=email).exists():
        raise ValidationError("Cette personne est déjà responsable de votre foyer.")
    for previous in family.invitations.pending(now).filter(email__iexact=email):
        _revoke(previous, by=invited_by, now=now, note="Remplacée par une nouvelle invitation.")
    if family.invitations.pending(now).count() >= MAX_PENDING_INVITATIONS:
        raise ValidationError(
            f"Votre foyer a déjà {MAX_PENDING_INVITATIONS} invitations en attente : "
            "annulez-en une avant d'en envoyer une autre."
        )
    token = secrets.token_urlsafe(32)
    invitation = GuardianInvitation.objects.create(
        family=family,
        email=email,
        token_hash=hash_token(token),
        invited_by=invited_by,
        created_at=now,
        expires_at=now + datetime.timedelta(days=settings.GUARDIAN_INVITATION_DAYS),
    )
    GuardianEvent.objects.create(
        family=family,
        kind=GuardianEvent.Kind.INVITED,
        email=email,
        actor=invited_by,
        invitation=invitation,
        at=now,
    )
    send_invitation_email(invitation, token)
    return invitation


def send_invitation_email(invitation: GuardianInvitation, token: str) -> None:
    """The e-mail carrying the only copy of the invitation link, through the outbox (in the
    invitation's transaction; its content is erased once sent)."""
    inviter = invitation.invited_by
    message = render_templated_email(
        "guardian_invitation",
        {
            "invitation": invitation,
            "family": invitation.family,
            "inviter_name": (inviter.get_full_name() or inviter.email) if inviter else "",
            "accept_url": absolute_url(reverse("families:invitation_accept", args=[token])),
            "signup_url": absolute_url(reverse("account_signup")),
        },
        [invitation.email],
    )
    outbox.enqueue_email(message, sensitive=True)


@transaction.atomic
def invitation_revoke(*, invitation: GuardianInvitation, by, now) -> None:
    """Revoke a pending invitation: its link stops working at once."""
    invitation = GuardianInvitation.objects.select_for_update().get(pk=invitation.pk)
    _revoke(invitation, by=by, now=now)


def _revoke(invitation, *, by, now, note=""):
    invitation.mark_revoked(by=by, now=now)
    GuardianEvent.objects.create(
        family=invitation.family,
        kind=GuardianEvent.Kind.INVITATION_REVOKED,
        email=invitation.email,
        actor=by,
        invitation=invitation,
        note=note,
        at=now,
    )


@transaction.atomic
def invitation_accept(*, invitation: GuardianInvitation, user, guardian_form, now) -> Guardian:
    """`user` accepts `invitation` and becomes a guardian of its family, with the details of
    `guardian_form` (a valid GuardianForm)."""
    # Locked, so that two clicks (or two accounts) cannot both use a single-use link.
    invitation = (
        GuardianInvitation.objects.select_for_update()
        .select_related("family")
        .get(pk=invitation.pk)
    )
    refusal = acceptance_refusal(invitation=invitation, user=user, now=now)
    if refusal:
        raise ValidationError(refusal)
    invitation.mark_accepted(user=user, now=now)
    guardian = guardian_form.save(commit=False)
    guardian.user = user
    guardian.family = invitation.family
    try:
        with transaction.atomic():
            guardian.save()
    except IntegrityError as exc:  # the account joined another family in the meantime
        raise ValidationError("Votre compte est déjà rattaché à un foyer.") from exc
    GuardianEvent.objects.create(
        family=invitation.family,
        kind=GuardianEvent.Kind.JOINED,
        user=user,
        email=user.email,
        actor=user,
        invitation=invitation,
        at=now,
    )
    return guardian
