import pytest
from django.contrib.auth.models import Group

from enrolment.models import Teleservice
from tests.enrolment.helpers import make_teleservice
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    """Uploaded documents go to a throwaway directory; test accounts hash passwords quickly."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "private"
    settings.SITE_URL = "https://portail.example.org"


@pytest.fixture
def periscolaire(db):
    return make_teleservice(Teleservice.Kind.PERISCOLAIRE)


@pytest.fixture
def alai(db):
    return make_teleservice(Teleservice.Kind.ALAI)


@pytest.fixture
def assistant(db):
    user = UserFactory(is_staff=True, first_name="Claire", last_name="MOREL")
    user.groups.add(Group.objects.get(name="Assistant administratif"))
    return user
