"""The URLs: the API under /api/, the dashboard's pages at / (``dashboard.urls``), and JSON
answers for the errors that Django answers itself (a disallowed ``Host``, a request it finds
suspicious, an error outside the API)."""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path

from marketing_op.config.api import api
from marketing_op.core.reference import api_reference, openapi_yaml
from marketing_op.core.views import metrics

urlpatterns = [
    path("api/reference/", api_reference, name="api-reference"),
    path("api/openapi.yaml", openapi_yaml, name="openapi-yaml"),
    path("api/", api.urls),
    path("metrics", metrics, name="metrics"),
    path("", include("marketing_op.dashboard.urls")),
]


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return JsonResponse({"detail": "Bad request."}, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return JsonResponse({"detail": "Forbidden."}, status=403)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request: HttpRequest, *args: Any) -> HttpResponse:
    return JsonResponse({"detail": "Internal server error."}, status=500)


handler400 = bad_request
handler403 = permission_denied
handler404 = not_found
handler500 = server_error
