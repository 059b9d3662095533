"""``/metrics``: the service's metrics in Prometheus' text format (``core.metrics``), for a
Prometheus server rather than for API clients, so outside ``/api/``.

With ``METRICS_TOKEN`` set, only a request with ``Authorization: Bearer <METRICS_TOKEN>``
gets them (else 401); without it, development serves them to anyone and production not at
all (404), so that a deployment never publishes them by omission.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from marketing_op.core.metrics import CONTENT_TYPE, metrics_text


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_TOKEN:
        if settings.PRODUCTION:
            return JsonResponse({"detail": "Not found."}, status=404)
    elif not _bearer_is(request, settings.METRICS_TOKEN):
        refused = JsonResponse({"detail": "Missing or wrong metrics token."}, status=401)
        refused["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return refused
    answer = HttpResponse(metrics_text(), content_type=CONTENT_TYPE)
    answer["Cache-Control"] = "no-store"
    return answer


def _bearer_is(request: HttpRequest, token: str) -> bool:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        value.strip().encode("utf-8", "replace"), token.encode()
    )
