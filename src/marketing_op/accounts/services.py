"""Writes of organisations, users and tokens."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from marketing_op.accounts.models import AccessToken, Organization, User
from marketing_op.accounts.tokens import token_digest, token_generate
from marketing_op.core.exceptions import ApplicationError, RejectedInputError

KNOWN_SCOPES = frozenset({AccessToken.READ, AccessToken.WRITE})


def organization_create(*, name: str) -> Organization:
    name = name.strip()
    if not name:
        raise RejectedInputError("An organisation needs a name.")
    if Organization.objects.filter(name=name).exists():
        raise RejectedInputError(f"Organisation {name!r} exists already.")
    return Organization.objects.create(name=name)


def organization_data_changed(*, organization_id: int) -> None:
    """A new data version: cached answers (ETags) of the organisation's data go stale."""
    Organization.objects.filter(pk=organization_id).update(data_version=F("data_version") + 1)


def organization_get_or_create(*, name: str) -> Organization:
    organization, _ = Organization.objects.get_or_create(name=name)
    return organization


def user_create(
    *, organization: Organization, username: str, password: str, check_password: bool = True
) -> User:
    """A user of the organisation with a hashed password.

    ``check_password=False`` skips Django's password rules; only the demo login uses it.
    """
    username = username.strip()
    if not username:
        raise RejectedInputError("A user needs a username.")
    if User.objects.filter(username=username).exists():
        raise RejectedInputError(f"User {username!r} exists already.")
    user = User(username=username, organization=organization)
    if check_password:
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise RejectedInputError(" ".join(error.messages)) from error
    user.set_password(password)
    user.save()
    return user


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime.datetime
    scopes: str


def token_issue(*, user: User, scopes: str = AccessToken.READ) -> IssuedToken:
    """A new token for the user; the secret is returned once and only its digest is kept."""
    # Separated by spaces only, as the document's pattern says: a tab is part of a name.
    named = frozenset(part for part in scopes.split(" ") if part)
    requested = named or frozenset({AccessToken.READ})
    unknown = requested - KNOWN_SCOPES
    if unknown:
        raise ApplicationError(f"Unknown scope: {' '.join(sorted(unknown))}. Use read or write.")
    scope_text = " ".join(sorted(requested | {AccessToken.READ}))
    token = token_generate()
    expires_at = timezone.now() + datetime.timedelta(seconds=settings.TOKEN_TTL_SECONDS)
    AccessToken.objects.create(
        user=user, digest=token_digest(token), scopes=scope_text, expires_at=expires_at
    )
    return IssuedToken(token=token, expires_at=expires_at, scopes=scope_text)


def token_revoke(*, access_token: AccessToken) -> None:
    AccessToken.objects.filter(pk=access_token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


@transaction.atomic
def token_revoke_all(*, user: User) -> int:
    return AccessToken.objects.filter(user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def token_mark_used(*, access_token: AccessToken) -> None:
    """Record use at most once a minute, so that reads do not each cost a write."""
    now = timezone.now()
    if access_token.last_used_at and now - access_token.last_used_at < LAST_USED_RESOLUTION:
        return
    AccessToken.objects.filter(pk=access_token.pk).update(last_used_at=now)
    access_token.last_used_at = now
