import datetime

import pytest

from billing.reference import ensure_billing_reference
from families.models import SchoolYear
from reservations.models import Booking
from reservations.reference import ensure_reference_data
from tests.factories import ChildFactory, GuardianFactory, SchoolYearFactory

OCTOBER = datetime.date(2026, 10, 1)
NOVEMBER = datetime.date(2026, 11, 1)
ISSUE_DAY = datetime.date(2026, 11, 10)


@pytest.fixture
def school_years(db):
    previous = SchoolYear.objects.get_or_create(
        label="2025-2026",
        defaults={"start_date": datetime.date(2025, 9, 1), "end_date": datetime.date(2026, 7, 3)},
    )[0]
    return [previous, SchoolYearFactory()]


@pytest.fixture
def regies(school_years):
    """Both régies with their activities and the grids of 2025-2026 and 2026-2027."""
    return ensure_billing_reference(school_years)


@pytest.fixture
def slots(regies):
    return ensure_reference_data()


def make_family(
    name="MARTIN",
    *,
    qf=850,
    valid_until=datetime.date(2026, 12, 31),
    children=1,
    birth_dates=None,
    names=("Léa", "Lalo", "Nina"),
):
    """A family with one guardian and `children` children (QF `qf` valid until `valid_until`)."""
    guardian = GuardianFactory(
        family__name=name,
        family__quotient_familial=qf,
        family__quotient_valid_until=valid_until if qf is not None else None,
        user__first_name="Camille",
        user__last_name=name,
    )
    family = guardian.family
    for index in range(children):
        birth = (birth_dates or [])[index] if birth_dates else datetime.date(2018, 5, 4)
        ChildFactory(family=family, first_name=names[index], birth_date=birth)
    return family


def book(child, slot, day, **fields):
    """A booking (validated, reserved) of `child` on `slot` for `day`."""
    return Booking.objects.create(
        child=child, slot=slot, date=day, school_id=child.school_id, **fields
    )


def school_days(month: datetime.date, weekdays=(0, 1, 3, 4), count=None):
    """The days of `month` on `weekdays` (0 = Monday), at most `count` of them."""
    days = []
    day = month
    while day.month == month.month:
        if day.weekday() in weekdays:
            days.append(day)
        day += datetime.timedelta(days=1)
    return days[:count] if count else days


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    """Kept documents (invoice PDFs) go to this test's own private folder."""
    from django.utils.functional import empty

    from common.files import private_storage

    settings.MEDIA_ROOT = tmp_path / "private"
    private_storage._wrapped = empty
    yield
    private_storage._wrapped = empty


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    """Families get guardians with passwords: Argon2 would take most of each test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def office(db):
    """A régisseur (staff, group "Régisseur", with an authenticator app)."""
    from django.contrib.auth.models import Group

    from tests.factories import UserFactory

    user = UserFactory(
        email="regie@example.org", is_staff=True, first_name="Paul", last_name="GIRAUD"
    )
    user.groups.add(Group.objects.get(name="Régisseur"))
    return user


def issue(regies, slug="periscolaire", month=OCTOBER, today=ISSUE_DAY):
    from billing.invoicing import invoicing_run

    return invoicing_run(regie=regies[slug], month=month, today=today, notify=False)


def pdf_text(content: bytes, tmp_path) -> str:
    """The text of a PDF as pdftotext reads it, twice: in reading order (a table cell's text
    stays together even when it wraps) and with the layout kept (a table row reads as printed);
    runs of white space become one space."""
    import subprocess

    path = tmp_path / "document.pdf"
    path.write_bytes(content)
    texts = [
        subprocess.run(
            ["pdftotext", *options, str(path), "-"], check=True, capture_output=True, text=True
        ).stdout
        for options in ([], ["-layout"])
    ]
    return " ¦ ".join(" ".join(text.split()) for text in texts)


def pdf_first_page_png(content: bytes, name: str):
    """Render the first page as test-artifacts/pdf/<name>.png, to look at; returns the path."""
    import subprocess
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "test-artifacts" / "pdf"
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / f"{name}.pdf"
    pdf.write_bytes(content)
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "70",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(pdf),
            str(folder / name),
        ],
        check=True,
    )
    return folder / f"{name}.png"
