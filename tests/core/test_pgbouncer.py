"""The service behind PgBouncer in transaction mode (Debian's package), with its own
settings: migrations, the commands and the production server with two workers sharing
one server connection, so that consecutive transactions of a worker run on whichever
session is free. Whatever the service left in a session would meet the other worker:
prepared statements (psycopg prepares none: Django sets no ``prepare_threshold``), a
``SET`` (ours are ``SET LOCAL``), cursors ``WITH HOLD`` (the export's server-side cursor
runs inside a transaction, the COPY too), temporary tables (the import's live and die in
its transaction). Every endpoint answers, imports and exports included, while imports and
reads run at once."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator

import pytest

from tests.core.test_database_routing import (
    CHANNELS,
    PASSWORD,
    READS,
    USERNAME,
    get,
    import_post,
    measurements_csv,
    run,
    token_get,
)
from tests.postgres_servers import PgBouncer, StreamingReplica
from tests.servers import server_environment, start_server, stop_server

DATABASE = "marketing_op_pooled"
MORE_READS = (
    *READS,
    "/api/marketing/measurements/?format=parquet",
    "/api/marketing/imports/",
    "/api/marketing/reports/?dimensions=product&granularity=week&compare=previous_period"
    "&start_date=2021-01-15&end_date=2021-01-28&metrics=conversions,share,roas",
)


@pytest.fixture(scope="module")
def service(
    streaming_replica: StreamingReplica, pgbouncer: PgBouncer, tmp_path_factory
) -> Iterator[str]:
    """The production server (two workers) on a database of its own, through PgBouncer,
    migrated and with its user created through PgBouncer too."""
    with streaming_replica.primary.connect("postgres") as connection:
        connection.execute(f"CREATE DATABASE {DATABASE}")
    home = tmp_path_factory.mktemp("pgbouncer")
    environment = server_environment(home, pgbouncer.url(DATABASE))
    environment.update(
        ANSWER_CACHE_SECONDS="0",
        RATE_LIMIT_PER_MINUTE="1000000",
        USER_RATE_LIMIT_PER_MINUTE="1000000",
        MARKETING_OP_PASSWORD=PASSWORD,
    )
    run("migrate", "-v", "0", environment=environment)
    run("create-organization", "acme", environment=environment)
    run("create-user", "--organization", "acme", "--username", USERNAME, environment=environment)
    base, _, process = start_server(environment)
    try:
        yield base
    finally:
        stop_server(process)
        print(process.log.read_text()[-20000:])  # the server's log, shown on failure


def test_every_endpoint_answers_through_pgbouncer_in_transaction_mode(service):
    base = service
    writer = token_get(base, "read write")
    reader = token_get(base)
    first = import_post(base, writer, measurements_csv(1, 20))
    statuses: list[tuple[str, int]] = []
    done = threading.Event()

    def load() -> None:
        while not done.is_set():
            statuses.extend((path, get(base, path, reader)[0]) for path in MORE_READS)

    clients = [threading.Thread(target=load) for _ in range(2)]
    for client in clients:
        client.start()
    try:
        second = import_post(base, writer, measurements_csv(15, 16))
        again = import_post(base, writer, measurements_csv(15, 16))
    finally:
        done.set()
        for client in clients:
            client.join(timeout=60)

    assert (first["inserted"], second["inserted"], second["unchanged"]) == (120, 60, 36)
    assert (again["inserted"], again["unchanged"]) == (0, 16 * 2 * len(CHANNELS))
    assert statuses
    assert [entry for entry in statuses if entry[1] != 200] == []
    status, body = get(base, "/api/marketing/measurements/?page_size=1", reader)
    assert (status, json.loads(body)["meta"]["total"]) == (200, 30 * 2 * len(CHANNELS))
    status, body = get(base, "/api/marketing/measurements/?format=csv", reader)
    assert (status, len(body.splitlines())) == (200, 1 + 30 * 2 * len(CHANNELS))
    status, body = get(base, "/api/marketing/measurements/?format=parquet", reader)
    assert (status, body[:4]) == (200, b"PAR1")

    revoke = urllib.request.Request(
        f"{base}/api/auth/token/", method="DELETE", headers={"Authorization": f"Bearer {reader}"}
    )
    with urllib.request.urlopen(revoke, timeout=10) as response:
        assert response.status in (200, 204)
    assert get(base, "/api/marketing/dimensions/", reader)[0] == 401
