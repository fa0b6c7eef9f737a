"""Reads about families that other apps share."""

from collections import defaultdict

from .models import Guardian


def guardian_emails(family_ids) -> dict[int, list[str]]:
    """The guardians' addresses of each family of `family_ids`, in one query, in the order a
    family's own `guardians` lists them (a family without one maps to an empty list)."""
    emails = defaultdict(list)
    for family_id, email in (
        Guardian.objects.filter(family_id__in=family_ids)
        .order_by("created_at", "pk")
        .values_list("family_id", "user__email")
    ):
        emails[family_id].append(email)
    return emails
