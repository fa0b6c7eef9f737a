"""factory_boy factories for the test suite."""

import datetime

import factory
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value
from django.contrib.auth import get_user_model
from django.utils import timezone

from families.invitations import hash_token
from families.models import (
    Child,
    ChildContact,
    Family,
    Guardian,
    GuardianInvitation,
    School,
    SchoolYear,
)

PASSWORD = "mot-de-passe-de-test-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"parent{n}@example.org")
    first_name = "Camille"
    last_name = factory.Sequence(lambda n: f"DURAND{n}")

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or PASSWORD)
        if create:
            self.save()

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.create(user=self, email=self.email, verified=True, primary=True)

    @factory.post_generation
    def totp(self, create, extracted, **kwargs):
        """Staff get an authenticator app, as the admin requires outside DEBUG (`totp=False` for
        one without); its secret is `user.totp_secret`, for totp_code()."""
        self.totp_secret = None
        if create and (extracted or (extracted is None and self.is_staff)):
            self.totp_secret = activate_totp(self)


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"École {n}")


class SchoolYearFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SchoolYear
        django_get_or_create = ["label"]

    label = "2026-2027"
    start_date = datetime.date(2026, 9, 1)
    end_date = datetime.date(2027, 7, 2)


class FamilyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Family

    name = factory.Sequence(lambda n: f"FAMILLE{n}")
    address = "1 place de la Mairie"
    postal_code = "69160"
    city = "Tassin la Demi-Lune"


class GuardianFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guardian

    user = factory.SubFactory(UserFactory)
    family = factory.SubFactory(FamilyFactory)
    relationship = Guardian.Relationship.MOTHER
    mobile_phone = "06 12 34 56 78"


class ChildFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Child

    family = factory.SubFactory(FamilyFactory)
    last_name = factory.LazyAttribute(lambda o: o.family.name)
    first_name = factory.Sequence(lambda n: f"Enfant{n}")
    birth_date = datetime.date(2018, 5, 4)
    school = factory.SubFactory(SchoolFactory)
    school_class = "CE2"


class ChildContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ChildContact

    child = factory.SubFactory(ChildFactory)
    full_name = "Jeanne MARTIN"
    relationship = "Grand-mère"
    phone = "06 11 22 33 44"


class GuardianInvitationFactory(factory.django.DjangoModelFactory):
    """A pending invitation; pass `token=` to know its link (only the hash is stored)."""

    class Meta:
        model = GuardianInvitation

    class Params:
        token = factory.Sequence(lambda n: f"jeton-de-test-{n}")

    family = factory.SubFactory(FamilyFactory)
    email = factory.Sequence(lambda n: f"invite{n}@example.org")
    token_hash = factory.LazyAttribute(lambda o: hash_token(o.token))
    created_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.created_at + datetime.timedelta(days=7))


def activate_totp(user) -> str:
    """Give `user` an authenticator app (TOTP); returns its secret, for totp_code()."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_code(secret: str) -> str:
    """The code the authenticator app of `secret` shows now."""
    counter = int(timezone.now().timestamp()) // app_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(secret, counter))
