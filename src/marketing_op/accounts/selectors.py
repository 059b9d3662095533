"""Reads of users and tokens."""

from __future__ import annotations

from django.utils import timezone

from marketing_op.accounts.models import AccessToken
from marketing_op.accounts.tokens import TOKEN_PREFIX, token_digest

MAX_TOKEN_LENGTH = 200


def access_token_get_active(*, token: str) -> AccessToken | None:
    """The live token for a bearer value: known, not revoked, not expired, of an active user
    who belongs to an organisation. Anything else (malformed values included) is None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    return (
        AccessToken.objects.select_related("user", "user__organization")
        .filter(
            digest=token_digest(token),
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
            user__is_active=True,
            user__organization__isnull=False,
        )
        .first()
    )
