"""Run a command (``make test``'s pytest runs) with a PostgreSQL server for the tests.

Uses ``DATABASE_URL`` when it is set, else the server at ``TEST_POSTGRES_HOST``:
``TEST_POSTGRES_PORT`` (127.0.0.1:5432, user postgres) when one answers, else a throwaway
server that pytest-postgresql's ``PostgreSQLExecutor`` starts from the local binaries
(``TEST_POSTGRES_BINDIR``, else ``pg_config --bindir``, else the newest
/usr/lib/postgresql/*/bin) and that is removed afterwards. With neither, the run fails.
Each run gets a test database name of its own, so that runs sharing a server never touch
each other's databases, and the same name as its cache key prefix in Redis: ``REDIS_URL``
when it is set, else the Redis at ``TEST_REDIS_HOST``:``TEST_REDIS_PORT`` (127.0.0.1:6379)
when one answers, else a throwaway ``redis-server`` (``TEST_REDIS_SERVER``, else the one on
the ``PATH``, else /usr/bin/redis-server) on a free port, without persistence, stopped
afterwards. With none, the run fails and says why.

Usage: python scripts/test_database.py -- COMMAND [ARGS...]
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pytest_postgresql.executors import PostgreSQLExecutor

REDIS_START_SECONDS = 20
SERVER_ACCOUNT = "postgres"
"""PostgreSQL refuses to run as root: as root, the throwaway server runs as this account."""


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pg_ctl() -> Path:
    """The local ``pg_ctl``, or exit with a message saying what was looked for."""
    bindirs = [os.environ.get("TEST_POSTGRES_BINDIR", "")]
    if not bindirs[0]:
        if shutil.which("pg_config"):
            bindir = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
            bindirs = [bindir.stdout.strip()]
        bindirs += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    for bindir in bindirs:
        if bindir and (Path(bindir) / "pg_ctl").is_file() and (Path(bindir) / "initdb").is_file():
            return Path(bindir) / "pg_ctl"
    sys.exit(
        "No PostgreSQL for the tests: none answers at "
        f"{os.environ.get('TEST_POSTGRES_HOST', '127.0.0.1')}:"
        f"{os.environ.get('TEST_POSTGRES_PORT', '5432')}, DATABASE_URL is not set, and no "
        f"PostgreSQL binaries (pg_ctl, initdb) were found in {[b for b in bindirs if b]}. "
        "Install the PostgreSQL server package or start a server."
    )


def _version(bindir: str) -> tuple[int, ...]:
    return tuple(int(part) for part in Path(bindir).parent.name.split(".") if part.isdigit())


def throwaway_server(folder: Path) -> PostgreSQLExecutor:
    """A PostgreSQL server on a free port of 127.0.0.1, its data and socket in ``folder``.

    As root, ``pg_ctl`` runs through ``runuser`` as ``SERVER_ACCOUNT``, which owns the
    server's folder; the wrapper itself stays in the root-owned ``folder``.
    """
    executable = pg_ctl()
    server = folder / "server"
    server.mkdir()
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_ACCOUNT)
        except KeyError:
            sys.exit(
                f"Running as root, and there is no {SERVER_ACCOUNT!r} account to run PostgreSQL as."
            )
        folder.chmod(0o711)
        shutil.chown(server, user=SERVER_ACCOUNT)
        wrapper = folder / "pg_ctl"
        wrapper.write_text(f'#!/bin/sh\nexec runuser -u {SERVER_ACCOUNT} -- "{executable}" "$@"\n')
        wrapper.chmod(0o755)
        executable = wrapper
    return PostgreSQLExecutor(
        executable=str(executable),
        host="127.0.0.1",
        port=free_port(),
        datadir=str(server / "data"),
        unixsocketdir=str(server),
        logfile=str(server / "log"),
        startparams="-w",
        dbname="postgres",
        user="postgres",
        postgres_options="-c listen_addresses=127.0.0.1",
    )


def redis_server() -> str:
    """The local ``redis-server``, or exit with a message saying what was looked for."""
    candidates = [os.environ.get("TEST_REDIS_SERVER", "")]
    if not candidates[0]:
        candidates = [shutil.which("redis-server") or "", "/usr/bin/redis-server"]
    for candidate in candidates:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    sys.exit(
        "No Redis for the tests: none answers at "
        f"{os.environ.get('TEST_REDIS_HOST', '127.0.0.1')}:"
        f"{os.environ.get('TEST_REDIS_PORT', '6379')}, REDIS_URL is not set, and no "
        f"redis-server was found in {[c for c in candidates if c]}. Install Debian's "
        "redis-server package (make test does, with apt-get) or start a Redis."
    )


def throwaway_redis(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    """A Redis on a free port of 127.0.0.1 that keeps nothing on disk, once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [redis_server(), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(folder), "--logfile", str(folder / "redis.log")],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + REDIS_START_SECONDS
    while not answers("127.0.0.1", port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            log = folder / "redis.log"
            sys.exit(
                f"The throwaway Redis did not start on 127.0.0.1:{port}: "
                + (log.read_text()[-2000:] if log.exists() else "no log")
            )
        time.sleep(0.05)
    return process, port


def main() -> int:
    command = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else sys.argv[1:]
    environment = dict(os.environ)
    host = environment.get("TEST_POSTGRES_HOST", "127.0.0.1")
    port = int(environment.get("TEST_POSTGRES_PORT", "5432"))
    folder: Path | None = None
    server: PostgreSQLExecutor | None = None
    redis_folder: Path | None = None
    redis: subprocess.Popen[bytes] | None = None
    try:
        if not environment.get("DATABASE_URL"):
            if answers(host, port):
                environment["DATABASE_URL"] = f"postgres://postgres@{host}:{port}/postgres"
            else:
                folder = Path(tempfile.mkdtemp(prefix="marketing-op-pg-"))
                server = throwaway_server(folder)
                server.start()
                print(
                    f"Started a throwaway PostgreSQL on 127.0.0.1:{server.port} in {folder}",
                    file=sys.stderr,
                )
                environment["DATABASE_URL"] = (
                    f"postgres://postgres@127.0.0.1:{server.port}/postgres"
                )
        environment.setdefault(
            "TEST_DATABASE_NAME", f"test_marketing_op_{os.getpid()}_{int(time.time())}"
        )
        if not environment.get("REDIS_URL"):
            redis_host = environment.get("TEST_REDIS_HOST", "127.0.0.1")
            redis_port = int(environment.get("TEST_REDIS_PORT", "6379"))
            if answers(redis_host, redis_port):
                environment["REDIS_URL"] = f"redis://{redis_host}:{redis_port}/0"
            else:
                redis_folder = Path(tempfile.mkdtemp(prefix="marketing-op-redis-"))
                redis, redis_port = throwaway_redis(redis_folder)
                print(
                    f"Started a throwaway Redis on 127.0.0.1:{redis_port} in {redis_folder}",
                    file=sys.stderr,
                )
                environment["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        environment.setdefault("CACHE_KEY_PREFIX", environment["TEST_DATABASE_NAME"])
        return subprocess.run(command, env=environment).returncode
    finally:
        if redis is not None:
            redis.terminate()
            try:
                redis.wait(timeout=10)
            except subprocess.TimeoutExpired:
                redis.kill()
                redis.wait()
        if redis_folder is not None:
            shutil.rmtree(redis_folder, ignore_errors=True)
        if server is not None and server.running():
            server.stop()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
