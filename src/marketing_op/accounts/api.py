"""Token exchange (HTTP Basic, limited per user), refresh and revocation."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Field as SchemaField
from ninja import Query, Router, Schema, Status

from marketing_op.accounts.auth import BasicCredentials, own_bearer_token, password_login_check
from marketing_op.accounts.models import AccessToken
from marketing_op.accounts.schemas import RefreshIn, TokenResponse
from marketing_op.accounts.selectors import refresh_token_get
from marketing_op.accounts.services import token_issue, token_refresh, token_revoke
from marketing_op.accounts.throttling import (
    address_attempt_check,
    address_failure_record,
    client_address,
    data_rate_limit,
    token_exchange_allow,
    token_exchange_limit,
)
from marketing_op.core.exceptions import NotAuthenticated
from marketing_op.core.schemas import Message, ValidationMessage

router = Router(tags=["auth"])
basic_credentials = BasicCredentials()


class ScopeParams(Schema):
    scope: str = SchemaField(
        "read", max_length=100, description="Space-separated scopes: read (default) or read write."
    )


EXCHANGE_RESPONSES = {
    200: TokenResponse,
    400: Message,
    401: Message,
    403: Message,
    422: ValidationMessage,
    429: Message,
}


def _exchange(request: HttpRequest, params: ScopeParams) -> dict:
    issued = token_issue(user=request.auth, scopes=params.scope)  # type: ignore[attr-defined]
    return {"data": issued}


@router.get(
    "/auth/token/",
    auth=basic_credentials,
    throttle=token_exchange_limit,
    response=EXCHANGE_RESPONSES,
    summary="Exchange a username and password for a bearer token",
)
def token_exchange(request: HttpRequest, params: Query[ScopeParams]) -> dict:
    return _exchange(request, params)


@router.post(
    "/auth/token/",
    auth=basic_credentials,
    throttle=token_exchange_limit,
    response=EXCHANGE_RESPONSES,
    summary="Exchange a username and password for a bearer token",
)
def token_exchange_post(request: HttpRequest, params: Query[ScopeParams]) -> dict:
    return _exchange(request, params)


@router.get(
    "/token/",
    auth=basic_credentials,
    throttle=token_exchange_limit,
    response=EXCHANGE_RESPONSES,
    deprecated=True,
    summary="Old spelling of GET /api/auth/token/",
)
def token_exchange_old_path(request: HttpRequest, params: Query[ScopeParams]) -> dict:
    return _exchange(request, params)


@router.post(
    "/auth/token/refresh/",
    auth=None,
    response={200: TokenResponse, 401: Message, 403: Message, 422: ValidationMessage, 429: Message},
    summary="Trade a refresh token for a new access token and refresh token",
)
def token_refresh_exchange(request: HttpRequest, body: RefreshIn) -> dict:
    password_login_check()
    address = client_address(request)
    address_attempt_check(address=address)
    refresh_token = refresh_token_get(token=body.refresh_token)
    if refresh_token is None:
        address_failure_record(address=address)
        raise NotAuthenticated("Unknown refresh token.")
    token_exchange_allow(user_id=refresh_token.user_id)
    return {"data": token_refresh(refresh_token=refresh_token)}


@router.delete(
    "/auth/token/",
    auth=own_bearer_token,
    throttle=data_rate_limit,
    response={204: None, 401: Message, 422: ValidationMessage, 429: Message},
    summary="Revoke the bearer token of this request",
)
def token_revoke_current(request: HttpRequest) -> Status:
    access_token: AccessToken = request.auth  # type: ignore[attr-defined]
    token_revoke(access_token=access_token)
    return Status(204, None)
