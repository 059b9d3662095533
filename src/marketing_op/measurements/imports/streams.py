"""The bytes of an upload or file: the SHA-256 and size as sent, the bounds on the bytes
as sent and once inflated, gzip, and the text in its charset.

A file is read once, as a stream: :class:`HashingReader` counts and hashes what was sent,
and :func:`open_text` gunzips it when it starts with the gzip magic bytes (within the same
bound) and decodes it in one of the charsets an upload may name.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
from typing import IO, Any, BinaryIO

GZIP_MAGIC = b"\x1f\x8b"
READ_CHUNK = 1 << 20
CHARSETS = frozenset({"utf-8", "utf-8-sig", "ascii", "iso8859-1", "iso8859-15", "cp1252"})
"""The text encodings an upload may name (by any of Python's names for them)."""


class BodyCutShort(Exception):
    """The stream ended before the length that its sender announced (a cut-off upload).

    Not an ``OSError``: the readers of a file report those as problems of the file, and a
    cut-off upload is no file at all (nothing of it may be stored, and nothing recorded).
    """

    def __init__(self, expected: int, received: int) -> None:
        super().__init__(f"the stream ended after {received} of {expected} bytes")
        self.expected = expected
        self.received = received


class ContentTooLarge(Exception):
    """More bytes (as sent or inflated) or more rows than the limit were offered."""

    def __init__(self, limit: int, unit: str = "bytes") -> None:
        super().__init__(f"more than {limit} {unit}")
        self.limit = limit
        self.unit = unit


def charset_known(name: str) -> str | None:
    """Python's name of an upload's charset, or None when it is not one we decode."""
    try:
        found = codecs.lookup(name).name
    except (LookupError, ValueError):
        return None
    return found if found in CHARSETS else None


class HashingReader(io.RawIOBase):
    """Reads a binary stream while computing its SHA-256 and counting its bytes.

    With ``limit``, reading past ``limit`` bytes raises :class:`ContentTooLarge`. With
    ``expected`` (an upload's Content-Length), an end of the stream before that many bytes
    raises :class:`BodyCutShort`: a server hands a body whose client stopped sending (or
    half-closed) to the application as a short stream, whose end looks like any other.
    """

    def __init__(
        self,
        stream: BinaryIO | IO[bytes],
        *,
        limit: int | None = None,
        expected: int | None = None,
    ) -> None:
        super().__init__()
        self._stream = stream
        self._limit = limit
        self._expected = expected
        self._sha256 = hashlib.sha256()
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        if not data:
            if self._expected is not None and self.bytes_read < self._expected:
                raise BodyCutShort(self._expected, self.bytes_read)
            return 0
        size = len(data)
        self.bytes_read += size
        if self._limit is not None and self.bytes_read > self._limit:
            raise ContentTooLarge(self._limit)
        self._sha256.update(data)
        buffer[:size] = data
        return size

    def drain(self) -> None:
        """Read what is left, so that the digest and count cover the whole content."""
        while self.readinto(bytearray(READ_CHUNK)) > 0:
            pass

    def hexdigest(self) -> str:
        return self._sha256.hexdigest()


class _Inflated(io.RawIOBase):
    """The inflated bytes of a gzip stream, at most ``limit`` of them."""

    def __init__(self, stream: gzip.GzipFile, limit: int | None) -> None:
        super().__init__()
        self._stream = stream
        self._limit = limit
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        self._read += len(data)
        if self._limit is not None and self._read > self._limit:
            raise ContentTooLarge(self._limit)
        buffer[: len(data)] = data
        return len(data)


def open_text(
    raw: HashingReader, *, charset: str = "utf-8-sig", limit: int | None = None
) -> IO[str]:
    """The text of a binary stream, gunzipped when it starts with the gzip magic bytes;
    more than ``limit`` inflated bytes raise :class:`ContentTooLarge`."""
    buffered = io.BufferedReader(raw, buffer_size=READ_CHUNK)
    binary: Any = buffered
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        inflated = _Inflated(gzip.GzipFile(fileobj=buffered, mode="rb"), limit)
        binary = io.BufferedReader(inflated, buffer_size=READ_CHUNK)
    if charset == "utf-8":
        charset = "utf-8-sig"
    return io.TextIOWrapper(binary, encoding=charset, newline="")
