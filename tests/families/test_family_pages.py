import datetime

import pytest
from django.urls import reverse

from families.models import Child, Family, Guardian
from tests.factories import SchoolFactory, UserFactory

pytestmark = pytest.mark.django_db


def family_payload(**overrides):
    data = {
        "family-name": "Martin",
        "family-address": "5 rue des Lilas",
        "family-address_complement": "",
        "family-postal_code": "69160",
        "family-city": "Tassin la Demi-Lune",
        "family-phone": "04 78 11 22 33",
        "guardian-last_name": "Martin",
        "guardian-first_name": "Julie",
        "guardian-relationship": "mere",
        "guardian-mobile_phone": "06 11 22 33 44",
        "guardian-work_phone": "",
    }
    data.update(overrides)
    return data


def child_payload(**overrides):
    data = {
        "last_name": "martin",
        "first_name": " Zoé ",
        "birth_date": "2019-04-12",
        "sex": "F",
        "school": SchoolFactory().pk,
        "school_class": "GS",
        "health_notes": "",
        "contacts-TOTAL_FORMS": "1",
        "contacts-INITIAL_FORMS": "0",
        "contacts-MIN_NUM_FORMS": "0",
        "contacts-MAX_NUM_FORMS": "1000",
        "contacts-0-full_name": "Jeanne MARTIN",
        "contacts-0-relationship": "Grand-mère",
        "contacts-0-phone": "06 98 76 54 32",
        "contacts-0-can_pick_up": "on",
    }
    data.update(overrides)
    return data


def test_anonymous_visitor_is_sent_to_login(client):
    """The family pages need an account: a visitor is redirected to the login page."""
    response = client.get(reverse("families:family_detail"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_new_parent_is_invited_to_create_the_family_file(client, today):
    """A signed-in parent without a family sees the call to create it and is sent there from /foyer/."""
    client.force_login(UserFactory())
    assert "Créer mon dossier famille" in client.get(reverse("home")).content.decode()
    assert client.get(reverse("families:family_detail")).url == reverse("families:family_create")


def test_parent_creates_the_family_then_a_child(client, today):
    """The family file is created with the parent as guardian, then a child with a contact."""
    user = UserFactory()
    client.force_login(user)

    response = client.post(reverse("families:family_create"), family_payload())
    assert response.url == reverse("families:child_create")
    family = Family.objects.get()
    assert family.name == "MARTIN"
    guardian = Guardian.objects.get(user=user)
    assert guardian.family == family
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Julie", "MARTIN")

    response = client.post(reverse("families:child_create"), child_payload())
    assert response.url == reverse("families:family_detail")
    child = Child.objects.get()
    assert (child.family, child.last_name, child.first_name) == (family, "MARTIN", "Zoé")
    assert child.contacts.get().full_name == "Jeanne MARTIN"
    page = client.get(reverse("families:family_detail")).content.decode()
    assert "Zoé" in page and "1 personne autorisée" in page


def test_a_second_family_file_cannot_be_created(client, family_a):
    """A guardian who already has a family is sent to it instead of creating another."""
    client.force_login(family_a.guardians.first().user)
    response = client.post(reverse("families:family_create"), family_payload())
    assert response.url == reverse("families:family_detail")
    assert Family.objects.count() == 1


def test_invalid_family_form_shows_french_errors_and_saves_nothing(client, today):
    """A bad postcode and phone give French messages on the form; nothing is created."""
    client.force_login(UserFactory())
    response = client.post(
        reverse("families:family_create"),
        family_payload(**{"family-postal_code": "6916", "guardian-mobile_phone": "abc"}),
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Le code postal compte 5 chiffres." in page
    assert "Saisissez un numéro de téléphone valide" in page
    assert not Family.objects.exists() and not Guardian.objects.exists()


@pytest.mark.parametrize(
    ("birth_date", "message"),
    [
        ("2027-01-01", "ne peut pas être dans le futur"),
        ("2001-01-01", "moins de 18 ans"),
        ("31/02/2020", "Saisissez une date valide"),
    ],
)
def test_child_birth_date_is_checked(client, family_a, today, birth_date, message):
    """An impossible birth date is refused with a French message and no child is added."""
    client.force_login(family_a.guardians.first().user)
    count = Child.objects.count()
    response = client.post(reverse("families:child_create"), child_payload(birth_date=birth_date))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Child.objects.count() == count


def test_contact_must_pick_up_or_be_called(client, family_a, today):
    """A contact who may neither pick the child up nor be called is refused, and nothing is saved."""
    client.force_login(family_a.guardians.first().user)
    count = Child.objects.count()
    response = client.post(
        reverse("families:child_create"), child_payload(**{"contacts-0-can_pick_up": ""})
    )
    assert "Cochez au moins" in response.content.decode()
    assert Child.objects.count() == count


def test_parent_cannot_set_the_quotient_familial(client, family_a, today):
    """The QF is shown read-only: a forged field in the family form does not change it."""
    family_a.quotient_familial = 900
    family_a.quotient_valid_until = datetime.date(2026, 12, 31)
    family_a.save()
    client.force_login(family_a.guardians.first().user)
    payload = family_payload(
        **{"family-quotient_familial": "10", "family-quotient_valid_until": "2030-01-01"}
    )
    response = client.post(reverse("families:family_update"), payload)
    assert response.url == reverse("families:family_detail")
    family_a.refresh_from_db()
    assert (family_a.quotient_familial, family_a.quotient_valid_until) == (
        900,
        datetime.date(2026, 12, 31),
    )
    assert "900 €" in client.get(reverse("families:family_detail")).content.decode()


def test_expired_quotient_is_shown_as_expired(client, family_a, today):
    """A QF past its validity date no longer applies, and the parent is told why."""
    family_a.quotient_familial = 700
    family_a.quotient_valid_until = datetime.date(2026, 8, 31)
    family_a.save()
    assert family_a.valid_quotient(today) is None
    client.force_login(family_a.guardians.first().user)
    page = client.get(reverse("families:family_detail")).content.decode()
    assert "Expiré le 31/08/2026" in page
