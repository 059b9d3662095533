from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from marketing_op.accounts.identity_provider.discovery import forget_provider_state
from marketing_op.accounts.models import Organization, User
from marketing_op.accounts.services import token_issue
from marketing_op.accounts.throttling import forget_allowances
from marketing_op.core.caching import forget_worker_copies
from marketing_op.measurements.imports import postgresql
from tests.contract import ContractClient
from tests.factories import OrganizationFactory, UserFactory
from tests.identity_provider import AUDIENCE, CLIENT_ID, CLIENT_SECRET, IdentityProvider

pytest_plugins = [
    "tests.postgres_servers",  # streaming_replica: a primary and its replica
    "tests.plugins.every_item_runs",  # a run fails when an item it collected did not run
    "pytester",  # the tests of that check run pytest on test files of their own
]


@pytest.fixture
def api_client() -> ContractClient:
    return ContractClient()


@pytest.fixture
def organization(db: Any) -> Organization:
    return OrganizationFactory(name="acme")


@pytest.fixture
def other_organization(db: Any) -> Organization:
    return OrganizationFactory(name="globex")


@pytest.fixture
def user(organization: Organization) -> User:
    return UserFactory(organization=organization, username="ana")


@pytest.fixture
def token(user: User) -> str:
    return token_issue(user=user).token


@pytest.fixture
def auth(token: str) -> dict[str, str]:
    """Headers of an authenticated request as the ``user`` of ``organization``."""
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture(autouse=True)
def _own_cache_counters(settings: Any, tmp_path_factory: Any) -> Any:
    """Cache entries (throttle counters, totals) of this test only: a key prefix per test
    run and worker, emptied afterwards. The cache may be a Redis server that other runs
    share: only keys under this prefix are deleted."""
    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    prefix = caches["default"].get("KEY_PREFIX", "")
    caches["default"]["KEY_PREFIX"] = f"{prefix}-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    if caches["default"]["BACKEND"].endswith("FileBasedCache"):
        caches["default"]["LOCATION"] = str(tmp_path_factory.getbasetemp() / "cache")
    settings.CACHES = caches
    from django.core.cache import cache

    forget_worker_copies()
    forget_allowances()
    yield
    forget_worker_copies()
    forget_allowances()
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    """The production hasher is slow on purpose; tests only need a real hash."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _static_files_not_collected(settings: Any, tmp_path_factory: Any) -> None:
    """Pages as a checkout serves them before ``collectstatic``, whether or not ``make run``
    has collected the static files into ``var/static`` on this machine."""
    settings.STATIC_ROOT = str(tmp_path_factory.getbasetemp() / "static-not-collected")


@pytest.fixture(params=["whole file", "chunks of 3 rows"])
def import_chunks(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Imports as they come (small files are one chunk), or read and inserted three rows at
    a time, so that the early inserts of later chunks (see ``EarlyInserts``) are tested."""
    if request.param == "chunks of 3 rows":
        monkeypatch.setattr(postgresql, "EARLY_INSERT_ROWS", 3)
        monkeypatch.setattr(postgresql, "BATCH_ROWS", 2)
    return str(request.param)


@pytest.fixture
def unreachable_cache(settings: Any) -> Any:
    """The shared cache on Redis at a port where nothing listens (bound, then closed)."""
    import socket

    from marketing_op.config.settings import redis_cache
    from marketing_op.core import shared_cache

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    reachable = settings.CACHES
    settings.CACHES = {"default": redis_cache(f"redis://127.0.0.1:{port}/0")}
    shared_cache.forget_outage()
    forget_allowances()
    yield
    settings.CACHES = reachable
    shared_cache.forget_outage()
    forget_allowances()


@pytest.fixture(scope="session")
def identity_provider_server() -> Iterator[IdentityProvider]:
    provider = IdentityProvider().serve()
    yield provider
    provider.stop()


@pytest.fixture
def identity_provider(identity_provider_server: IdentityProvider, settings: Any) -> Any:
    """The test OpenID provider on loopback, as the service's ``OIDC_ISSUER``."""
    provider = identity_provider_server
    provider.reset()
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_AUDIENCE = AUDIENCE
    forget_provider_state()
    yield provider
    provider.reset()
    forget_provider_state()
