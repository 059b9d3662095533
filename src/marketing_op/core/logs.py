"""Logs: one JSON object per line (``LOG_FORMAT=json``, production's default) or plain text,
each record carrying the request it was written for.

A request's id, method, path and, once it is authenticated, organisation are kept in a
context variable from the start of the request (``core.middleware.RequestObservation``)
until its answer is sent (Django's ``request_finished``), so that every record written
meanwhile carries them, Django's own lines about refused requests included. A JSON record
holds the fields named in ``FIELDS`` and nothing else: no request headers, no query string,
no body. Of an exception, both formats write its type and traceback but not its message,
which may quote a row of data or a value that a client sent. Tokens and passwords never reach a log.

What a line may carry of a request is bounded, whoever wrote it (Django's own loggers
quote the path of a refused request, or the ``Host`` header it refused): a message quotes
at most ``MAX_LOGGED_VALUE`` characters of each value and is cut at ``MAX_LOGGED_MESSAGE``
characters, the path field at ``MAX_LOGGED_PATH`` and the method at ``MAX_LOGGED_METHOD``,
and Django's line about a disallowed ``Host`` quotes at most
``MAX_LOGGED_HOST`` characters of it, once.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import re
import secrets
import traceback
from contextvars import ContextVar
from typing import Any

import orjson

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
"""An ``X-Request-ID`` that is kept as the client sent it; any other is replaced."""
MAX_LOGGED_VALUE = 512
"""The most of one value a message quotes (Django's "Not Found: <path>" quotes the path)."""
MAX_LOGGED_PATH = MAX_LOGGED_VALUE
MAX_LOGGED_METHOD = 32
MAX_LOGGED_MESSAGE = 1024
MAX_LOGGED_HOST = 100
DISALLOWED_HOST_LOGGER = "django.security.DisallowedHost"

FIELDS = ("request_id", "organization", "method", "path", "status", "duration_ms")
"""What a record carries beside time, level, logger and message (where known)."""

request_context: ContextVar[dict[str, Any] | None] = ContextVar("request_context", default=None)


def request_id_from(header: str | None) -> str:
    """The client's ``X-Request-ID`` when it is 1-128 letters, digits or ``._:-``, else a new
    one (128 random bits in hex): a longer or stranger value is not logged or sent back."""
    if header and REQUEST_ID.fullmatch(header):
        return header
    return secrets.token_hex(16)


def request_context_forget(**kwargs: Any) -> None:
    request_context.set(None)


def capped(value: str, limit: int) -> str:
    """``value``, or its first ``limit`` characters and how long it was."""
    if len(value) <= limit:
        return value
    return f"{value[:limit]}... ({len(value)} characters)"


def loggable_path(path: str) -> str:
    return path[:MAX_LOGGED_PATH]


def loggable_method(method: str | None) -> str | None:
    return None if method is None else method[:MAX_LOGGED_METHOD]


def loggable_message(record: logging.LogRecord) -> str:
    """The record's message, cut to ``MAX_LOGGED_MESSAGE``; Django's refusal of a ``Host``
    (whose message quotes the header twice, however long) says what was refused in short."""
    if record.name == DISALLOWED_HOST_LOGGER:
        request = getattr(record, "request", None)
        host = str(getattr(request, "META", {}).get("HTTP_HOST", ""))
        return (
            f"Refused a request for a host that ALLOWED_HOSTS does not name: "
            f"{capped(host, MAX_LOGGED_HOST)!r}"
        )
    message = record.getMessage()
    if isinstance(record.args, tuple) and any(isinstance(arg, str) for arg in record.args):
        args = tuple(
            capped(arg, MAX_LOGGED_VALUE) if isinstance(arg, str) else arg for arg in record.args
        )
        # A message that is not %-formatted after all is cut as a whole below.
        with contextlib.suppress(TypeError, ValueError):
            message = str(record.msg) % args
    return capped(message, MAX_LOGGED_MESSAGE)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, and the
    request's fields of ``FIELDS`` that are known."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.datetime.fromtimestamp(record.created, tz=datetime.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": loggable_message(record),
        }
        context = request_context.get() or {}
        for field in FIELDS:
            value = getattr(record, field, context.get(field))
            if isinstance(value, str):
                value = value[:MAX_LOGGED_PATH]
            if value is not None:
                entry[field] = value
        if record.exc_info and record.exc_info[0] is not None:
            kind, _, trace = record.exc_info
            entry["exception"] = kind.__name__
            entry["traceback"] = "".join(traceback.format_tb(trace))
        return orjson.dumps(entry, default=str).decode()


class PlainFormatter(logging.Formatter):
    """Development's lines: time, level, logger, message, and the request id when known."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = loggable_message(record)
        return super().formatMessage(record)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None) or (request_context.get() or {}).get(
            "request_id"
        )
        return f"{line} [{request_id}]" if request_id else line

    def formatException(self, ei: Any) -> str:
        return _without_message(ei)


def _without_message(exc_info: Any) -> str:
    kind, _, trace = exc_info
    return "".join(["Traceback (most recent call last):\n", *traceback.format_tb(trace)]) + (
        f"{kind.__name__} (message not logged)"
    )
