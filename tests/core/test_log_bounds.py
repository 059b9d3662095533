"""What a log line may carry of a request is bounded: an 8 KB ``Host`` header, path or
method gives a line of at most ``LINE_BOUND`` characters, never the value whole; and with
``LOG_FORMAT=json`` every line of every logger is one JSON object, a real server's too."""

from __future__ import annotations

import io
import logging
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from django.db import connection
from django.test import Client

from marketing_op.core.logs import JsonFormatter, PlainFormatter
from tests.servers import COMMAND, database_url, server_environment, start_server, stop_server

pytestmark = [pytest.mark.api, pytest.mark.django_db]

LINE_BOUND = 4096
"""The longest line a request may cause (a traceback included)."""
LONG = 8 * 1024
QUOTED = 512
"""The most of one request value that any line may quote."""


@pytest.fixture
def lines() -> Iterator[dict[str, io.StringIO]]:
    """What the service logs meanwhile, in both formats."""
    captured = {"json": io.StringIO(), "plain": io.StringIO()}
    handlers = []
    for name, formatter in (("json", JsonFormatter()), ("plain", PlainFormatter())):
        handler = logging.StreamHandler(captured[name])
        handler.setFormatter(formatter)
        logging.getLogger().addHandler(handler)
        handlers.append(handler)
    try:
        yield captured
    finally:
        for handler in handlers:
            logging.getLogger().removeHandler(handler)


def assert_bounded(lines: dict[str, io.StringIO], value: str, quoted: int) -> None:
    """Every line short, and at most ``quoted`` characters of ``value`` in any of them."""
    for name, text in lines.items():
        logged = text.getvalue()
        assert logged, name
        assert value[: quoted + 1] not in logged, name
        for line in logged.splitlines():
            assert len(line) <= LINE_BOUND, (name, len(line), line[:300])
    for line in lines["json"].getvalue().splitlines():
        orjson.loads(line)


def test_an_8_kb_host_header_gives_a_short_line_that_does_not_echo_it(lines):
    host = "a" * LONG

    response = Client().get("/api/health/", HTTP_HOST=host)

    assert response.status_code == 400
    assert_bounded(lines, host, QUOTED)
    [refusal] = [
        orjson.loads(line)
        for line in lines["json"].getvalue().splitlines()
        if orjson.loads(line)["logger"] == "django.security.DisallowedHost"
    ]
    assert refusal["level"] == "ERROR"
    assert refusal["message"].startswith("Refused a request for a host that ALLOWED_HOSTS")
    assert f"({LONG} characters)" in refusal["message"]


def test_an_8_kb_path_or_method_gives_short_lines(lines):
    path = "/api/" + "p" * LONG
    method = "M" * LONG

    not_found = Client().get(path)
    strange = Client().generic(method, "/api/health/")

    assert not_found.status_code == 404
    assert strange.status_code == 405
    assert_bounded(lines, path, QUOTED)
    assert_bounded(lines, method, QUOTED)


def test_with_log_format_json_every_logger_writes_json_lines():
    """Django's own loggers under DEBUG (whose default handler writes plain text), the
    development server's, Python's warnings and the service's: each line one object."""
    script = (
        "import logging, warnings\n"
        "logging.getLogger('django').warning('django says %s', 'this')\n"
        "logging.getLogger('django.server').info('\"GET / HTTP/1.1\" 200 1')\n"
        "logging.getLogger('django.request').warning('Not Found: /nothing')\n"
        "logging.getLogger('marketing_op.access').info('GET / 200')\n"
        "warnings.warn('a warning of Python')\n"
    )
    environment = {key: value for key, value in os.environ.items() if key != "LOG_FORMAT"}
    environment |= {"DATABASE_URL": "sqlite:///:memory:", "LOG_FORMAT": "json", "DEBUG": "true"}

    result = subprocess.run(
        [*COMMAND, "shell", "-v", "0", "-c", script],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )

    written = (result.stdout + result.stderr).splitlines()
    assert result.returncode == 0, result.stderr
    records = [orjson.loads(line) for line in written]
    assert [record["logger"] for record in records] == [
        "django",
        "django.server",
        "django.request",
        "marketing_op.access",
        "py.warnings",
    ]


def raw_request(port: int, head: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
        return answer


@pytest.mark.django_db(transaction=True)
def test_a_real_server_with_json_logs_writes_bounded_json_lines(tmp_path, django_db_setup):
    if connection.vendor != "postgresql":
        pytest.skip("needs the test run's PostgreSQL server (make test's first run)")
    environment = server_environment(tmp_path, database_url(connection.settings_dict))
    environment["LOG_FORMAT"] = "json"
    _, port, process = start_server(environment)
    try:
        log: Path = process.log
        started = log.stat().st_size  # the banner and granian's start are the cli's part
        host = "h" * LONG
        refused = raw_request(
            port, f"GET /api/health/ HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()
        )
        path = "/api/" + "p" * LONG
        raw_request(
            port, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and log.read_bytes()[started:].count(b"\n") < 4:
            time.sleep(0.2)
    finally:
        stop_server(process)

    assert refused.startswith(b"HTTP/1.1 400")
    written = log.read_bytes()[started:].decode().splitlines()
    records = [orjson.loads(line) for line in written if line.strip()]
    assert {"django.security.DisallowedHost", "django.request", "marketing_op.access"} <= {
        record["logger"] for record in records
    }
    assert all(len(line) <= LINE_BOUND for line in written), max(map(len, written))
    assert host[: QUOTED + 1] not in "".join(written)
    assert path[: QUOTED + 1] not in "".join(written)
