"""A child's second household (résidence alternée).

The office links a child to the family of the other parent from the admin, or the child's
first household sends a single-use invitation that a guardian of the other family accepts,
signed in. The second household then books the child on its own days and is invoiced for them
at its own QF; the child's record, enrolments and requests stay with the first household.
Tokens as for the guardians' invitations: only their SHA-256 is stored.
"""

import datetime
import hmac
import secrets

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.urls import reverse

from common import outbox
from common.emails import absolute_url, render_templated_email

from .invitations import hash_token
from .models import Child, ChildHousehold, ChildHouseholdInvitation, Family, Guardian

# Sent in the transaction that removes a child's second household, once the link is gone, with
# `child`, `family` (the former second household), `by` and `today`. The reservations app cancels
# that household's bookings of the child after `today`, frees the places for the waiting list and
# tells the household; each receiver returns how many bookings it cancelled. A receiver's error
# undoes the unlinking.
household_unlinked = Signal()


def link_refusal(*, child: Child, family: Family) -> str:
    """Why `family` cannot become the second household of `child`, in French; empty if it can."""
    if family.pk == child.family_id:
        return f"{child.first_name} fait déjà partie de ce foyer."
    if ChildHousehold.objects.filter(child=child).exists():
        return (
            f"{child.first_name} a déjà un second foyer. Pour en changer, le pôle administratif "
            "retire d'abord le rattachement actuel."
        )
    return ""


@transaction.atomic
def household_link(
    *, child: Child, family: Family, by, now, origin=ChildHousehold.Origin.OFFICE
) -> ChildHousehold:
    """Make `family` the second household of `child` (ValidationError if it cannot be)."""
    child = Child.objects.select_for_update().get(pk=child.pk)
    refusal = link_refusal(child=child, family=family)
    if refusal:
        raise ValidationError(refusal)
    try:
        with transaction.atomic():
            return ChildHousehold.objects.create(
                child=child, family=family, origin=origin, linked_by=by, linked_at=now
            )
    except IntegrityError as exc:  # linked meanwhile (the child's row lock makes it rare)
        raise ValidationError(f"{child.first_name} a déjà un second foyer.") from exc


@transaction.atomic
def household_unlink(*, link: ChildHousehold, by, today: datetime.date) -> int:
    """Remove the second household of `link`'s child: every path that removes the link (the
    admin's deletion, on the link's page, in its list or on the child's page) comes here. Returns
    how many of that household's bookings of the child, after `today`, were cancelled with it
    (0 when the link was removed meanwhile)."""
    Child.objects.select_for_update().filter(pk=link.child_id).first()
    link = ChildHousehold.objects.select_related("child", "family").filter(pk=link.pk).first()
    if link is None:
        return 0
    child, family = link.child, link.family
    link.delete()
    replies = household_unlinked.send(
        sender=ChildHousehold, child=child, family=family, by=by, today=today
    )
    return sum(count or 0 for _, count in replies)


def invitation_for_token(token: str) -> ChildHouseholdInvitation | None:
    """The invitation whose link carries `token`, or None."""
    digest = hash_token(token)
    invitation = (
        ChildHouseholdInvitation.objects.select_related("child__family", "invited_by")
        .filter(token_hash=digest)
        .first()
    )
    if invitation is None or not hmac.compare_digest(invitation.token_hash, digest):
        return None
    return invitation


def acceptance_refusal(*, invitation: ChildHouseholdInvitation, user, now) -> str:
    """Why `user` cannot accept `invitation` at `now`, in French; empty when they can."""
    reason = invitation.refusal_reason(now)
    if reason:
        return reason
    addresses = EmailAddress.objects.filter(user=user, email__iexact=invitation.email)
    if not addresses.filter(verified=True).exists():
        return (
            "Cette invitation a été envoyée à une autre adresse e-mail que celle de votre compte, "
            "ou cette adresse n'est pas encore confirmée. Connectez-vous avec le compte de "
            "l'adresse invitée et confirmez-la, puis revenez sur ce lien."
        )
    guardian = Guardian.objects.filter(user=user).select_related("family").first()
    if guardian is None:
        return (
            "Créez d'abord le dossier de votre foyer dans « Mon foyer » (votre adresse, vos "
            "coordonnées), puis revenez sur ce lien."
        )
    return link_refusal(child=invitation.child, family=guardian.family)


@transaction.atomic
def invitation_create(*, child: Child, invited_by, email: str, now) -> ChildHouseholdInvitation:
    """The first household invites the other parent (`email`) to link `child` to their own
    family, and the link is sent; an earlier pending invitation for the child is revoked."""
    email = email.strip().lower()
    child = Child.objects.select_for_update().get(pk=child.pk)
    if ChildHousehold.objects.filter(child=child).exists():
        raise ValidationError(f"{child.first_name} a déjà un second foyer.")
    if Guardian.objects.filter(family_id=child.family_id, user__email__iexact=email).exists():
        raise ValidationError(
            "Cette personne est responsable de votre foyer : invitez l'autre parent, "
            "qui a son propre foyer."
        )
    ChildHouseholdInvitation.objects.filter(child=child).pending(now).update(
        status=ChildHouseholdInvitation.Status.REVOKED, revoked_at=now
    )
    token = secrets.token_urlsafe(32)
    invitation = ChildHouseholdInvitation.objects.create(
        child=child,
        email=email,
        token_hash=hash_token(token),
        invited_by=invited_by,
        created_at=now,
        expires_at=now + datetime.timedelta(days=settings.GUARDIAN_INVITATION_DAYS),
    )
    inviter = invited_by
    message = render_templated_email(
        "household_invitation",
        {
            "invitation": invitation,
            "child": child,
            "inviter_name": (inviter.get_full_name() or inviter.email) if inviter else "",
            "accept_url": absolute_url(reverse("families:household_accept", args=[token])),
            "signup_url": absolute_url(reverse("account_signup")),
        },
        [email],
    )
    outbox.enqueue_email(message, sensitive=True)
    return invitation


@transaction.atomic
def invitation_revoke(*, invitation: ChildHouseholdInvitation, now) -> None:
    """Revoke a pending invitation: its link stops working at once."""
    invitation = ChildHouseholdInvitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_pending(now):
        raise ValidationError(invitation.refusal_reason(now))
    invitation.status = ChildHouseholdInvitation.Status.REVOKED
    invitation.revoked_at = now
    invitation.save(update_fields=["status", "revoked_at"])


@transaction.atomic
def invitation_accept(*, invitation: ChildHouseholdInvitation, user, now) -> ChildHousehold:
    """`user`'s family becomes the second household of the invitation's child (once)."""
    # Locked, so that two clicks (or two accounts) cannot both use a single-use link.
    invitation = (
        ChildHouseholdInvitation.objects.select_for_update()
        .select_related("child")
        .get(pk=invitation.pk)
    )
    refusal = acceptance_refusal(invitation=invitation, user=user, now=now)
    if refusal:
        raise ValidationError(refusal)
    link = household_link(
        child=invitation.child,
        family=user.guardian.family,
        by=user,
        now=now,
        origin=ChildHousehold.Origin.INVITATION,
    )
    invitation.status = ChildHouseholdInvitation.Status.ACCEPTED
    invitation.accepted_by, invitation.accepted_at = user, now
    invitation.save(update_fields=["status", "accepted_by", "accepted_at"])
    return link
