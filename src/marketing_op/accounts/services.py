"""Writes of organisations, users and tokens."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from marketing_op.accounts.models import AccessToken, Organization, RefreshToken, User
from marketing_op.accounts.selectors import MAX_SUBJECT_LENGTH
from marketing_op.accounts.tokens import refresh_token_generate, token_digest, token_generate
from marketing_op.core.exceptions import ApplicationError, NotAuthenticated, RejectedInputError

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
    *,
    organization: Organization,
    username: str,
    password: str | None = None,
    oidc_subject: str | None = None,
    check_password: bool = True,
) -> User:
    """A user of the organisation with a hashed password, or one who signs in through the
    identity provider only: matched by its ``sub`` claim, without a password.

    ``check_password=False`` skips Django's password rules; only the demo login uses it.
    """
    username = username.strip()
    if not username:
        raise RejectedInputError("A user needs a username.")
    if User.objects.filter(username=username).exists():
        raise RejectedInputError(f"User {username!r} exists already.")
    if oidc_subject is not None:
        if not oidc_subject or len(oidc_subject) > MAX_SUBJECT_LENGTH or "\x00" in oidc_subject:
            raise RejectedInputError("An OpenID subject has 1 to 255 characters.")
        if User.objects.filter(oidc_subject=oidc_subject).exists():
            raise RejectedInputError(f"Another user has the OpenID subject {oidc_subject!r}.")
    elif password is None:
        raise RejectedInputError("A user needs a password or an OpenID subject.")
    user = User(username=username, organization=organization, oidc_subject=oidc_subject)
    if password is None:
        user.set_unusable_password()
    else:
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
    refresh_token: str
    refresh_expires_at: datetime.datetime


def token_issue(*, user: User, scopes: str = AccessToken.READ) -> IssuedToken:
    """A new access token and refresh token for the user, the first of a new family; the
    secrets are returned once and only their digests are kept."""
    # Separated by spaces only, as the document's pattern says: a tab is part of a name.
    named = frozenset(part for part in scopes.split(" ") if part)
    requested = named or frozenset({AccessToken.READ})
    unknown = requested - KNOWN_SCOPES
    if unknown:
        raise ApplicationError(f"Unknown scope: {' '.join(sorted(unknown))}. Use read or write.")
    scope_text = " ".join(sorted(requested | {AccessToken.READ}))
    return _pair_issue(user=user, scopes=scope_text, family=uuid.uuid4())


def _pair_issue(*, user: User, scopes: str, family: uuid.UUID) -> IssuedToken:
    now = timezone.now()
    token, refresh_token = token_generate(), refresh_token_generate()
    expires_at = now + datetime.timedelta(seconds=settings.TOKEN_TTL_SECONDS)
    refresh_expires_at = now + datetime.timedelta(seconds=settings.REFRESH_TOKEN_TTL_SECONDS)
    AccessToken.objects.create(
        user=user, digest=token_digest(token), scopes=scopes, expires_at=expires_at, family=family
    )
    RefreshToken.objects.create(
        user=user,
        digest=token_digest(refresh_token),
        family=family,
        scopes=scopes,
        expires_at=refresh_expires_at,
    )
    return IssuedToken(
        token=token,
        expires_at=expires_at,
        scopes=scopes,
        refresh_token=refresh_token,
        refresh_expires_at=refresh_expires_at,
    )


def token_refresh(*, refresh_token: RefreshToken) -> IssuedToken:
    """Trade a live refresh token for a new pair of the same family and scopes; the refresh
    token is used up (rotation). One that was used up already is a sign that it leaked:
    every token of its family is revoked, the new pair of the other use included (reuse
    detection, as the OAuth 2.0 Security BCP advises)."""
    now = timezone.now()
    if refresh_token.used_at is not None:
        token_family_revoke(family=refresh_token.family)
        raise NotAuthenticated(
            "This refresh token was used already; every token of its sign-in is revoked. "
            "Exchange your credentials again."
        )
    if refresh_token.revoked_at is not None:
        raise NotAuthenticated("This refresh token is revoked.")
    if refresh_token.expires_at <= now:
        raise NotAuthenticated("This refresh token has expired.")
    user = refresh_token.user
    if not user.is_active or user.organization_id is None:
        raise NotAuthenticated("This refresh token's user may no longer sign in.")
    with transaction.atomic():
        claimed = RefreshToken.objects.filter(
            pk=refresh_token.pk, used_at__isnull=True, revoked_at__isnull=True
        ).update(used_at=now)
        if claimed:
            return _pair_issue(user=user, scopes=refresh_token.scopes, family=refresh_token.family)
    # Another request used it in the meantime: the same reuse, seen a moment later.
    token_family_revoke(family=refresh_token.family)
    raise NotAuthenticated(
        "This refresh token was used already; every token of its sign-in is revoked. "
        "Exchange your credentials again."
    )


def token_revoke(*, access_token: AccessToken) -> None:
    """Revoke the token and, where it came from an exchange, every token of that sign-in
    (its refresh tokens too): revoking is signing out."""
    if access_token.family is not None:
        token_family_revoke(family=access_token.family)
        return
    AccessToken.objects.filter(pk=access_token.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


@transaction.atomic
def token_family_revoke(*, family: uuid.UUID) -> None:
    now = timezone.now()
    AccessToken.objects.filter(family=family, revoked_at__isnull=True).update(revoked_at=now)
    RefreshToken.objects.filter(family=family, revoked_at__isnull=True).update(revoked_at=now)


@dataclass(frozen=True)
class RevokedTokens:
    access_tokens: int
    refresh_tokens: int


@transaction.atomic
def user_sign_out_everywhere(*, user: User) -> RevokedTokens:
    """Every access and refresh token of the user, and every dashboard session: each stops
    working on its very next request (a session's next request finds it ended, deletes it
    and is answered as a stranger's)."""
    now = timezone.now()
    User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
    return RevokedTokens(
        access_tokens=AccessToken.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=now
        ),
        refresh_tokens=RefreshToken.objects.filter(user=user, revoked_at__isnull=True).update(
            revoked_at=now
        ),
    )


LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)


def token_mark_used(*, access_token: AccessToken) -> None:
    """Record use at most once a minute, so that reads do not each cost a write."""
    now = timezone.now()
    if access_token.last_used_at and now - access_token.last_used_at < LAST_USED_RESOLUTION:
        return
    AccessToken.objects.filter(pk=access_token.pk).update(last_used_at=now)
    access_token.last_used_at = now
