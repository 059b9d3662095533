"""The two ways in: HTTP Basic for the token exchange, bearer tokens for everything else.

Authentication only says who is asking; how often they may ask is ``throttling``'s job
(django-ninja runs its throttles after these classes), and answers are cached by the
endpoints (``core.caching.cached_answer``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest
from ninja.security import HttpBasicAuth, HttpBearer

from marketing_op.accounts.models import AccessToken
from marketing_op.accounts.selectors import access_token_get_active
from marketing_op.accounts.services import token_mark_used
from marketing_op.accounts.throttling import (
    client_address,
    login_attempt_check,
    login_failure_record,
)
from marketing_op.core.exceptions import PermissionDenied

MAX_CREDENTIAL_LENGTH = 256


class BasicCredentials(HttpBasicAuth):
    """Username and password of an active user who belongs to an organisation.

    Failed attempts are counted per username and per client address; past the limits every
    attempt is refused with 429 until the window passes, even with the right password.
    """

    def authenticate(self, request: HttpRequest, username: str, password: str) -> Any:
        address = client_address(request)
        login_attempt_check(username=username, address=address)
        user = None
        if _acceptable(username) and _acceptable(password):
            user = authenticate(request, username=username, password=password)
        else:
            make_password(password[:MAX_CREDENTIAL_LENGTH].replace("\x00", ""))
        if user is None or getattr(user, "organization_id", None) is None:
            login_failure_record(username=username, address=address)
            return None
        return user


def _acceptable(value: str) -> bool:
    """Values the database can look up: no NUL character, not absurdly long."""
    return "\x00" not in value and len(value) <= MAX_CREDENTIAL_LENGTH


class BearerToken(HttpBearer):
    """A live access token that carries ``scope``."""

    def __init__(self, scope: str = AccessToken.READ) -> None:
        super().__init__()
        self.scope = scope

    def authenticate(self, request: HttpRequest, token: str) -> AccessToken | None:
        access_token = access_token_get_active(token=token)
        if access_token is None:
            return None
        if self.scope not in access_token.scope_set:
            raise PermissionDenied(f"This token lacks the {self.scope!r} scope.")
        token_mark_used(access_token=access_token)
        return access_token


bearer_token = BearerToken()
write_token = BearerToken(scope=AccessToken.WRITE)
