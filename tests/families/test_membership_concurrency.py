"""Races on membership, with real transactions and threads (PostgreSQL)."""

import pytest
from django.test import Client
from django.urls import reverse

from families.models import Guardian, GuardianEvent, GuardianInvitation
from tests.concurrency import at_once
from tests.factories import GuardianFactory, GuardianInvitationFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def signed_in(user):
    browser = Client()
    browser.force_login(user)
    return browser


def test_two_guardians_leaving_at_once_leave_one_behind():
    """Both guardians click "Quitter" together: one leaves, the family keeps the other."""
    first = GuardianFactory()
    second = GuardianFactory(family=first.family)
    browsers = [signed_in(first.user), signed_in(second.user)]

    at_once(*(lambda b=b: b.post(reverse("families:family_leave")) for b in browsers))

    assert Guardian.objects.filter(family=first.family).count() == 1
    assert GuardianEvent.objects.filter(kind=GuardianEvent.Kind.LEFT).count() == 1


def test_a_double_submitted_acceptance_joins_once():
    """Two submissions of the same invitation at once make one membership and one event."""
    guardian = GuardianFactory()
    user = UserFactory(email="paul@example.org")
    GuardianInvitationFactory(family=guardian.family, email=user.email, token="jeton-course")
    payload = {
        "guardian-last_name": "Martin",
        "guardian-first_name": "Paul",
        "guardian-relationship": "pere",
        "guardian-mobile_phone": "06 22 33 44 55",
    }
    url = reverse("families:invitation_accept", args=["jeton-course"])
    browsers = [signed_in(user), signed_in(user)]

    statuses = at_once(*(lambda b=b: b.post(url, payload).status_code for b in browsers))

    assert sorted(statuses) == [302, 400]
    assert Guardian.objects.filter(user=user, family=guardian.family).count() == 1
    assert GuardianEvent.objects.filter(kind=GuardianEvent.Kind.JOINED).count() == 1
    assert GuardianInvitation.objects.get().status == GuardianInvitation.Status.ACCEPTED
