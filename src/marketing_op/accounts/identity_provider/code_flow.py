"""The dashboard's sign-in through the identity provider: the authorization code flow with
PKCE (``S256``), ``state`` and ``nonce``, done by Authlib's Django client. Authlib keeps the
state, nonce and code verifier in the visitor's session, checks the state that comes back,
trades the code for tokens (with ``OIDC_CLIENT_SECRET``, or as a public client without it)
and validates the ID token (signature with the provider's keys, ``iss``, ``aud``, ``exp``,
``nonce``). The provider's address book and keys come from ``discovery``, so that the API
and the sign-in share one cached copy."""

from __future__ import annotations

import logging
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.django_client import OAuth
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from joserfc.errors import JoseError

from marketing_op.accounts.identity_provider.discovery import (
    ProviderUnreachable,
    provider_key_set,
    provider_metadata,
)
from marketing_op.core.exceptions import ApplicationError

logger = logging.getLogger(__name__)

METADATA_NAMES = (
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "id_token_signing_alg_values_supported",
)


class SignInRefused(ApplicationError):
    """The provider's answer signs nobody in; the message says why, for the visitor."""

    status_code = 403


def _client() -> Any:
    metadata = provider_metadata()
    client_kwargs: dict[str, Any] = {
        "scope": settings.OIDC_SCOPES,
        "code_challenge_method": "S256",
        "default_timeout": settings.OIDC_TIMEOUT_SECONDS,
    }
    if not settings.OIDC_CLIENT_SECRET:
        client_kwargs["token_endpoint_auth_method"] = "none"  # noqa: S105 - a public client
    return OAuth().register(
        "identity_provider",
        client_id=settings.OIDC_CLIENT_ID,
        client_secret=settings.OIDC_CLIENT_SECRET or None,
        client_kwargs=client_kwargs,
        jwks=provider_key_set(),
        **{name: metadata[name] for name in METADATA_NAMES if name in metadata},
    )


def authorization_redirect(*, request: HttpRequest, redirect_uri: str) -> HttpResponse:
    """Send the visitor to the provider's authorization endpoint, with a fresh state,
    nonce and PKCE challenge kept in the session."""
    return _client().authorize_redirect(request, redirect_uri)


def authorization_claims(*, request: HttpRequest) -> dict[str, Any]:
    """The validated claims of the ID token that the provider's answer (code and state) is
    worth. Raises ``SignInRefused`` for an answer that signs nobody in, and
    ``ProviderUnreachable`` while the provider does not answer."""
    try:
        token = _client().authorize_access_token(request, leeway=settings.OIDC_LEEWAY_SECONDS)
    except requests.RequestException as error:
        logger.warning("The identity provider's token endpoint did not answer: %r", error)
        raise ProviderUnreachable(repr(error)) from error
    except (AuthlibBaseError, JoseError, ValueError, KeyError) as error:
        logger.info("Refused an answer of the identity provider: %r", error)
        raise SignInRefused(_refusal(error)) from error
    claims = token.get("userinfo")
    if not claims or not isinstance(claims.get("sub"), str):
        raise SignInRefused("The identity provider sent no ID token.")
    if claims.get("iss") != settings.OIDC_ISSUER:
        raise SignInRefused("The ID token was issued by another issuer than OIDC_ISSUER.")
    return dict(claims)


def _refusal(error: Exception) -> str:
    kind = getattr(error, "error", "")
    if kind == "mismatching_state":
        return (
            "This sign-in answer does not belong to a sign-in started in this browser (or "
            "it was used already). Start again."
        )
    if kind == "access_denied":
        return "The identity provider did not sign you in."
    if isinstance(error, AuthlibBaseError) and kind:
        return f"The identity provider refused the sign-in ({kind})."
    return "The identity provider's answer could not be verified."
