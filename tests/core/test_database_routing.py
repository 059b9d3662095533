"""Read replicas with real servers: a primary and its streaming replica of our own
(``tests/postgres_servers.py``), and the production server in front of both with a
second replica that never answers. Reads are answered from the replica; an import is
visible on the next request even while the replica lags; when the replica stops under
load every answer is still right and no request fails; when it is back it is used again.

What shows that the replica answered is the replica itself: a connection of the service
in its ``pg_stat_activity`` whose last statement read the measurements."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.postgres_servers import DATABASE, StreamingReplica
from tests.servers import COMMAND, free_port, server_environment, start_server, stop_server

USERNAME, PASSWORD = "ana", "a long passphrase for ana"
IMPORTER = "bo"  # of another organisation, with the same password
METRICS_TOKEN = "metrics-token-for-the-replica-tests"
HEADER = "product,campaign_type,campaign,channel,date,conversions,spend\n"
CHANNELS = ("tv", "radio", "search")
READS = (
    "/api/marketing/measurements/?page_size=100",
    "/api/marketing/measurements/?channels=tv&start_date=2021-01-10",
    "/api/marketing/stats/channel-sales-percentages/",
    "/api/marketing/stats/channel-weekly-sales/?page_size=100",
    "/api/marketing/reports/?dimensions=channel&granularity=month&metrics=conversions,spend",
    "/api/marketing/dimensions/",
    "/api/marketing/measurements/?format=csv",
)
LOAD_SECONDS = 4.0


def measurements_csv(first_day: int, days: int) -> bytes:
    """Rows of two products on three channels, day ``first_day`` of January 2021 onwards."""
    lines = [HEADER]
    for day in range(first_day, first_day + days):
        for product in ("cola", "water"):
            for number, channel in enumerate(CHANNELS):
                conversions = day * 10 + number + (0.5 if product == "cola" else 0.25)
                lines.append(
                    f"{product},branding,winter,{channel},2021-01-{day:02},{conversions},7\n"
                )
    return "".join(lines).encode()


def run(*args: str, environment: dict[str, str], data: bytes | None = None) -> None:
    subprocess.run(
        [*COMMAND, *args],
        env=environment,
        input=data,
        check=True,
        timeout=120,
        capture_output=True,
    )


def get(base: str, path: str, token: str, timeout: float = 10.0) -> tuple[int, bytes]:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def token_get(base: str, scope: str = "read", username: str = USERNAME) -> str:
    basic = base64.b64encode(f"{username}:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(
        f"{base}/api/auth/token/?scope={scope.replace(' ', '%20')}",
        headers={"Authorization": f"Basic {basic}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)["data"]["token"]


def import_post(base: str, token: str, body: bytes) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{base}/api/marketing/measurements/",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["data"]


def service_read_the_replica(servers: StreamingReplica, since: Any = None) -> bool:
    """Whether a connection of the service to the replica last read the measurements
    (at ``since``, the replica's clock, or later)."""
    with servers.replica.connect("postgres") as connection:
        found = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s "
            "AND query LIKE %s AND pid <> pg_backend_pid() "
            "AND (%s::timestamptz IS NULL OR state_change >= %s::timestamptz)",
            [DATABASE, "%measurements_%", since, since],
        ).fetchone()
    return bool(found and found[0])


def replica_clock(servers: StreamingReplica) -> Any:
    with servers.replica.connect("postgres") as connection:
        return connection.execute("SELECT clock_timestamp()").fetchone()[0]


def replica_connections_close(servers: StreamingReplica) -> None:
    with servers.replica.connect("postgres") as connection:
        connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [DATABASE],
        )


def replica_used_within(servers: StreamingReplica, base: str, token: str, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for path in READS[:2]:
            get(base, path, token)
        if service_read_the_replica(servers):
            return True
        time.sleep(0.2)
    return False


@pytest.fixture(scope="module")
def service(streaming_replica: StreamingReplica, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """The production server on the primary, with the replica and a replica that never
    answers (a closed port); every answer computed (no answer cache), no rate limit in the
    way of the load. acme holds 30 days of measurements; globex, nothing until the import
    test imports into it."""
    servers = streaming_replica
    home = tmp_path_factory.mktemp("replicas")
    environment = server_environment(home, servers.primary.url())
    never_answers = f"postgres://postgres@127.0.0.1:{free_port()}/{DATABASE}"
    environment.update(
        DATABASE_REPLICA_URLS=f"{servers.replica.url()},{never_answers}",
        ANSWER_CACHE_SECONDS="0",
        RATE_LIMIT_PER_MINUTE="1000000",
        USER_RATE_LIMIT_PER_MINUTE="1000000",
        MARKETING_OP_PASSWORD=PASSWORD,
        METRICS_TOKEN=METRICS_TOKEN,
    )
    run("migrate", "-v", "0", environment=environment)
    run("create-organization", "acme", environment=environment)
    run("create-user", "--organization", "acme", "--username", USERNAME, environment=environment)
    # The import test's own organisation: what it adds is never in acme's answers.
    run("create-organization", "globex", environment=environment)
    run("create-user", "--organization", "globex", "--username", IMPORTER, environment=environment)
    run(
        "import",
        "-",
        "--organization",
        "acme",
        "--no-progress",
        environment=environment,
        data=measurements_csv(1, 30),
    )
    servers.caught_up()
    base, _, process = start_server(environment)
    try:
        yield base, token_get(base)
    finally:
        stop_server(process)
        print(process.log.read_text()[-20000:])  # the server's log, shown on failure


def test_reads_are_answered_by_the_replica(streaming_replica, service):
    base, token = service
    # Reads from now on count; the service's connections stay (closing them would make its
    # next read fail over to the primary, as after the tests that stop the replica).
    since = replica_clock(streaming_replica)

    answers = [get(base, path, token) for path in READS]

    assert [status for status, _ in answers] == [200] * len(READS)
    page = json.loads(answers[0][1])
    assert page["meta"]["total"] == 30 * 2 * len(CHANNELS)
    assert page["data"][0] == {
        "date": "2021-01-01",
        "product": "cola",
        "campaign_type": "branding",
        "campaign": "winter",
        "channel": "radio",
        "conversions": 11.5,
        "spend": 7.0,
    }
    assert len(answers[-1][1].splitlines()) == 1 + 30 * 2 * len(CHANNELS)
    assert service_read_the_replica(streaming_replica, since)


def database_reads(base: str) -> dict[str, float]:
    """``marketing_op_database_reads_total`` of the server's ``/metrics``, per database."""
    status, body = get(base, "/metrics", METRICS_TOKEN)
    assert status == 200, body
    found = re.findall(
        rb'^marketing_op_database_reads_total\{database="([^"]+)"\} (\S+)$', body, re.MULTILINE
    )
    return {database.decode(): float(count) for database, count in found}


def test_the_metrics_count_the_reads_of_each_database(streaming_replica, service):
    base, token = service
    streaming_replica.caught_up()
    replica_connections_close(streaming_replica)
    before = database_reads(base)

    answers = [get(base, path, token) for path in READS]

    after = database_reads(base)
    assert [status for status, _ in answers] == [200] * len(READS)
    read = {name: after[name] - before.get(name, 0.0) for name in after}
    # One per request that read measurement data; values kept per data version read none.
    assert 1 <= read["replica_1"] <= len(READS)
    assert read.get("default", 0.0) == 0.0


def test_an_import_is_read_at_once_while_the_replica_lags(streaming_replica, service):
    base, _ = service
    token = token_get(base, "read write", IMPORTER)
    streaming_replica.replay_pause()
    try:
        imported = import_post(base, token, measurements_csv(31, 1))
        status, body = get(base, "/api/marketing/measurements/?start_date=2021-01-31", token)
        with streaming_replica.replica.connect() as connection:
            on_replica = connection.execute(
                "SELECT count(*) FROM measurements_measurement WHERE date = '2021-01-31'"
            ).fetchone()[0]
    finally:
        streaming_replica.replay_resume()

    assert imported["inserted"] == 2 * len(CHANNELS)
    assert on_replica == 0  # the replica had not replayed the import
    assert status == 200
    assert json.loads(body)["meta"]["total"] == 2 * len(CHANNELS)
    streaming_replica.caught_up()
    replica_connections_close(streaming_replica)
    assert replica_used_within(streaming_replica, base, token, seconds=10)


def test_reads_go_on_while_the_replica_stops_and_use_it_again_once_it_is_back(
    streaming_replica,
    service,
):
    base, token = service
    expected = {path: get(base, path, token) for path in READS[:-1]}
    answers: list[tuple[str, int, bytes]] = []
    done = threading.Event()

    def load() -> None:
        while not done.is_set():
            for path in expected:
                status, body = get(base, path, token)
                answers.append((path, status, body))

    clients = [threading.Thread(target=load) for _ in range(3)]
    for client in clients:
        client.start()
    try:
        time.sleep(LOAD_SECONDS / 4)
        streaming_replica.replica.stop()
        stopped_at = len(answers)
        time.sleep(LOAD_SECONDS * 3 / 4)
    finally:
        done.set()
        for client in clients:
            client.join(timeout=30)
        if not streaming_replica.replica.running():
            streaming_replica.replica.start()

    assert all(status == 200 for status, _ in expected.values())
    assert len(answers) > stopped_at > 0
    assert len(answers) - stopped_at > 10  # answered while the replica was down
    wrong = [(path, status) for path, status, body in answers if (status, body) != expected[path]]
    assert wrong == []
    assert replica_used_within(streaming_replica, base, token, seconds=10)
