"""The format of bearer and refresh tokens: a recognisable prefix and 256 random bits; stored
as a digest."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_PREFIX = "mop_"  # noqa: S105 - a public prefix for secret scanners
REFRESH_TOKEN_PREFIX = "mopr_"  # noqa: S105 - a public prefix for secret scanners


def token_generate() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def refresh_token_generate() -> str:
    return REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
