"""The two ways in: HTTP Basic for the token exchange, bearer tokens for everything else."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.http import HttpRequest
from ninja.security import HttpBasicAuth, HttpBearer

from marketing_op.accounts.models import AccessToken
from marketing_op.accounts.selectors import access_token_get_active
from marketing_op.accounts.services import token_mark_used


class BasicCredentials(HttpBasicAuth):
    """Username and password of an active user who belongs to an organisation."""

    def authenticate(self, request: HttpRequest, username: str, password: str) -> Any:
        if "\x00" in username or "\x00" in password:
            return None
        user = authenticate(request, username=username, password=password)
        if user is None or getattr(user, "organization_id", None) is None:
            return None
        return user


class BearerToken(HttpBearer):
    """A live access token; requires ``scope`` when given (read, or write for imports)."""

    def __init__(self, scope: str = AccessToken.READ) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> AccessToken | None:
        access_token = access_token_get_active(token=token)
        if access_token is None:
            return None
        token_mark_used(access_token=access_token)
        return access_token


bearer_token = BearerToken()
