"""``scripts/test_database.py`` (what ``make test`` runs its pytest runs with): where no
PostgreSQL answers, it starts a throwaway server from the local binaries and removes it
afterwards; with neither a server nor the binaries, the run fails and says why."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

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
    if "No PostgreSQL for the tests" in finished.stderr:
        pytest.skip(f"no local PostgreSQL binaries to start a server from: {finished.stderr}")

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
