"""Reads of measurement data on PostgreSQL read replicas (``DATABASE_REPLICA_URLS``); every
write, and every other read (tokens, users, sessions, organisations, imports), on the
primary (``DATABASE_URL``).

A data endpoint's view runs inside :func:`replica_reads` (the ``@replica_read`` decorator).
Its first read of measurement data chooses the database, once per request: a replica that
answers and has replayed the organisation's current data version, which authentication
read from the primary; else the primary. So no answer is older than the data version its
``ETag`` names, and an import is visible on the next request, from every server. A replica
that fails to connect or to answer is passed over for ``DATABASE_REPLICA_RETRY_SECONDS``,
and a view whose read failed on a replica runs again on the primary: only a stream
already under way (an export) can fail with its replica. Each request's choice is
counted in ``/metrics`` (``marketing_op_database_reads_total``).
"""

from __future__ import annotations

import functools
import inspect
import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from django.conf import settings
from django.db import (
    DEFAULT_DB_ALIAS,
    DatabaseError,
    InterfaceError,
    OperationalError,
    connections,
)
from django.db.models import Model
from django.http import HttpRequest

from marketing_op.accounts.models import Organization

logger = logging.getLogger(__name__)

REPLICA_PREFIX = "replica_"
"""The aliases of the replicas in ``DATABASES``: ``replica_1``, ``replica_2``, ..."""
REPLICATED_APPS = frozenset({"measurements"})
"""Whose reads may go to a replica: the measurement data, never accounts or sessions."""
REPLAYED_DATA_VERSION = "SELECT data_version FROM accounts_organization WHERE id = %s"


def _routed(alias: str) -> None:
    """Count the database a request reads from. ``core.metrics`` is imported on first use:
    ``serve`` sets its workers' metrics folder before prometheus_client may be imported."""
    from marketing_op.core.metrics import count_database_read

    count_database_read(alias)


WARNING_SECONDS = 60

_down_until: dict[str, float] = {}
_warned_at: dict[str, float] = {}


@dataclass
class _ReadScope:
    organization: Organization
    alias: str | None = None

    def chosen(self) -> str:
        if self.alias is None:
            self.alias = replica_choose(organization=self.organization)
            _routed(self.alias)
        return self.alias


_scope: ContextVar[_ReadScope | None] = ContextVar("replica_read_scope", default=None)


def replica_aliases() -> list[str]:
    return [alias for alias in settings.DATABASES if alias.startswith(REPLICA_PREFIX)]


def replica_mark_down(alias: str, error: Exception) -> None:
    """Pass the replica over for ``DATABASE_REPLICA_RETRY_SECONDS`` and drop its connection;
    say so in the log at most once a minute per replica and process."""
    now = time.monotonic()
    _down_until[alias] = now + settings.DATABASE_REPLICA_RETRY_SECONDS
    if now - _warned_at.get(alias, -WARNING_SECONDS) >= WARNING_SECONDS:
        _warned_at[alias] = now
        logger.warning("Replica %s failed, reading from another database: %s", alias, error)
    with suppress(DatabaseError):
        connections[alias].close()


def _replayed_data_version(alias: str, organization: Organization) -> int | None:
    with connections[alias].cursor() as cursor:
        cursor.execute(REPLAYED_DATA_VERSION, [organization.pk])
        row = cursor.fetchone()
    return None if row is None else int(row[0])


def replica_choose(*, organization: Organization) -> str:
    """A replica (in random order) that answers and has replayed the organisation's data
    version, else the primary (``default``)."""
    now = time.monotonic()
    candidates = [alias for alias in replica_aliases() if _down_until.get(alias, 0.0) <= now]
    random.shuffle(candidates)
    for alias in candidates:
        try:
            replayed = _replayed_data_version(alias, organization)
        except (OperationalError, InterfaceError) as error:
            replica_mark_down(alias, error)
            continue
        if replayed is not None and replayed >= organization.data_version:
            return alias
    return DEFAULT_DB_ALIAS


def data_read_alias() -> str:
    """The database that this request reads measurement data from (chosen on first use);
    the primary outside :func:`replica_reads`. A stream that reads later (an export) takes
    it while the request is in the view."""
    scope = _scope.get()
    return DEFAULT_DB_ALIAS if scope is None else scope.chosen()


@contextmanager
def replica_reads(*, organization: Organization) -> Iterator[_ReadScope]:
    """Reads of the organisation's measurement data in this block may go to a replica."""
    scope = _ReadScope(organization)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


View = TypeVar("View", bound=Callable[..., Any])


def replica_read(view: View) -> View:
    """A data endpoint's view, with its reads of measurement data on a replica (see the
    module); run again on the primary when its replica fails under it."""

    @functools.wraps(view)
    def routed(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not replica_aliases():
            return view(request, *args, **kwargs)
        organization = request.auth.user.organization  # type: ignore[attr-defined]
        with replica_reads(organization=organization) as scope:
            try:
                return view(request, *args, **kwargs)
            except (OperationalError, InterfaceError) as error:
                if scope.alias in (None, DEFAULT_DB_ALIAS):
                    raise
                replica_mark_down(scope.alias, error)
                scope.alias = DEFAULT_DB_ALIAS
                _routed(DEFAULT_DB_ALIAS)
                return view(request, *args, **kwargs)

    # django-ninja reads the parameters from the signature, whose annotations are text to be
    # read in the view's module: give it them read.
    routed.__signature__ = inspect.signature(view, eval_str=True)  # type: ignore[attr-defined]
    return cast(View, routed)


class ReplicaRouter:
    """Django's database router: measurement reads inside :func:`replica_reads` go to the
    database chosen there; every write, and migrations, to the primary."""

    def db_for_read(self, model: type[Model], **hints: Any) -> str | None:
        if model._meta.app_label not in REPLICATED_APPS or _scope.get() is None:
            return None
        return data_read_alias()

    def db_for_write(self, model: type[Model], **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Model, obj2: Model, **hints: Any) -> bool:
        return True

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
