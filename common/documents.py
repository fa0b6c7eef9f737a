"""Issued documents kept once: stored in the private storage (never under MEDIA_URL) with their
SHA-256 and size, and served only if the bytes on disk are still those.

A document is written under a new random name and never rewritten: an issued invoice, a credit
note or a past year's tax certificate is made once, and what the family downloads later is that
file. A file gone missing or changed on disk is not replaced by a fresh rendering (that would be
another document): `read` raises DocumentIntegrityError, the caller logs it for the office and
tells the family the document cannot be sent right now.
"""

import hashlib
import logging
import uuid

from django.core.files.base import ContentFile
from django.http import HttpResponse, HttpResponseNotModified
from django.utils import timezone
from django.utils.cache import patch_vary_headers

from .files import attachment_disposition, get_private_storage
from .models import StoredDocument

logger = logging.getLogger(__name__)


class DocumentIntegrityError(Exception):
    """The stored file of a document is missing, or its bytes are not those recorded."""


def store(content: bytes, *, prefix: str, filename: str, content_type="application/pdf"):
    """Write `content` under a new random name below `prefix` and record it (not a shared
    path: two writers never touch one file). Returns the saved StoredDocument."""
    now = timezone.now()
    extension = "pdf" if content_type == "application/pdf" else "bin"
    name = f"{prefix}/{now:%Y}/{now:%m}/{uuid.uuid4().hex}.{extension}"
    path = get_private_storage().save(name, ContentFile(content))
    return StoredDocument.objects.create(
        path=path,
        filename=filename[:200],
        content_type=content_type,
        sha256=hashlib.sha256(content).hexdigest(),
        size=len(content),
        created_at=now,
    )


def discard(document: StoredDocument) -> None:
    """Remove a document just stored that lost a race to another copy (never an issued one
    that was served)."""
    get_private_storage().delete(document.path)
    document.delete()


def read(document: StoredDocument) -> bytes:
    """The bytes of `document`, checked against its recorded size and SHA-256."""
    storage = get_private_storage()
    try:
        with storage.open(document.path, "rb") as handle:
            content = handle.read()
    except (FileNotFoundError, OSError) as exc:
        raise DocumentIntegrityError(f"{document.path}: fichier introuvable ({exc})") from exc
    if len(content) != document.size or hashlib.sha256(content).hexdigest() != document.sha256:
        raise DocumentIntegrityError(
            f"{document.path}: le contenu ne correspond plus à l'empreinte enregistrée "
            f"({len(content)} octets, {document.size} attendus)"
        )
    return content


def etag(document: StoredDocument) -> str:
    return f'"{document.sha256}"'


def response(request, document: StoredDocument, *, inline: bool = True) -> HttpResponse:
    """Send `document`: its verified bytes with an ETag from its SHA-256 (a 304 when the
    browser already holds these bytes) and its file name. Raises DocumentIntegrityError."""
    tag = etag(document)
    if tag in request.headers.get("If-None-Match", ""):
        # The bytes cannot have changed (they are never rewritten), but a tampered file must
        # still be detected: only a browser holding the recorded bytes gets the 304.
        read(document)
        not_modified = HttpResponseNotModified()
        not_modified["ETag"] = tag
        return not_modified
    content = read(document)
    sent = HttpResponse(content, content_type=document.content_type)
    disposition = attachment_disposition(document.filename)
    if inline:
        disposition = disposition.replace("attachment;", "inline;", 1)
    sent["Content-Disposition"] = disposition
    sent["Content-Length"] = str(document.size)
    sent["ETag"] = tag
    # Private to the family: a shared cache keeps nothing; the browser revalidates by ETag.
    sent["Cache-Control"] = "private, no-cache"
    sent["X-Content-Type-Options"] = "nosniff"
    patch_vary_headers(sent, ["Cookie"])
    return sent


def report_integrity_error(document: StoredDocument, error: Exception, *, what: str) -> None:
    """Tell the office (the error log, which reaches the admins) that a kept document cannot
    be served as issued."""
    logger.error(
        "Document conservé %s (%s) refusé : %s", document.pk, what, error, extra={"what": what}
    )
