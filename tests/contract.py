"""A Django test client that checks every response against docs/openapi.yaml."""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path
from typing import Any

from django.test import Client
from openapi_core import Config, OpenAPI
from openapi_core.contrib.django import DjangoOpenAPIRequest, DjangoOpenAPIResponse
from openapi_core.deserializing.media_types.util import plain_loads

OPENAPI_PATH = Path(__file__).resolve().parents[1] / "docs" / "openapi.yaml"


class ResponseOnlyRequest(DjangoOpenAPIRequest):
    """The request as far as response validation needs it: path, method, parameters.

    Its body is not needed, and an endpoint that streamed the body has consumed it.
    """

    @property
    def body(self) -> bytes:
        return b""


@cache
def openapi() -> OpenAPI:
    """CSV answers are checked as text; other files (Parquet) as bytes, which their schemas
    (no type, as OpenAPI 3.1 describes binary content) allow."""
    return OpenAPI.from_file_path(
        str(OPENAPI_PATH),
        config=Config(extra_media_type_deserializers={"text/csv": plain_loads}),
    )


class ContractClient(Client):
    """Every response is validated against the hand-written OpenAPI document."""

    def request(self, **request: Any) -> Any:
        response = super().request(**request)
        path = response.wsgi_request.path
        if path.startswith("/api/") and not path.startswith("/api/docs"):
            openapi().validate_response(
                ResponseOnlyRequest(response.wsgi_request), DjangoOpenAPIResponse(response)
            )
        return response

    def basic(self, username: str, password: str) -> dict[str, str]:
        value = base64.b64encode(f"{username}:{password}".encode()).decode()
        return {"HTTP_AUTHORIZATION": f"Basic {value}"}
