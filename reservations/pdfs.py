"""PDFs of the reservations, rendered by WeasyPrint from Django templates."""

import datetime
from dataclasses import dataclass

from django.template.loader import render_to_string
from weasyprint import HTML


@dataclass(frozen=True)
class AttendanceSheet:
    """The register of one créneau at one school on one day, to print."""

    heading: str
    school: object
    slot: object
    day: datetime.date
    bookings: list
    printed_at: datetime.datetime


def attendance_pdf(sheet: AttendanceSheet) -> bytes:
    """The register as a one-page (or more) A4 PDF, with a box per child to tick by hand."""
    html = render_to_string("reservations/attendance_pdf.html", {"sheet": sheet})
    return HTML(string=html).write_pdf()
