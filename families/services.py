from django.core.exceptions import ValidationError
from django.db import transaction

from .models import Family, Guardian


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
