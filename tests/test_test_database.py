"""``scripts/test_database.py`` (what ``make test`` runs its pytest runs with): where no
PostgreSQL or no Redis answers, it starts a throwaway server from the local binaries and
removes it afterwards; with neither a server nor the binaries, the run fails and says why.
(``make test`` installs the binaries: the tests of the throwaway PostgreSQL and of the
replicas need them, so a machine without them fails here rather than skipping.)"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "test_database.py"
SHOW_SERVER = (
    "import os, psycopg; "
    "connection = psycopg.connect(os.environ['DATABASE_URL']); "
    "print(connection.execute('SELECT current_setting(%s)', ['port']).fetchone()[0])"
)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(command: list[str], **environment: str) -> subprocess.CompletedProcess[str]:
    """The script with no ``DATABASE_URL`` and its default server at a closed port."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env.update(TEST_POSTGRES_HOST="127.0.0.1", TEST_POSTGRES_PORT=str(closed_port()))
    env.update(environment)
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_without_a_server_a_throwaway_one_is_started_and_removed():
    finished = run([sys.executable, "-c", SHOW_SERVER])
    assert finished.returncode == 0, finished.stderr
    started = re.search(r"throwaway PostgreSQL on 127\.0\.0\.1:(\d+) in (\S+)", finished.stderr)
    assert started, finished.stderr
    port, folder = int(started[1]), Path(started[2])
    assert finished.stdout.strip() == str(port)
    assert not answers(port)
    assert not folder.exists()


def test_without_a_server_or_binaries_the_run_fails_and_says_why(tmp_path):
    finished = run(["true"], TEST_POSTGRES_BINDIR=str(tmp_path))

    assert finished.returncode != 0
    assert "No PostgreSQL for the tests" in finished.stderr
    assert str(tmp_path) in finished.stderr


SHOW_REDIS = (
    "import os, redis; "
    "client = redis.Redis.from_url(os.environ['REDIS_URL']); "
    "print(client.ping(), client.connection_pool.connection_kwargs['port'])"
)


def run_without_redis(command: list[str], **environment: str) -> subprocess.CompletedProcess[str]:
    """The script with the run's database, no ``REDIS_URL`` and its default Redis at a
    closed port."""
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.update(TEST_REDIS_HOST="127.0.0.1", TEST_REDIS_PORT=str(closed_port()))
    env.update(environment)
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--", *command],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_without_redis_a_throwaway_one_is_started_and_removed():
    finished = run_without_redis([sys.executable, "-c", SHOW_REDIS])

    assert finished.returncode == 0, finished.stderr
    started = re.search(r"throwaway Redis on 127\.0\.0\.1:(\d+) in (\S+)", finished.stderr)
    assert started, finished.stderr
    port, folder = int(started[1]), Path(started[2])
    assert finished.stdout.split() == ["True", str(port)]
    assert not answers(port)
    assert not folder.exists()


def test_without_redis_or_its_binary_the_run_fails_and_says_why(tmp_path):
    finished = run_without_redis(["true"], TEST_REDIS_SERVER=str(tmp_path / "redis-server"))

    assert finished.returncode != 0
    assert "No Redis for the tests" in finished.stderr
    assert str(tmp_path / "redis-server") in finished.stderr
