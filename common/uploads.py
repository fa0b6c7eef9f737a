"""A file past the size limit is no longer read, so a huge body neither fills memory or disk nor
keeps a worker busy.

SizeLimitUploadHandler comes first in FILE_UPLOAD_HANDLERS and counts the bytes of every file as
they arrive. When one file goes past MAX_UPLOAD_BYTES, what happens next depends on the size of
the whole request:

- an honest request (at most MAX_REQUEST_UPLOAD_BYTES in all, say a 12 MB photo picked by mistake)
  has the rest of that file skipped without being stored, and the other fields arrive as usual;
- a bigger request is not read any further: the fields and files sent before the file arrive,
  nothing after it.

Either way, the field of the refused file receives a stand-in that common.files.validate_upload
refuses with its usual French message: the form shows the error on that field and saves nothing.
The files of one request together are also held to MAX_REQUEST_UPLOAD_BYTES, beyond which reading
stops the same way.
"""

from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile, StopUpload
from django.http.multipartparser import MultiPartParser

from .files import (
    MAX_REQUEST_UPLOAD_BYTES,
    MAX_UPLOAD_BYTES,
    REQUEST_TOO_BIG_MESSAGE,
    TOO_BIG_MESSAGE,
)


class RefusedUpload(UploadedFile):
    """What the form receives in place of a file that was not read to the end: no content, a
    size past the limit, and the French reason (`refusal`) that validation reports."""

    def __init__(self, name: str, *, refusal: str, size: int):
        super().__init__(file=None, name=name, content_type="application/octet-stream", size=size)
        self.refusal = refusal

    def open(self, mode=None):
        raise ValueError("Ce fichier n'a pas été reçu en entier.")

    def chunks(self, chunk_size=None):
        raise ValueError("Ce fichier n'a pas été reçu en entier.")

    def read(self, *args, **kwargs):
        raise ValueError("Ce fichier n'a pas été reçu en entier.")


class SizeLimitUploadHandler(FileUploadHandler):
    """Stops reading an uploaded file past MAX_UPLOAD_BYTES (see the module docstring)."""

    def __init__(self, request=None):
        super().__init__(request)
        self.parsing = False
        self.request_length = 0  # the whole body (each file's content_length is its own)
        self.received = 0  # bytes of all the files of the request so far
        self.refused = []  # (field name, file name, French reason, bytes read)

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        """Parse the body as usual, with every handler, then put a stand-in in FILES for each
        refused file (the parser itself drops a file it stopped reading)."""
        if self.parsing:
            return None
        self.parsing = True
        self.request_length = content_length or 0
        handlers = self.request.upload_handlers if self.request is not None else [self]
        post, files = MultiPartParser(META, input_data, handlers, encoding).parse()
        for field_name, file_name, refusal, size in self.refused:
            files.appendlist(field_name, RefusedUpload(file_name, refusal=refusal, size=size))
        return post, files

    def receive_data_chunk(self, raw_data, start):
        """Pass the chunk on to the next handler, unless the file or the request is too big."""
        self.received += len(raw_data)
        size = start + len(raw_data)
        if self.received > MAX_REQUEST_UPLOAD_BYTES:
            self._refuse(REQUEST_TOO_BIG_MESSAGE, size)
            raise StopUpload(connection_reset=True)
        if size > MAX_UPLOAD_BYTES:
            self._refuse(TOO_BIG_MESSAGE, size)
            if self.request_length > MAX_REQUEST_UPLOAD_BYTES:
                raise StopUpload(connection_reset=True)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None  # the next handler (memory or temporary file) builds the uploaded file

    def _refuse(self, refusal: str, size: int):
        self.refused.append((self.field_name, self.file_name, refusal, size))
