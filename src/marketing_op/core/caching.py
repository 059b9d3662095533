"""HTTP caching of data answers: an ETag from the organisation's data version."""

from __future__ import annotations

import hashlib

from django.http import HttpRequest, HttpResponse

from marketing_op.accounts.models import Organization


def data_etag(*, request: HttpRequest, organization: Organization) -> str:
    """Changes whenever an import changes the organisation's data, and differs per URL."""
    resource = f"{organization.pk}:{request.get_full_path()}".encode("utf-8", "replace")
    return f'"v{organization.data_version}-{hashlib.sha256(resource).hexdigest()[:20]}"'


def not_modified(
    *, request: HttpRequest, response: HttpResponse, organization: Organization
) -> bool:
    """Set ETag and Cache-Control on the answer; True when the client's copy is current."""
    etag = data_etag(request=request, organization=organization)
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    candidates = request.headers.get("If-None-Match", "")
    return any(
        candidate.strip().removeprefix("W/") in {etag, "*"} for candidate in candidates.split(",")
    )
