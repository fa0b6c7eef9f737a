"""Enrolment objects for the cross-family access matrix, relative to the real clock (the matrix
does not pin "today")."""

import datetime

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from enrolment.models import EnrolmentRequest, RequestDocument, Teleservice
from families.demo import ensure_school_years
from families.models import SchoolYear
from tests.common.test_uploads import pdf_bytes
from tests.enrolment.helpers import draft_for, form_payload, make_teleservice, submitted_for


class RewindingUpload(SimpleUploadedFile):
    """An upload the test client can send twice (the matrix posts the same payload as an intruder,
    then as the owner): each read starts from the beginning."""

    def read(self, *args, **kwargs):
        self.seek(0)
        return super().read(*args, **kwargs)


def _teleservice(kind) -> Teleservice:
    today = timezone.localdate()
    ensure_school_years(today)
    year = SchoolYear.objects.current(today)
    slug = f"matrice-{kind}-{year.label}"
    return Teleservice.objects.filter(slug=slug).first() or make_teleservice(
        kind,
        slug=slug,
        school_year=year,
        opens_on=datetime.date(2000, 1, 1),
        closes_on=datetime.date(2100, 1, 1),
    )


def enrolment_objects(family):
    """Family's first child: a submitted périscolaire request whose CAF certificate is refused
    (replaceable), and an Alaï draft."""
    child = family.children.order_by("pk").first()
    request = submitted_for(family, _teleservice(Teleservice.Kind.PERISCOLAIRE), child=child)
    RequestDocument.objects.filter(request=request, document_type__slug="attestation-caf").update(
        state=RequestDocument.State.REFUSED,
        reason="Illisible",
        replace_nonce=f"nonce{family.pk:027d}",
    )
    draft_for(family, _teleservice(Teleservice.Kind.ALAI), child=child)


def submitted_request(family) -> EnrolmentRequest:
    return EnrolmentRequest.objects.for_family(family).get(state=EnrolmentRequest.State.SUBMITTED)


def draft_request(family) -> EnrolmentRequest:
    return EnrolmentRequest.objects.for_family(family).get(state=EnrolmentRequest.State.DRAFT)


def refused_document(family) -> RequestDocument:
    return RequestDocument.objects.for_family(family).get(state=RequestDocument.State.REFUSED)


def new_file(name="nouveau.pdf"):
    return RewindingUpload(name, pdf_bytes())


def draft_payload(family) -> dict:
    return form_payload(draft_request(family).child, action="draft", with_child_field=False)
