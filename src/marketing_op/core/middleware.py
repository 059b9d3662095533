"""What holds for every response, whichever endpoint answers: the bounds of a request (body
size, number of query parameters), the security headers on every answer, including the
errors that Django answers itself, and its request id, log line and metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, JsonResponse

from marketing_op.core.logs import (
    loggable_method,
    loggable_path,
    request_context,
    request_id_from,
)
from marketing_op.core.metrics import count_request

access_log = logging.getLogger("marketing_op.access")

DOCS_PREFIX = "/api/docs"

# What the manual promises on every response (docs/operations/security.md); the CSP is
# added outside the API docs.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
}
CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
PAGE_CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
"""The dashboard's pages (HTML outside /api/): the service's own scripts, styles and
requests only; no inline script or style attribute, no other origin."""
PAGE_REFERRER_POLICY = "same-origin"
"""Pages send their origin to the service itself: with ``no-referrer`` a browser sends
``Origin: null`` on a form or a fetch that posts, which the CSRF check must refuse."""


class RequestSizeLimit:
    """Answer 413 before reading a body larger than ``MAX_UPLOAD_BYTES``, and 400 to a query
    of more than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` parameters, before any endpoint parses it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Content-Length is not a number."}, status=400)
        if length > settings.MAX_UPLOAD_BYTES:
            return JsonResponse(
                {"detail": f"The request body is larger than {settings.MAX_UPLOAD_BYTES} bytes."},
                status=413,
            )
        try:
            request.GET  # noqa: B018 - parsed once here, kept by the request
        except TooManyFieldsSent:
            return JsonResponse(
                {
                    "detail": "Too many query parameters: at most "
                    f"{settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}."
                },
                status=400,
            )
        return self.get_response(request)


PLAIN_ERRORS = {404: "Not found.", 405: "Method not allowed."}


class SecurityHeaders:
    """The security headers on every answer, a strict Content-Security-Policy on API answers
    and a page policy on the dashboard's pages,
    no caching of credentials, and JSON bodies for the errors that Django answers itself
    (unknown path, wrong method). First in ``MIDDLEWARE``, so that it sees every answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code in PLAIN_ERRORS and "json" not in response.get("Content-Type", ""):
            plain = response
            response = JsonResponse(
                {"detail": PLAIN_ERRORS[plain.status_code]}, status=plain.status_code
            )
            for header in ("Allow", "Vary", *SECURITY_HEADERS):
                if plain.has_header(header):
                    response[header] = plain[header]
        if _is_page(request, response):
            response["Content-Security-Policy"] = PAGE_CONTENT_SECURITY_POLICY
            response["Referrer-Policy"] = PAGE_REFERRER_POLICY
        for header, value in SECURITY_HEADERS.items():
            response.setdefault(header, value)
        if not request.path.startswith(DOCS_PREFIX):
            response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if "token" in request.path:
            response["Cache-Control"] = "no-store"
        return response


def _is_page(request: HttpRequest, response: HttpResponse) -> bool:
    """An HTML page of the dashboard (the API's own pages set their policy themselves)."""
    return not request.path.startswith("/api/") and response.get("Content-Type", "").startswith(
        "text/html"
    )


class RequestObservation:
    """Every request's id (the client's ``X-Request-ID`` when acceptable, else a new one),
    sent back in ``X-Request-ID``; its log line (``marketing_op.access``, level INFO) and its
    metrics by route template (``core.metrics``). Outermost in ``MIDDLEWARE``, so that it
    times and sees every answer, the refusals of the other middleware included."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        context: dict[str, Any] = {
            "request_id": request_id_from(request.headers.get("X-Request-ID")),
            "method": loggable_method(request.method),
            "path": loggable_path(request.path),
        }
        request_context.set(context)  # until the answer is sent: see core.logs
        response = self.get_response(request)
        seconds = time.perf_counter() - started
        context["organization"] = _organization_of(request)
        count_request(
            endpoint=_endpoint_of(request),
            method=str(request.method),
            status=response.status_code,
            seconds=seconds,
        )
        access_log.info(
            "%s %s %s",
            context["method"],
            context["path"],
            response.status_code,
            extra={"status": response.status_code, "duration_ms": round(seconds * 1000, 2)},
        )
        response["X-Request-ID"] = context["request_id"]
        return response


def _endpoint_of(request: HttpRequest) -> str:
    """The route template that answered (``api/marketing/measurements/``), so that metrics
    have one series per endpoint, never one per path a client makes up."""
    match = getattr(request, "resolver_match", None)
    if match is not None:
        return f"/{match.route}"
    if request.path.startswith(f"/{settings.STATIC_URL.lstrip('/')}"):
        return "static"
    return "unmatched"


def _organization_of(request: HttpRequest) -> int | None:
    """The organisation of whoever the API authenticated (a token, a session, a sign-in)."""
    auth = getattr(request, "auth", None)
    user = getattr(auth, "user", auth)
    return getattr(user, "organization_id", None)
