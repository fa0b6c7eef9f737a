"""Private documents: validated by content, stored outside the web root, served only on purpose.

Uploads are accepted only as PDF, JPEG or PNG, recognised by their bytes (never by their name),
at most MAX_UPLOAD_BYTES; images are opened with Pillow's decompression-bomb guard. Files are
stored under random names; the sanitised original name is kept for display and download only.
"""

import os
import re
import unicodedata
import uuid
import warnings
from dataclasses import dataclass

from django import forms
from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.http import FileResponse
from django.utils import timezone
from django.utils.functional import LazyObject
from PIL import Image, UnidentifiedImageError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
ACCEPTED_HELP = "PDF, JPEG ou PNG, 10 Mo au plus."


@dataclass(frozen=True)
class FileKind:
    extension: str
    content_type: str
    label: str


PDF = FileKind("pdf", "application/pdf", "PDF")
JPEG = FileKind("jpg", "image/jpeg", "JPEG")
PNG = FileKind("png", "image/png", "PNG")


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
    if uploaded.size == 0:
        raise forms.ValidationError("Le fichier est vide.")
    if uploaded.size > MAX_UPLOAD_BYTES:
        raise forms.ValidationError("Le fichier dépasse la taille maximale de 10 Mo.")
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
    raise forms.ValidationError(
        "Ce type de fichier n'est pas accepté : envoyez un PDF, une image JPEG ou PNG."
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PrivateDocumentField(forms.FileField):
    """A form field for one document, validated by content; `cleaned_data` keeps the file with
    its detected kind (`file.kind`) and sanitised name (`file.display_name`)."""

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
            uploaded.display_name = sanitize_filename(uploaded.name)
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


def serve_private_file(field_file, *, download_name: str, content_type: str):
    """Send a stored private file as an attachment that the browser must not sniff or cache."""
    response = FileResponse(
        field_file.open("rb"), as_attachment=True, filename=download_name, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
