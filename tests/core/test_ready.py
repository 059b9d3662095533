"""GET /api/ready/: 200 once the database answers and holds every migration, else 503; tried
in-process, and with real servers on a PostgreSQL database that is not migrated yet and on a
port where no database listens."""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from unittest import mock

import psycopg
import pytest
from django.db import DatabaseError, connection

from marketing_op.core.readiness import forget_readiness
from tests.servers import (
    COMMAND,
    database_url,
    free_port,
    health,
    server_environment,
    start_server,
    stop_server,
)


def ready(base: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"{base}/api/ready/", timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


@pytest.fixture(autouse=True)
def _readiness_asked_afresh() -> Iterator[None]:
    forget_readiness()
    yield
    forget_readiness()


@pytest.mark.api
@pytest.mark.django_db
def test_ready_with_the_database_migrated(api_client):
    first = api_client.get("/api/ready/")
    again = api_client.get("/api/ready/")

    assert (first.status_code, first.json()) == (200, {"status": "ready"})
    assert (again.status_code, again.json()) == (200, {"status": "ready"})


@pytest.mark.api
@pytest.mark.django_db
def test_not_ready_when_the_database_fails_even_after_it_was_ready(api_client):
    assert api_client.get("/api/ready/").status_code == 200

    with mock.patch.object(connection, "cursor", side_effect=DatabaseError("boom")):
        response = api_client.get("/api/ready/")

    assert response.status_code == 503
    assert response.json() == {"status": "database unreachable"}
    assert "boom" not in response.content.decode()


@pytest.fixture
def unmigrated_database(django_db_blocker) -> Iterator[str]:
    """An empty database of its own on the test run's PostgreSQL server, dropped afterwards."""
    if connection.vendor != "postgresql":
        pytest.skip("needs the test run's PostgreSQL server (make test's first run)")
    server = connection.settings_dict
    name = f"{server['NAME']}_unmigrated_{uuid.uuid4().hex[:8]}"
    where = database_url(server, "postgres")
    with django_db_blocker.unblock(), psycopg.connect(where, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_url(server, name)
    finally:
        with django_db_blocker.unblock(), psycopg.connect(where, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_server_on_an_unmigrated_database_is_live_but_not_ready_until_migrated(
    tmp_path, unmigrated_database
):
    environment = server_environment(tmp_path, unmigrated_database)
    base, _, process = start_server(environment)
    try:
        assert health(base) == 200
        assert ready(base) == (503, {"status": "migrations pending"})

        subprocess.run([*COMMAND, "migrate", "-v", "0"], env=environment, check=True, timeout=300)

        assert ready(base) == (200, {"status": "ready"})
    finally:
        stop_server(process)


def test_a_server_whose_database_port_is_closed_is_not_ready(tmp_path):
    closed = f"postgres://postgres@127.0.0.1:{free_port()}/marketing_op"
    base, _, process = start_server(server_environment(tmp_path, closed))
    try:
        assert ready(base) == (503, {"status": "database unreachable"})
    finally:
        stop_server(process)
