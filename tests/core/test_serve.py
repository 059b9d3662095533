"""The production server as `make run` starts it: it answers, from several workers."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    # As `make run` starts it: SQLite, and the file cache under its own home, so that the
    # server leaves nothing in a Redis that the test run may share.
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"REDIS_URL", "CACHE_LOCATION", "CACHE_KEY_PREFIX"}
    }
    environment.update(
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
            "MARKETING_OP_HOME": str(tmp_path),
        }
    )
    command = [sys.executable, "-m", "marketing_op"]
    subprocess.run([*command, "migrate", "-v", "0"], env=environment, check=True, timeout=120)
    subprocess.run(
        [*command, "load-demo", "--rows", "50"], env=environment, check=True, timeout=120
    )
    port = free_port()
    process = subprocess.Popen(
        [*command, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/health/", timeout=2)
            break
        except OSError:
            time.sleep(0.2)
    yield base, process
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def test_serve_answers_many_requests_with_the_demo_login(server):
    base, process = server
    basic = urllib.request.Request(
        f"{base}/api/auth/token/",
        headers={"Authorization": "Basic bWFya2V0aW5nX29wOm1hcmtldGluZ19vcF9zdXBlcnNlY3JldA=="},
    )
    token = json.load(urllib.request.urlopen(basic, timeout=10))["data"]["token"]
    statuses = []
    for _ in range(30):
        request = urllib.request.Request(
            f"{base}/api/marketing/measurements/", headers={"Authorization": f"Bearer {token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            statuses.append((response.status, json.load(response)["meta"]["total"]))

    assert statuses == [(200, 50)] * 30
    assert process.poll() is None
