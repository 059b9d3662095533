"""Reads of users and tokens."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model
from django.utils import timezone

from marketing_op.accounts.models import AccessToken, Organization, RefreshToken, User
from marketing_op.accounts.tokens import REFRESH_TOKEN_PREFIX, TOKEN_PREFIX, token_digest

MAX_TOKEN_LENGTH = 200
MAX_SUBJECT_LENGTH = 255


def _in_model_order(model: type[Model], *names: str) -> tuple[str, ...]:
    """Column names in the order of the model's fields, as ``Model.from_db`` expects them."""
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in names)


TOKEN_FIELDS = _in_model_order(
    AccessToken,
    "id",
    "user_id",
    "digest",
    "scopes",
    "expires_at",
    "revoked_at",
    "last_used_at",
    "family",
)
USER_FIELDS = _in_model_order(User, "id", "username", "is_active", "organization_id")
ORGANIZATION_FIELDS = _in_model_order(Organization, "id", "name", "data_version")
ACTIVE_TOKEN = (
    "SELECT "  # noqa: S608 - constant column lists
    + ", ".join(
        [f"t.{name}" for name in TOKEN_FIELDS]
        + [f"u.{name}" for name in USER_FIELDS]
        + [f"o.{name}" for name in ORGANIZATION_FIELDS]
    )
    + " FROM accounts_accesstoken t JOIN accounts_user u ON u.id = t.user_id "
    "JOIN accounts_organization o ON o.id = u.organization_id "
    "WHERE t.digest = %s AND t.revoked_at IS NULL AND t.expires_at > %s AND u.is_active"
)


def access_token_get_active(*, token: str) -> AccessToken | None:
    """The live token for a bearer value: known, not revoked, not expired, of an active user
    who belongs to an organisation. Anything else (malformed values included) is None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    with connection.cursor() as cursor:
        cursor.execute(ACTIVE_TOKEN, [token_digest(token), timezone.now()])
        row = cursor.fetchone()
    if row is None:
        return None
    # One plain query on every authenticated request (the ORM's would cost several times
    # more to build); the instances hold these columns and load any other on first use.
    width, user_width = len(TOKEN_FIELDS), len(USER_FIELDS)
    user_end = width + user_width
    access_token = _instance(AccessToken, TOKEN_FIELDS, row[:width])
    user = _instance(User, USER_FIELDS, row[width:user_end])
    user.organization = _instance(Organization, ORGANIZATION_FIELDS, row[user_end:])
    access_token.user = user
    return access_token


USER_BY_SUBJECT = (
    "SELECT "  # noqa: S608 - constant column lists
    + ", ".join(
        [f"u.{name}" for name in USER_FIELDS] + [f"o.{name}" for name in ORGANIZATION_FIELDS]
    )
    + " FROM accounts_user u JOIN accounts_organization o ON o.id = u.organization_id "
    "WHERE u.oidc_subject = %s AND u.is_active"
)


def user_get_by_oidc_subject(*, subject: str) -> User | None:
    """The active user with this identity provider subject (``sub``) who belongs to an
    organisation, with the organisation. One plain query, as for our own tokens: the
    provider's tokens ask it on every request."""
    if not subject or len(subject) > MAX_SUBJECT_LENGTH or "\x00" in subject:
        return None
    with connection.cursor() as cursor:
        cursor.execute(USER_BY_SUBJECT, [subject])
        row = cursor.fetchone()
    if row is None:
        return None
    user = _instance(User, USER_FIELDS, row[: len(USER_FIELDS)])
    user.organization = _instance(Organization, ORGANIZATION_FIELDS, row[len(USER_FIELDS) :])
    return user


def refresh_token_get(*, token: str) -> RefreshToken | None:
    """The refresh token with this secret, used, revoked or expired alike (the service
    tells them apart), with its user; None for a value that was never issued."""
    if not token.startswith(REFRESH_TOKEN_PREFIX) or len(token) > MAX_TOKEN_LENGTH:
        return None
    return RefreshToken.objects.select_related("user").filter(digest=token_digest(token)).first()


ModelT = TypeVar("ModelT", bound=Model)
Converters = list[tuple[Any, list[Any]]]


@cache
def _converters(model: type[Model], names: tuple[str, ...], vendor: str) -> Converters:
    """Each column's expression and the functions that turn its raw value into the field's."""
    fields = {field.attname: field for field in model._meta.concrete_fields}
    found = []
    for name in names:
        column = fields[name].get_col(model._meta.db_table)
        found.append(
            (
                column,
                connection.ops.get_db_converters(column) + column.get_db_converters(connection),
            )
        )
    return found


def _instance(model: type[ModelT], names: tuple[str, ...], values: Sequence[Any]) -> ModelT:
    """A model instance from raw column values, converted as the ORM converts them."""
    converted = []
    for (column, converters), value in zip(
        _converters(model, names, connection.vendor), values, strict=True
    ):
        for converter in converters:
            value = converter(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, names, converted)
