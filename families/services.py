from django.core.exceptions import ValidationError
from django.db import transaction

from .models import Family, Guardian, GuardianEvent, GuardianInvitation


@transaction.atomic
def family_create(*, user, family_form, guardian_form) -> Family:
    """Create the family file with `user` as its first guardian."""
    if Guardian.objects.filter(user=user).exists():
        raise ValidationError("Votre compte est déjà rattaché à un foyer.")
    family = family_form.save()
    guardian = guardian_form.save(commit=False)
    guardian.user = user
    guardian.family = family
    guardian.save()
    GuardianEvent.objects.create(
        family=family, kind=GuardianEvent.Kind.CREATED, user=user, email=user.email, actor=user
    )
    return family


@transaction.atomic
def child_save(*, family, child_form, contact_formset):
    """Save a child of `family` with its authorised and emergency contacts."""
    child = child_form.save(commit=False)
    child.family = family
    child.save()
    contact_formset.instance = child
    contact_formset.save()
    return child


def guardian_added_by_staff(*, guardian: Guardian, by, now) -> None:
    """Record that staff attached `guardian` to their family from the admin."""
    GuardianEvent.objects.create(
        family=guardian.family,
        kind=GuardianEvent.Kind.ADDED_BY_STAFF,
        user=guardian.user,
        email=guardian.user.email,
        actor=by,
        at=now,
    )


@transaction.atomic
def guardian_leave(*, guardian: Guardian, now) -> None:
    """The guardian leaves their family; the last guardian cannot."""
    _end_membership(
        guardian,
        kind=GuardianEvent.Kind.LEFT,
        actor=guardian.user,
        now=now,
        last_message=(
            "Vous êtes le seul responsable de ce foyer : vous ne pouvez pas le quitter. "
            "Pour clore le dossier, écrivez au pôle administratif."
        ),
    )


@transaction.atomic
def guardian_detach(*, guardian: Guardian, by, now, note="") -> None:
    """Staff detach a guardian from their family (separation); the history keeps who and when."""
    _end_membership(
        guardian,
        kind=GuardianEvent.Kind.DETACHED,
        actor=by,
        now=now,
        note=note,
        last_message=(
            f"{guardian.user} est le seul responsable du foyer {guardian.family.name} : le détacher "
            "laisserait le foyer sans responsable."
        ),
    )


def _end_membership(guardian, *, kind, actor, now, last_message, note=""):
    # The family row is locked so that its two guardians cannot both leave at the same moment.
    family = Family.objects.select_for_update().get(pk=guardian.family_id)
    if family.guardians.count() <= 1:
        raise ValidationError(last_message)
    user = guardian.user
    # Invitations this guardian sent and that are still pending die with the membership.
    for invitation in GuardianInvitation.objects.filter(family=family, invited_by=user).pending(
        now
    ):
        invitation.mark_revoked(by=actor, now=now)
        GuardianEvent.objects.create(
            family=family,
            kind=GuardianEvent.Kind.INVITATION_REVOKED,
            email=invitation.email,
            actor=actor,
            invitation=invitation,
            note="Annulée au départ du responsable qui l'avait envoyée.",
            at=now,
        )
    GuardianEvent.objects.create(
        family=family, kind=kind, user=user, email=user.email, actor=actor, note=note, at=now
    )
    guardian.delete()
