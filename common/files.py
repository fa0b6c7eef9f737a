"""Private documents: validated by content, stored outside the web root, served only on purpose.

Uploads are accepted only as PDF, JPEG or PNG, recognised by their bytes (never by their name),
at most MAX_UPLOAD_BYTES (common.uploads stops reading a file past that size); images are opened
with Pillow's decompression-bomb guard. Files are stored under random names; the sanitised original
name, ending in the extension of the detected type, is kept for display and download only.
"""

import os
import re
import unicodedata
import uuid
import warnings
from dataclasses import dataclass
from urllib.parse import quote

from django import forms
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse
from django.utils import timezone
from django.utils.functional import LazyObject
from PIL import Image, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# All the files of one form together (an enrolment request carries one file per document type).
MAX_REQUEST_UPLOAD_BYTES = 6 * MAX_UPLOAD_BYTES
ACCEPTED_HELP = "PDF, JPEG ou PNG, 10 Mo au plus."
TOO_BIG_MESSAGE = "Le fichier dépasse la taille maximale de 10 Mo."
REQUEST_TOO_BIG_MESSAGE = (
    "Les fichiers envoyés ensemble dépassent 60 Mo : envoyez-en une partie, "
    "puis ajoutez les autres."
)


@dataclass(frozen=True)
class FileKind:
    extension: str
    content_type: str
    label: str


PDF = FileKind("pdf", "application/pdf", "PDF")
JPEG = FileKind("jpg", "image/jpeg", "JPEG")
PNG = FileKind("png", "image/png", "PNG")
KIND_BY_CONTENT_TYPE = {kind.content_type: kind for kind in (PDF, JPEG, PNG)}

# A trailing ".xxx" that looks like a file extension: up to 5 ASCII letters or digits, one letter
# at least (so that a date such as "12.03.2025" is kept).
_EXTENSION = re.compile(r"\.(?=[0-9]*[A-Za-z])[A-Za-z0-9]{1,5}$")


class PrivateStorage(LazyObject):
    """The storage of private documents: MEDIA_ROOT, which is never served as static media."""

    def _setup(self):
        self._wrapped = FileSystemStorage(location=settings.MEDIA_ROOT, base_url=None)


private_storage = PrivateStorage()


def get_private_storage():
    return private_storage


def random_upload_path(prefix: str, filename: str) -> str:
    """A storage path `<prefix>/<year>/<month>/<random>.<ext>`, never the user's own name.

    Apps wrap it in a module-level `upload_to` function (migrations cannot refer to closures)."""
    extension = os.path.splitext(filename)[1].lower().lstrip(".")
    extension = extension if extension in {"pdf", "jpg", "png"} else "bin"
    now = timezone.now()
    return f"{prefix}/{now:%Y}/{now:%m}/{uuid.uuid4().hex}.{extension}"


def sanitize_filename(name: str, default: str = "document") -> str:
    """A display name without directories, control characters or odd characters; 120 chars max."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"[<>:\"|?*]", "_", name).strip().strip(".")
    name = re.sub(r"\s+", " ", name)
    if not name:
        return default
    stem, ext = os.path.splitext(name)
    return stem[: 120 - len(ext)] + ext[:10]


def name_for_kind(name: str, kind: FileKind | None) -> str:
    """The sanitised `name` with the extension of what the file really is, and no other.

    Every extension the name carried is dropped first, so `photo.html` holding a PNG becomes
    `photo.png` and `facture.pdf.exe` holding a PDF becomes `facture.pdf`. Without a known kind,
    the name keeps no extension at all."""
    stem = sanitize_filename(name, default="")
    while (shorter := _EXTENSION.sub("", stem).rstrip(" .")) != stem:
        stem = shorter
    stem = stem or "document"
    suffix = f".{kind.extension}" if kind is not None else ""
    return stem[: 120 - len(suffix)] + suffix


def attachment_disposition(filename: str) -> str:
    """A Content-Disposition header sending `filename` as an attachment: a plain ASCII name for
    old clients, and the exact name (accents included) as RFC 5987's `filename*`."""
    stem, suffix = os.path.splitext(filename)
    fallback = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode("ascii")
    fallback = re.sub(r"[^A-Za-z0-9 ._()+-]", "_", fallback)
    fallback = re.sub(r" +", " ", fallback).strip(" .") or "document"
    fallback += re.sub(r"[^A-Za-z0-9.]", "", suffix)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def _read_head(uploaded, size=16):
    uploaded.seek(0)
    head = uploaded.read(size)
    uploaded.seek(0)
    return head


def _check_image(uploaded, expected_format):
    uploaded.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(uploaded) as image:
                if image.format != expected_format:
                    raise forms.ValidationError(
                        "Le contenu de ce fichier ne correspond pas à une image valide."
                    )
                image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise forms.ValidationError(
            "Cette image est trop grande (dimensions démesurées) : envoyez une photo ou un scan plus petit."
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise forms.ValidationError(
            "Cette image est endommagée ou n'est pas une vraie image."
        ) from exc
    finally:
        uploaded.seek(0)


def _check_pdf(uploaded):
    size = uploaded.size
    uploaded.seek(max(0, size - 2048))
    tail = uploaded.read()
    uploaded.seek(0)
    if b"%%EOF" not in tail:
        raise forms.ValidationError("Ce PDF est incomplet ou endommagé.")


def validate_upload(uploaded) -> FileKind:
    """The kind of an uploaded file, or a French ValidationError saying why it is refused."""
    refusal = getattr(uploaded, "refusal", "")  # set by common.uploads on a file it stopped reading
    if refusal:
        raise forms.ValidationError(refusal)
    if uploaded.size == 0:
        raise forms.ValidationError("Le fichier est vide.")
    if uploaded.size > MAX_UPLOAD_BYTES:
        raise forms.ValidationError(TOO_BIG_MESSAGE)
    head = _read_head(uploaded)
    if head.startswith(b"%PDF-"):
        _check_pdf(uploaded)
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        _check_image(uploaded, "PNG")
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        _check_image(uploaded, "JPEG")
        return JPEG
    raise forms.ValidationError("Ce type de fichier n'est pas accepté (PDF, JPEG ou PNG).")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PrivateDocumentField(forms.FileField):
    """A form field for one document, validated by content; `cleaned_data` keeps the file with
    its detected kind (`file.kind`) and sanitised name ending in the kind's extension
    (`file.display_name`)."""

    default_error_messages = {
        "required": "Ajoutez le document.",
        "empty": "Le fichier est vide.",
        "invalid": "Aucun fichier n'a été envoyé : vérifiez le formulaire.",
    }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("help_text", ACCEPTED_HELP)
        kwargs.setdefault("max_length", None)
        super().__init__(*args, **kwargs)
        self.widget.attrs.setdefault(
            "accept", ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png"
        )

    def clean(self, data, initial=None):
        uploaded = super().clean(data, initial)
        if uploaded and uploaded is not initial and hasattr(uploaded, "size"):
            uploaded.kind = validate_upload(uploaded)
            uploaded.display_name = name_for_kind(uploaded.name, uploaded.kind)
        return uploaded


class MultipleDocumentField(PrivateDocumentField):
    """Several documents at once (at most `max_files`), each validated like PrivateDocumentField."""

    def __init__(self, *args, max_files=3, **kwargs):
        self.max_files = max_files
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("help_text", f"{max_files} fichiers au plus ; {ACCEPTED_HELP}")
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, list | tuple) else [data]) if f]
        if not files:
            if self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return []
        if len(files) > self.max_files:
            raise forms.ValidationError(f"Vous pouvez joindre {self.max_files} fichiers au plus.")
        cleaned, errors = [], []
        for uploaded in files:
            try:
                cleaned.append(super().clean(uploaded, initial))
            except forms.ValidationError as exc:
                name = sanitize_filename(getattr(uploaded, "name", ""))
                errors.extend(
                    forms.ValidationError(f"« {name} » : {message}") for message in exc.messages
                )
        if errors:
            raise forms.ValidationError(errors)
        return cleaned


PREVIEWABLE_KINDS = (PDF, JPEG, PNG)


def serve_private_file(field_file, *, download_name: str, content_type: str, inline: bool = False):
    """Send a stored private file as an attachment that the browser must not sniff or cache.

    The name sent ends in the extension of the stored type (files stored before names were
    normalised at upload are renamed here too); an unknown type goes out as plain bytes.

    With `inline`, a PDF or an image is sent to be shown in the page (an `<iframe>` or an `<img>`
    of the same site), still sandboxed: it runs no script and loads nothing. Any other type is
    sent as an attachment, as without `inline`. Only an inline response may be framed, and by
    the site's own pages only (`X-Frame-Options: SAMEORIGIN` and `frame-ancestors 'self'`,
    where the site's default is DENY)."""
    kind = KIND_BY_CONTENT_TYPE.get(content_type)
    inline = inline and kind in PREVIEWABLE_KINDS
    response = FileResponse(
        field_file.open("rb"),
        as_attachment=not inline,
        content_type=kind.content_type if kind else "application/octet-stream",
    )
    disposition = attachment_disposition(name_for_kind(download_name, kind))
    if inline:
        disposition = disposition.replace("attachment;", "inline;", 1)
    response["Content-Disposition"] = disposition
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    if inline:
        response["Content-Security-Policy"] += "; frame-ancestors 'self'"
        response["X-Frame-Options"] = "SAMEORIGIN"
    return response
