"""The identity provider's JWT access tokens on the API, beside our own ``mop_`` tokens.

A token is accepted only when every rule holds: signed by a key that the provider
publishes (``discovery``), with the algorithm that key is for (never ``none``, never an
HMAC algorithm, which would take the public key as a shared secret), issued by
``OIDC_ISSUER`` for ``OIDC_AUDIENCE``, within ``exp`` and ``nbf`` (with
``OIDC_LEEWAY_SECONDS`` of clock skew), and with a ``sub`` that a user of ours holds
(``create-user --oidc-subject``). Its ``scope`` (or ``scp``) claim grants ``read`` where it
names one of ``OIDC_READ_SCOPES`` and ``read write`` where it names one of
``OIDC_WRITE_SCOPES``; a token that grants neither is refused. Each refusal says which rule
the token broke.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import import_key
from joserfc.jws import JWSRegistry

from marketing_op.accounts.identity_provider.discovery import provider_signing_key
from marketing_op.accounts.models import AccessToken, User
from marketing_op.accounts.selectors import user_get_by_oidc_subject
from marketing_op.core.exceptions import NotAuthenticated

MAX_JWT_LENGTH = 16 * 1024
JWT_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")

ALGORITHMS_OF_KEY = {
    ("RSA", None): frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}),
    ("EC", "P-256"): frozenset({"ES256"}),
    ("EC", "P-384"): frozenset({"ES384"}),
    ("EC", "P-521"): frozenset({"ES512"}),
    ("OKP", "Ed25519"): frozenset({"EdDSA", "Ed25519"}),
}
"""What each kind of public key signs with; a key that names its ``alg`` allows only that."""


@dataclass(frozen=True)
class ProviderAccessToken:
    """``request.auth`` of a request with the provider's access token: its user, its scopes,
    and the key that rate limits count it by (as our tokens are counted by token)."""

    user: User
    pk: str
    scope_set: frozenset[str]

    @property
    def user_id(self) -> int:
        return self.user.pk


def looks_like_jwt(token: str) -> bool:
    return len(token) <= MAX_JWT_LENGTH and JWT_SHAPE.fullmatch(token) is not None


def provider_token_verify(*, token: str) -> ProviderAccessToken:
    """The provider's access token, checked by every rule above, and its user."""
    header = _header(token)
    algorithm, kid = header.get("alg"), header.get("kid")
    if not isinstance(algorithm, str) or algorithm.lower() == "none" or algorithm.startswith("HS"):
        raise NotAuthenticated(
            f"The token's algorithm {algorithm!r} is not accepted: only the public-key "
            "algorithms of the identity provider's keys are."
        )
    if kid is not None and not isinstance(kid, str):
        raise NotAuthenticated("The token's key id (kid) is not a string.")
    jwk = provider_signing_key(kid=kid)
    if jwk is None:
        raise NotAuthenticated(
            "The token is signed with a key the identity provider does not publish."
        )
    if algorithm not in _algorithms_of(jwk):
        raise NotAuthenticated(f"The token's algorithm {algorithm} is not the one of its key.")
    try:
        decoded = jwt.decode(
            token,
            import_key(jwk),
            algorithms=[algorithm],
            registry=JWSRegistry(algorithms=[algorithm], strict_check_header=False),
        )
    except BadSignatureError as error:
        raise NotAuthenticated("The token's signature is not valid.") from error
    except (JoseError, ValueError, TypeError) as error:
        raise NotAuthenticated("The token is not a well-formed JWT.") from error
    claims = decoded.claims
    _validate_claims(claims)
    user = user_get_by_oidc_subject(subject=claims["sub"])
    if user is None:
        raise NotAuthenticated("No user of this service has the token's subject (sub).")
    _check_organization(claims, user)
    scopes = _scopes(claims)
    if not scopes:
        raise NotAuthenticated(
            "The token grants none of this service's scopes (OIDC_READ_SCOPES, "
            "OIDC_WRITE_SCOPES) in its scope or scp claim."
        )
    digest = hashlib.sha256(token.encode()).hexdigest()
    return ProviderAccessToken(user=user, pk=f"jwt:{digest[:32]}", scope_set=scopes)


def _header(token: str) -> dict[str, Any]:
    if not looks_like_jwt(token):
        raise NotAuthenticated("The token is not a well-formed JWT.")
    encoded = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, UnicodeDecodeError) as error:
        raise NotAuthenticated("The token is not a well-formed JWT.") from error
    if not isinstance(header, dict):
        raise NotAuthenticated("The token is not a well-formed JWT.")
    return header


def _algorithms_of(jwk: dict[str, Any]) -> frozenset[str]:
    kind = str(jwk.get("kty"))
    curve = None if kind == "RSA" else str(jwk.get("crv"))
    allowed = ALGORITHMS_OF_KEY.get((kind, curve), frozenset())
    named = jwk.get("alg")
    if named is not None:
        return allowed & {named}
    return allowed


CLAIM_REFUSALS = {
    "iss": "The token was issued by another issuer than OIDC_ISSUER.",
    "aud": "The token is meant for another audience than this service (OIDC_AUDIENCE).",
    "nbf": "The token is not valid yet (nbf).",
    "iat": "The token was issued in the future (iat).",
    "sub": "The token's subject (sub) is empty or not a string.",
    "exp": "The token's expiry (exp) is not a time.",
}


def _validate_claims(claims: dict[str, Any]) -> None:
    registry = jwt.JWTClaimsRegistry(
        leeway=settings.OIDC_LEEWAY_SECONDS,
        iss={"essential": True, "value": settings.OIDC_ISSUER},
        aud={"essential": True, "value": settings.OIDC_AUDIENCE},
        exp={"essential": True},
        sub={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError as error:
        raise NotAuthenticated("The token has expired.") from error
    except MissingClaimError as error:
        raise NotAuthenticated(f"The token lacks the claim(s) {error.claim}.") from error
    except InvalidClaimError as error:
        message = CLAIM_REFUSALS.get(error.claim, f"The token's claim {error.claim} is not valid.")
        raise NotAuthenticated(message) from error


def _check_organization(claims: dict[str, Any], user: User) -> None:
    refusal = organization_claim_refusal(claims, user)
    if refusal:
        raise NotAuthenticated(refusal)


def organization_claim_refusal(claims: dict[str, Any], user: User) -> str | None:
    """Why the claims may not sign the user in, where ``OIDC_ORGANIZATION_CLAIM`` names the
    claim that holds the organisation (a name, or a list of names that must hold the user's
    organisation's); None when they may."""
    claim = settings.OIDC_ORGANIZATION_CLAIM
    if not claim:
        return None
    named = claims.get(claim)
    organization = user.organization.name if user.organization else None
    if named is None:
        return f"The {claim} claim that names the organisation is missing."
    if named == organization or (isinstance(named, list) and organization in named):
        return None
    return f"The {claim} claim names another organisation than the user's."


def _scopes(claims: dict[str, Any]) -> frozenset[str]:
    """``scope`` (a space-separated string) or ``scp`` (a string or a list), mapped to ours."""
    granted = claims.get("scope", claims.get("scp", ""))
    names = set(granted.split(" ") if isinstance(granted, str) else [])
    if isinstance(granted, list):
        names = {name for name in granted if isinstance(name, str)}
    scopes = set()
    if names & settings.OIDC_WRITE_SCOPES:
        scopes |= {AccessToken.READ, AccessToken.WRITE}
    if names & settings.OIDC_READ_SCOPES:
        scopes.add(AccessToken.READ)
    return frozenset(scopes)
