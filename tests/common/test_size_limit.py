"""The upload handler stops reading a file past the size limit (common.uploads)."""

import pytest
from django.test import RequestFactory

from common.files import (
    MAX_REQUEST_UPLOAD_BYTES,
    MAX_UPLOAD_BYTES,
    REQUEST_TOO_BIG_MESSAGE,
    TOO_BIG_MESSAGE,
    PrivateDocumentField,
)
from common.uploads import RefusedUpload

PNG_HEAD = b"\x89PNG\r\n\x1a\n"
MB = 1024 * 1024
# What the parser may read ahead of the file it stops in (a few 64 KB chunks at most).
READ_AHEAD = MB


class MultipartBody:
    """A multipart/form-data body made as it is read, so that a huge file costs no memory; it
    counts the bytes read. Parts are (name, value) fields or (name, file name, size) files (a PNG
    header then zeros)."""

    boundary = "portail-test-boundary"

    def __init__(self, *parts):
        self.segments = []
        for part in parts:
            header = f'--{self.boundary}\r\nContent-Disposition: form-data; name="{part[0]}"'
            if len(part) == 2:
                self.segments.append(f"{header}\r\n\r\n{part[1]}\r\n".encode())
            else:
                name, file_name, size = part
                self.segments.append(
                    f'{header}; filename="{file_name}"\r\n'
                    "Content-Type: application/octet-stream\r\n\r\n".encode()
                    + PNG_HEAD
                )
                self.segments.extend([size - len(PNG_HEAD), b"\r\n"])
        self.segments.append(f"--{self.boundary}--\r\n".encode())
        self.length = sum(s if isinstance(s, int) else len(s) for s in self.segments)
        self.bytes_read = 0

    def read(self, size=-1):
        size = self.length - self.bytes_read if size is None or size < 0 else size
        out, position, wanted = [], 0, size
        for segment in self.segments:
            length = segment if isinstance(segment, int) else len(segment)
            start = max(self.bytes_read - position, 0)
            if start < length and wanted > 0:
                take = min(length - start, wanted)
                out.append(
                    bytes(take) if isinstance(segment, int) else segment[start : start + take]
                )
                wanted -= take
            position += length
            if wanted == 0:
                break
        data = b"".join(out)
        self.bytes_read += len(data)
        return data

    def readline(self, size=-1):
        raise NotImplementedError("the multipart parser reads by blocks")

    def environ(self) -> dict:
        """The WSGI variables that send this body."""
        return {
            "CONTENT_TYPE": f"multipart/form-data; boundary={self.boundary}",
            "CONTENT_LENGTH": str(self.length),
            "wsgi.input": self,
        }


def parse(body):
    request = RequestFactory().generic("POST", "/", **body.environ())
    return request.POST, request.FILES


def test_a_file_past_the_limit_is_skipped_and_the_rest_of_the_form_arrives():
    """Within a reasonable request, a 12 MB file is dropped unread past 10 MB: the fields and files
    after it still arrive, and its field holds the French refusal."""
    body = MultipartBody(
        ("before", "1"),
        ("big", "photo.png", 12 * MB),
        ("after", "2"),
        ("small", "scan.png", 1000),
    )
    post, files = parse(body)
    assert (post["before"], post["after"]) == ("1", "2")
    assert files["small"].size == 1000
    refused = files["big"]
    assert isinstance(refused, RefusedUpload) and refused.refusal == TOO_BIG_MESSAGE
    assert refused.name == "photo.png"


def test_a_huge_request_is_not_read_past_the_first_file_over_the_limit():
    """A 100 MB file is read up to the 10 MB limit only, then reading stops."""
    body = MultipartBody(("before", "1"), ("big", "photo.png", 100 * MB), ("after", "2"))
    post, files = parse(body)
    assert body.bytes_read < MAX_UPLOAD_BYTES + READ_AHEAD
    assert post["before"] == "1" and "after" not in post
    assert files["big"].refusal == TOO_BIG_MESSAGE


def test_many_files_are_not_read_past_the_request_limit():
    """Files each under 10 MB stop being read once together they pass the request's limit."""
    count = MAX_REQUEST_UPLOAD_BYTES // (9 * MB) + 2
    body = MultipartBody(*[(f"doc{rank}", f"scan{rank}.png", 9 * MB) for rank in range(count)])
    _, files = parse(body)
    assert body.bytes_read < MAX_REQUEST_UPLOAD_BYTES + READ_AHEAD
    complete = MAX_REQUEST_UPLOAD_BYTES // (9 * MB)
    assert all(files[f"doc{rank}"].size == 9 * MB for rank in range(complete))
    assert files[f"doc{complete}"].refusal == REQUEST_TOO_BIG_MESSAGE
    assert f"doc{complete + 1}" not in files


def test_the_document_field_refuses_the_stand_in_in_french():
    """The form shows the usual message on the field of a file that was not read to the end."""
    stand_in = RefusedUpload("photo.png", refusal=TOO_BIG_MESSAGE, size=MAX_UPLOAD_BYTES + 1)
    with pytest.raises(Exception) as excinfo:
        PrivateDocumentField().clean(stand_in)
    assert excinfo.value.messages == [TOO_BIG_MESSAGE]
