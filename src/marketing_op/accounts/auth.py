"""The ways in: HTTP Basic for the token exchange, bearer tokens for everything else, and the
dashboard's signed-in session (Django's session cookie) beside bearer tokens.

Authentication only says who is asking; how often they may ask is ``throttling``'s job
(django-ninja runs its throttles after these classes), and answers are cached by the
endpoints (``core.caching.cached_answer``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest
from ninja.security import APIKeyCookie, HttpBasicAuth, HttpBearer
from ninja.utils import check_csrf

from marketing_op.accounts.identity_provider import provider_configured
from marketing_op.accounts.identity_provider.access_tokens import (
    ProviderAccessToken,
    looks_like_jwt,
    provider_token_verify,
)
from marketing_op.accounts.models import AccessToken, User
from marketing_op.accounts.selectors import access_token_get_active
from marketing_op.accounts.services import token_mark_used
from marketing_op.accounts.throttling import (
    client_address,
    login_attempt_begin,
    login_attempt_succeeded,
)
from marketing_op.core.exceptions import PermissionDenied

MAX_CREDENTIAL_LENGTH = 256


class BasicCredentials(HttpBasicAuth):
    """Username and password of an active user who belongs to an organisation.

    Attempts are counted per username and per client address before the password is
    checked, and only failed ones stay counted; past the limits every attempt is refused
    with 429 until the window passes, even with the right password.
    """

    def authenticate(self, request: HttpRequest, username: str, password: str) -> Any:
        password_login_check()
        address = client_address(request)
        login_attempt_begin(username=username, address=address)
        user = None
        if _acceptable(username) and _acceptable(password):
            user = authenticate(request, username=username, password=password)
        else:
            make_password(password[:MAX_CREDENTIAL_LENGTH].replace("\x00", ""))
        if user is None or getattr(user, "organization_id", None) is None:
            return None
        login_attempt_succeeded(username=username, address=address)
        return user


def password_login_check() -> None:
    """Refuse password sign-in where ``PASSWORD_LOGIN`` switched it off."""
    if not settings.PASSWORD_LOGIN:
        raise PermissionDenied(
            "Password sign-in is switched off on this service: use an access token from "
            "the identity provider."
        )


def _acceptable(value: str) -> bool:
    """Values the database can look up: no NUL character, not absurdly long."""
    return "\x00" not in value and len(value) <= MAX_CREDENTIAL_LENGTH


class BearerToken(HttpBearer):
    """A live access token that carries ``scope``: one of ours (``mop_``), or where
    ``OIDC_ISSUER`` is set and ``provider_tokens`` allows, the identity provider's JWT."""

    def __init__(self, scope: str = AccessToken.READ, *, provider_tokens: bool = True) -> None:
        super().__init__()
        self.scope = scope
        self.provider_tokens = provider_tokens

    def authenticate(
        self, request: HttpRequest, token: str
    ) -> AccessToken | ProviderAccessToken | None:
        access_token: AccessToken | ProviderAccessToken | None
        if self.provider_tokens and provider_configured() and looks_like_jwt(token):
            access_token = provider_token_verify(token=token)
        else:
            access_token = access_token_get_active(token=token)
        if access_token is None:
            return None
        if self.scope not in access_token.scope_set:
            raise PermissionDenied(f"This token lacks the {self.scope!r} scope.")
        if isinstance(access_token, AccessToken):
            token_mark_used(access_token=access_token)
        return access_token


bearer_token = BearerToken()
write_token = BearerToken(scope=AccessToken.WRITE)
own_bearer_token = BearerToken(provider_tokens=False)
"""Our own tokens only: what only we can revoke."""


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class SignedInSession:
    """``request.auth`` of a request made with the dashboard's session: its user, and the key
    that rate limits count it by (as a token's requests are counted by token). A session
    may read and import, as any user may ask for a token with the write scope."""

    user: User
    pk: str
    scope_set: frozenset[str] = frozenset({AccessToken.READ, AccessToken.WRITE})

    @property
    def user_id(self) -> int:
        return self.user.pk


class SessionCookie(APIKeyCookie):
    """The session that the dashboard's sign-in page opened (cookie ``sessionid``). Writes
    need the CSRF token as well (header ``X-CSRFToken``); a request without the cookie goes
    on to the next way in, so that the API still answers 401 as before."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        super().__init__(csrf=False)

    def authenticate(self, request: HttpRequest, key: str | None) -> SignedInSession | None:
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if not key or user is None or session is None or not user.is_authenticated:
            return None
        if not user.is_active or getattr(user, "organization_id", None) is None:
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise PermissionDenied(
                "The CSRF token is missing or wrong: send the csrftoken cookie's value in the "
                "X-CSRFToken header."
            )
        digest = hashlib.sha256(str(session.session_key).encode()).hexdigest()
        return SignedInSession(user=user, pk=f"session:{digest[:32]}")


session_cookie = SessionCookie()
