"""The API reference: the hand-written OpenAPI document (``docs/openapi.yaml``, shipped in
the package as ``core/openapi.yaml``) at ``/api/openapi.yaml``, shown at ``/api/reference/``
by Swagger UI from the template and scripts that django-ninja ships (no inline script), under
a Content-Security-Policy that allows only this origin's scripts and styles."""

from __future__ import annotations

import json
from pathlib import Path

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

OPENAPI_DOCUMENT = Path(__file__).with_name("openapi.yaml")

REFERENCE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)


@require_GET
def openapi_yaml(request: HttpRequest) -> HttpResponse:
    """The hand-written OpenAPI document, as written."""
    document = OPENAPI_DOCUMENT.read_bytes()
    return HttpResponse(document, content_type="application/yaml; charset=utf-8")


@require_GET
def api_reference(request: HttpRequest) -> HttpResponse:
    """Swagger UI showing ``/api/openapi.yaml``; no validator badge (it would call out)."""
    swagger_settings = {
        "url": reverse("openapi-yaml"),
        "layout": "BaseLayout",
        "deepLinking": True,
        "validatorUrl": None,
    }
    response = render(
        request,
        "ninja/swagger.html",
        {
            "swagger_settings": json.dumps(swagger_settings),
            "api": {"title": "Marketing OP API reference"},
            "add_csrf": False,
        },
    )
    response["Content-Security-Policy"] = REFERENCE_POLICY
    return response
