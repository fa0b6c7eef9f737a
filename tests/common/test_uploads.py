import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from common.files import (
    JPEG,
    MAX_UPLOAD_BYTES,
    PDF,
    PNG,
    PrivateDocumentField,
    attachment_disposition,
    name_for_kind,
    sanitize_filename,
)


def png_bytes(width=4, height=4):
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, "PNG")
    return buffer.getvalue()


def png_header_claiming(width, height):
    """A PNG whose IHDR claims huge dimensions, without any pixel data allocated."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 16)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def pdf_bytes():
    return b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def clean(name, content):
    return PrivateDocumentField().clean(SimpleUploadedFile(name, content))


def test_valid_pdf_png_and_jpeg_are_accepted():
    """Real PDF, PNG and JPEG files are recognised by their content."""
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "JPEG")
    assert clean("a.pdf", pdf_bytes()).kind.content_type == "application/pdf"
    assert clean("b.png", png_bytes()).kind.content_type == "image/png"
    assert clean("photo.JPG", buffer.getvalue()).kind.content_type == "image/jpeg"


def test_png_renamed_pdf_is_stored_as_what_it_is():
    """The name does not decide the type: a PNG called .pdf is a PNG."""
    assert clean("scan.pdf", png_bytes()).kind.extension == "png"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "facture.pdf",
            b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200,
            "type de fichier n'est pas accepté",
        ),
        (
            "photo.png",
            b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script></html>",
            "n'est pas une vraie image",
        ),
        ("vide.pdf", b"", "vide"),
        ("enorme.png", png_header_claiming(50_000, 50_000), "trop grande"),
        ("coupe.pdf", b"%PDF-1.4\n1 0 obj", "incomplet"),
    ],
)
def test_bad_files_are_refused_in_french(name, content, message):
    """Executables, fake images, empty files, decompression bombs and broken PDFs are refused."""
    with pytest.raises(Exception) as excinfo:
        clean(name, content)
    assert message in " ".join(excinfo.value.messages)


def test_one_byte_over_the_limit_is_refused():
    """10 MB is accepted, one byte more is refused."""
    at_limit = pdf_bytes() + b" " * (MAX_UPLOAD_BYTES - len(pdf_bytes()) - 6) + b"%%EOF\n"
    assert len(at_limit) == MAX_UPLOAD_BYTES
    assert clean("ok.pdf", at_limit).kind.extension == "pdf"
    with pytest.raises(Exception) as excinfo:
        clean("gros.pdf", at_limit + b" ")
    assert "10 Mo" in " ".join(excinfo.value.messages)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\marie\\attestation CAF.pdf", "attestation CAF.pdf"),
        ("ligne\nnouvelle.pdf", "lignenouvelle.pdf"),
        ("", "document"),
        ("..", "document"),
        ("<script>.pdf", "_script_.pdf"),
    ],
)
def test_original_names_are_sanitised(raw, shown):
    """Paths, control characters and markup never survive in the displayed name."""
    assert sanitize_filename(raw) == shown


def test_the_kept_name_takes_the_extension_of_the_detected_type():
    """A PNG uploaded as photo.html is kept as photo.png; the name never decides the type."""
    assert clean("photo.html", png_bytes()).display_name == "photo.png"
    assert clean("facture.pdf.exe", pdf_bytes()).display_name == "facture.pdf"


@pytest.mark.parametrize(
    ("name", "kind", "kept"),
    [
        ("photo.html", PNG, "photo.png"),
        ("facture.pdf.exe", PDF, "facture.pdf"),
        ("scan.JPEG", JPEG, "scan.jpg"),
        ("relevé.PDF.html .exe", PDF, "relevé.pdf"),
        ("Attestation CAF 12.03.2025", PDF, "Attestation CAF 12.03.2025.pdf"),
        ("M. Dupont.pdf", PDF, "M. Dupont.pdf"),
        ("sans extension", PNG, "sans extension.png"),
        (".pdf", PDF, "pdf.pdf"),
        ("...", PDF, "document.pdf"),
        ("../../etc/passwd", PDF, "passwd.pdf"),
        ("page.html", None, "page"),
        ("x" * 300 + ".png", PNG, "x" * 116 + ".png"),
    ],
)
def test_names_end_with_the_detected_extension_and_no_other(name, kind, kept):
    """Every extension a name carried gives way to the detected one (dates and initials stay)."""
    assert name_for_kind(name, kind) == kept


def test_attachment_header_has_an_ascii_name_and_the_exact_one():
    """The download header carries a plain ASCII name and the accented one per RFC 5987."""
    assert attachment_disposition("Reçu « été ».pdf") == (
        'attachment; filename="Recu ete.pdf"; '
        "filename*=UTF-8''Re%C3%A7u%20%C2%AB%20%C3%A9t%C3%A9%20%C2%BB.pdf"
    )
    assert attachment_disposition("日本.png").startswith('attachment; filename="document.png"; ')
