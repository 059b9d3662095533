"""The one NinjaAPI: routers, JSON rendering and the single mapping of errors to HTTP."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.renderers import BaseRenderer

from marketing_op.core.exceptions import ApplicationError, TooManyRequests
from marketing_op.core.query_parameters import unknown_query_parameters_checked
from marketing_op.core.rendering import json_bytes
from marketing_op.measurements.imports import ImportRejected

logger = logging.getLogger(__name__)


class JsonRenderer(BaseRenderer):
    media_type = "application/json"

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> bytes:
        return json_bytes(data)


api = NinjaAPI(
    title="Marketing OP API",
    version="1.0.0",
    description="Marketing measurement data: conversions per channel, shares and weekly sales.",
    renderer=JsonRenderer(),
    urls_namespace="api",
)
api.add_router("/", "marketing_op.core.api.router")
api.add_router("/", "marketing_op.accounts.api.router")
api.add_router("/marketing/", "marketing_op.measurements.api.router")
# The operations that the old contract covers (and the health probes) ignore query
# parameters they do not know, naming them in a Warning header; every other refuses them.
api.add_decorator(
    unknown_query_parameters_checked(
        ignored_by=[
            "marketing_op.core.api.health",
            "marketing_op.core.api.ready",
            "marketing_op.accounts.api.token_exchange",
            "marketing_op.accounts.api.token_exchange_old_path",
            "marketing_op.measurements.api.measurement_list",
            "marketing_op.measurements.api.channel_share_list",
            "marketing_op.measurements.api.channel_share_list_old_path",
            "marketing_op.measurements.api.channel_weekly_sales_list",
        ]
    ),
    mode="view",
)


def _www_authenticate(request: HttpRequest) -> str:
    if request.path.rstrip("/").endswith("token") and request.method != "DELETE":
        return 'Basic realm="marketing-op", charset="UTF-8"'
    return 'Bearer realm="marketing-op"'


@api.exception_handler(AuthenticationError)
def authentication_failed(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request, {"detail": "Missing, invalid or expired credentials."}, status=401
    )
    response["WWW-Authenticate"] = _www_authenticate(request)
    return response


@api.exception_handler(ApplicationError)
def application_error(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    response = api.create_response(request, {"detail": error.message}, status=error.status_code)
    if error.status_code == 401:
        response["WWW-Authenticate"] = _www_authenticate(request)
    if isinstance(error, TooManyRequests):
        response["Retry-After"] = str(error.retry_after)
    return response


@api.exception_handler(ValidationError)
def validation_failed(request: HttpRequest, error: ValidationError) -> HttpResponse:
    detail = [
        {
            "loc": list(item.get("loc", [])),
            "msg": str(item.get("msg", "")),
            "type": str(item.get("type", "")),
        }
        for item in error.errors
    ]
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    return api.create_response(request, {"detail": str(error.message)}, status=error.status_code)


@api.exception_handler(SuspiciousOperation)
def suspicious_request(request: HttpRequest, error: SuspiciousOperation) -> HttpResponse:
    """Django's refusals of a request (too many form fields, a body too large to hold): the
    client's fault, never a 500, and never the parser's details."""
    logger.warning("Refused %s %s: %s", request.method, request.path, type(error).__name__)
    if isinstance(error, RequestDataTooBig):
        return api.create_response(
            request, {"detail": "The request body is too large."}, status=413
        )
    return api.create_response(request, {"detail": "Bad request."}, status=400)


@api.exception_handler(Exception)
def unexpected_error(request: HttpRequest, error: Exception) -> HttpResponse:
    logger.exception("Unhandled error on %s %s", request.method, request.path)
    return api.create_response(request, {"detail": "Internal server error."}, status=500)


@api.exception_handler(ImportRejected)
def import_rejected(request: HttpRequest, error: ImportRejected) -> HttpResponse:
    """A rejected measurement file: the message, the first problems and how many in all."""
    body = {
        "detail": error.message,
        "errors": [problem.as_dict() for problem in error.problems.problems],
        "error_count": error.problems.count,
        "import_id": error.record.pk if error.record is not None else None,
    }
    return api.create_response(request, body, status=422)
