"""Mandates and card payment pages move only along their transition tables."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from billing.card.models import CheckoutSession
from billing.directdebit import services as directdebit
from billing.directdebit.models import Mandate
from tests.billing import fixtures as billing_fixtures

pytestmark = pytest.mark.django_db


def test_a_revoked_mandate_never_becomes_active_again(family_a, today):
    """A revoked mandate stays revoked: direct debit starts again only through a new request
    (a new mandate, a new RUM), never by reviving the old one."""
    mandate = billing_fixtures.mandate(family_a)
    directdebit.mandate_revoke(mandate=mandate, by=None, today=today)
    mandate.refresh_from_db()

    with pytest.raises(
        ValidationError, match="Un mandat « révoqué » ne peut pas devenir « actif »"
    ):
        mandate.move_to(Mandate.Status.ACTIVE)
    assert Mandate.sources_of(Mandate.Status.ACTIVE) == []


def test_a_card_payment_page_moves_only_as_stripe_pages_do(family_a, today):
    """An open page completes or expires; an expired one may still complete (paid meanwhile);
    a completed one never expires."""
    invoice = billing_fixtures.invoice(family_a)
    session = CheckoutSession(
        invoice=invoice,
        session_id="cs_test_states",
        amount_cents=3000,
        expires_at=datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC),
    )
    assert session.can_move_to(CheckoutSession.Status.EXPIRED)
    session.move_to(CheckoutSession.Status.EXPIRED)
    session.move_to(CheckoutSession.Status.COMPLETE)

    with pytest.raises(ValidationError, match="ne peut pas devenir « expirée »"):
        session.move_to(CheckoutSession.Status.EXPIRED)
    assert not session.settle_in(CheckoutSession.Status.COMPLETE)  # already there: no move
