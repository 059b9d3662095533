"""Throwaway PostgreSQL servers of our own, for what the shared test server cannot show: a
primary and its streaming replica (``pg_basebackup -R``), started from the local binaries
on free ports of 127.0.0.1, stopped and started again by the tests, removed afterwards;
and PgBouncer (Debian's package) in transaction mode in front of the primary.

The fixtures ``streaming_replica`` and ``pgbouncer`` (one per test session) give them;
``bench/replicas.py`` uses the classes too. As root, the servers run as the ``postgres``
account, as ``scripts/test_database.py`` runs its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from scripts.test_database import SERVER_ACCOUNT, free_port, pg_ctl
from scripts.test_pgbouncer import PgBouncer, as_server_account

START_SECONDS = 60
DATABASE = "marketing_op"
SETTINGS = (
    "listen_addresses = '127.0.0.1'",
    "wal_level = replica",
    "max_wal_senders = 4",
    "hot_standby = on",
    "fsync = off",  # a throwaway server: nothing here must survive a crash of the machine
    "full_page_writes = off",
)


@dataclass
class PostgresServer:
    """One server: its data folder, port and log; ``start`` and ``stop`` as often as needed."""

    folder: Path
    port: int

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def bindir(self) -> Path:
        return pg_ctl().parent

    def run(self, program: str, *args: str) -> None:
        subprocess.run(
            as_server_account([str(self.bindir / program), *args]),
            check=True,
            capture_output=True,
            timeout=START_SECONDS,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder}"
        self.run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.folder / "log"),
            "-o",
            options,
            "-w",
            "-t",
            str(START_SECONDS),
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        status = subprocess.run(
            as_server_account([str(self.bindir / "pg_ctl"), "-D", str(self.data), "status"]),
            capture_output=True,
        )
        return status.returncode == 0

    def url(self, database: str = DATABASE) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = DATABASE) -> psycopg.Connection:
        return psycopg.connect(self.url(database), autocommit=True, connect_timeout=5)


def _server_folder(parent: Path, name: str) -> Path:
    folder = parent / name
    folder.mkdir()
    if os.geteuid() == 0:
        shutil.chown(folder, user=SERVER_ACCOUNT)
    return folder


@dataclass
class StreamingReplica:
    """A primary with the application's database and a hot standby that streams from it."""

    primary: PostgresServer
    replica: PostgresServer

    def replay_pause(self) -> None:
        with self.replica.connect("postgres") as connection:
            connection.execute("SELECT pg_wal_replay_pause()")
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                state = connection.execute("SELECT pg_get_wal_replay_pause_state()").fetchone()
                if state and state[0] == "paused":
                    return
                time.sleep(0.05)
        raise AssertionError("the replica did not pause its replay")

    def replay_resume(self) -> None:
        with self.replica.connect("postgres") as connection:
            connection.execute("SELECT pg_wal_replay_resume()")

    def caught_up(self, timeout: float = 20.0) -> None:
        """Wait until the replica has replayed everything the primary has written so far."""
        with self.primary.connect("postgres") as connection:
            written = connection.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        deadline = time.monotonic() + timeout
        with self.replica.connect("postgres") as connection:
            while time.monotonic() < deadline:
                behind = connection.execute(
                    "SELECT pg_wal_lsn_diff(%s, pg_last_wal_replay_lsn()) > 0", [written]
                ).fetchone()[0]
                if not behind:
                    return
                time.sleep(0.05)
        raise AssertionError(f"the replica did not replay up to {written} in {timeout} s")


def primary_start(parent: Path) -> PostgresServer:
    """initdb a primary (replication from 127.0.0.1 trusted) in ``parent``, start it and
    create the application's database."""
    if os.geteuid() == 0:
        parent.chmod(0o711)
    primary = PostgresServer(_server_folder(parent, "primary"), free_port())
    primary.run("initdb", "-D", str(primary.data), "-U", "postgres", "-A", "trust", "--no-sync")
    with (primary.data / "postgresql.conf").open("a") as conf:
        conf.write("\n".join(SETTINGS) + "\n")
    with (primary.data / "pg_hba.conf").open("a") as hba:
        hba.write("host replication all 127.0.0.1/32 trust\n")
    primary.start()
    with primary.connect("postgres") as connection:
        connection.execute(f"CREATE DATABASE {DATABASE}")
    return primary


def replica_start(primary: PostgresServer, parent: Path) -> StreamingReplica:
    """Copy the primary with ``pg_basebackup -R`` and start the copy as its hot standby."""
    replica = PostgresServer(_server_folder(parent, "replica"), free_port())
    primary.run(
        "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
        "-D", str(replica.data), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync",
    )  # fmt: skip
    replica.start()
    return StreamingReplica(primary, replica)


def streaming_replica_start(parent: Path) -> StreamingReplica:
    return replica_start(primary_start(parent), parent)


def streaming_replica_stop(servers: StreamingReplica) -> None:
    for server in (servers.replica, servers.primary):
        if server.running():
            server.stop("immediate")


@pytest.fixture(scope="session")
def streaming_replica() -> Iterator[StreamingReplica]:
    parent = Path(tempfile.mkdtemp(prefix="marketing-op-replication-"))
    servers = None
    try:
        servers = streaming_replica_start(parent)
        yield servers
    finally:
        if servers is not None:
            streaming_replica_stop(servers)
        shutil.rmtree(parent, ignore_errors=True)


@pytest.fixture(scope="session")
def pgbouncer(streaming_replica: StreamingReplica) -> Iterator[PgBouncer]:
    """PgBouncer in transaction mode with one server connection per database, in front of
    the ``streaming_replica`` fixture's primary."""
    folder = _server_folder(streaming_replica.primary.folder.parent, "pgbouncer")
    bouncer = PgBouncer(folder, "127.0.0.1", streaming_replica.primary.port)
    try:
        bouncer.start()
        yield bouncer
    finally:
        bouncer.stop()
