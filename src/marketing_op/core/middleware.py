"""Protections that hold for every response, whichever endpoint answers."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

DOCS_PREFIX = "/api/docs"


class RequestSizeLimit:
    """Answer 413 before reading a body larger than ``MAX_UPLOAD_BYTES``."""

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
        return self.get_response(request)


PLAIN_ERRORS = {404: "Not found.", 405: "Method not allowed."}


class SecurityHeaders:
    """A strict Content-Security-Policy on API answers, no caching of credentials, and JSON
    bodies for the errors that Django answers itself (unknown path, wrong method)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code in PLAIN_ERRORS and "json" not in response.get("Content-Type", ""):
            plain = response
            response = JsonResponse(
                {"detail": PLAIN_ERRORS[plain.status_code]}, status=plain.status_code
            )
            if plain.has_header("Allow"):
                response["Allow"] = plain["Allow"]
        if not request.path.startswith(DOCS_PREFIX):
            response.setdefault(
                "Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"
            )
        if "token" in request.path:
            response["Cache-Control"] = "no-store"
        return response
