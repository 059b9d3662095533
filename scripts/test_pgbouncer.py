"""Run a command (``make test``'s API tests) with ``DATABASE_URL`` through PgBouncer in
transaction mode (Debian's package) in front of the PostgreSQL server that ``DATABASE_URL``
names, so that the service's settings are checked against it.

PgBouncer hands a server connection to a client for one transaction at a time; it runs as
the ``postgres`` account when run as root, and is stopped afterwards. The command's test
databases (``TEST_DATABASE_NAME`` with ``_pgbouncer`` after it, and pytest-xdist's
suffixes) are created through PgBouncer and dropped afterwards straight on the server:
PgBouncer keeps server connections to them, which a ``DROP DATABASE`` through it would
meet, so the command runs pytest with ``--reuse-db``.

Usage: DATABASE_URL=postgres://... python scripts/test_pgbouncer.py -- COMMAND [ARGS...]
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from scripts.test_database import SERVER_ACCOUNT, free_port

PGBOUNCER = os.environ.get("PGBOUNCER", "/usr/sbin/pgbouncer")
START_SECONDS = 30


def as_server_account(command: list[str]) -> list[str]:
    """PostgreSQL and PgBouncer refuse to run as root: as root, they run as ``postgres``."""
    return ["runuser", "-u", SERVER_ACCOUNT, "--", *command] if os.geteuid() == 0 else command


@dataclass
class PgBouncer:
    """PgBouncer in transaction mode in front of a server, every database of it
    (``pool_size`` server connections each), on a free port of 127.0.0.1, its files in
    ``folder`` (which the server account can read). A server connection serves a client for
    one transaction, then another client: anything a client leaves in its session (a
    prepared statement, a ``SET``, a cursor ``WITH HOLD``, a temporary table) meets others."""

    folder: Path
    host: str
    port: int
    user: str = "postgres"
    pool_size: int = 1
    listen_port: int = 0
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        if not Path(PGBOUNCER).is_file():
            raise RuntimeError(
                f"PgBouncer is not installed at {PGBOUNCER}: apt-get install pgbouncer "
                "(make test does), or set PGBOUNCER to its path."
            )
        self.listen_port = free_port()
        (self.folder / "users.txt").write_text(f'"{self.user}" ""\n')
        config = self.folder / "pgbouncer.ini"
        config.write_text(
            "[databases]\n"
            f"* = host={self.host} port={self.port}\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.listen_port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {self.folder / 'users.txt'}\n"
            f"pool_mode = transaction\ndefault_pool_size = {self.pool_size}\n"
            "max_client_conn = 500\n"
        )
        with (self.folder / "log").open("wb") as log:
            self.process = subprocess.Popen(
                as_server_account([PGBOUNCER, str(config)]), stdout=log, stderr=log
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", self.listen_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"PgBouncer did not start: {(self.folder / 'log').read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def url(self, database: str) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.listen_port}/{database}"


def databases_drop(server_url: str, prefix: str) -> None:
    """Drop the databases whose names start with ``prefix``, straight on the server."""
    with psycopg.connect(server_url, autocommit=True) as connection:
        names = connection.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", [prefix]
        ).fetchall()
        for (name,) in names:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def main() -> int:
    command = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else sys.argv[1:]
    environment = dict(os.environ)
    server_url = environment.get("DATABASE_URL", "")
    where = urllib.parse.urlsplit(server_url)
    if where.scheme not in {"postgres", "postgresql"}:
        sys.exit("DATABASE_URL must name the PostgreSQL server to put PgBouncer in front of.")
    name = environment.get("TEST_DATABASE_NAME") or f"test_marketing_op_{os.getpid()}"
    name += "_pgbouncer"
    folder = Path(tempfile.mkdtemp(prefix="marketing-op-pgbouncer-"))
    if os.geteuid() == 0:
        folder.chmod(0o755)
    bouncer = PgBouncer(
        folder, where.hostname or "127.0.0.1", where.port or 5432, where.username or "postgres"
    )
    try:
        try:
            bouncer.start()
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 1
        print(f"PgBouncer (transaction mode) on 127.0.0.1:{bouncer.listen_port}", file=sys.stderr)
        environment["DATABASE_URL"] = bouncer.url(where.path.lstrip("/") or "postgres")
        environment["TEST_DATABASE_NAME"] = name
        return subprocess.run(command, env=environment).returncode
    finally:
        bouncer.stop()
        databases_drop(server_url, name)
        for file in folder.iterdir():
            file.unlink()
        folder.rmdir()


if __name__ == "__main__":
    sys.exit(main())
