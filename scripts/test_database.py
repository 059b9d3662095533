"""Run a command with a PostgreSQL server for the tests.

Uses ``DATABASE_URL`` when it is set, else the server at 127.0.0.1:5432 when one answers,
else starts a throwaway server from the local PostgreSQL binaries in a temporary folder and
removes it afterwards. Each run gets a test database name of its own, so that runs sharing a
server never touch each other's databases. Redis at 127.0.0.1:6379 is used when it answers.
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

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def _answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _binaries() -> Path:
    pg_config = shutil.which("pg_config")
    if pg_config:
        bindir = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True).stdout
        if (Path(bindir.strip()) / "initdb").exists():
            return Path(bindir.strip())
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if shutil.which("initdb"):
        return Path(shutil.which("initdb") or "").parent
    if candidates:
        return Path(candidates[0]).parent
    sys.exit("No PostgreSQL answers at 127.0.0.1:5432 and no local binaries (initdb) were found.")


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the postgres (or nobody) account."""
    if os.geteuid() != 0:
        return command
    for account in ("postgres", "nobody"):
        try:
            pwd.getpwnam(account)
        except KeyError:
            continue
        return ["runuser", "-u", account, "--", *command]
    sys.exit("Running as root with no postgres or nobody account to run PostgreSQL as.")


def _start_throwaway() -> tuple[str, Path, Path]:
    bindir = _binaries()
    folder = Path(tempfile.mkdtemp(prefix="marketing-op-pg-"))
    data = folder / "data"
    if os.geteuid() == 0:
        account = "postgres" if _has_account("postgres") else "nobody"
        shutil.chown(folder, user=account)
    port = _free_port()
    subprocess.run(
        _as_server_user(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    subprocess.run(
        _as_server_user(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(folder / "log"),
                "-w",
                "-o",
                f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off",
                "start",
            ]
        ),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"Started a throwaway PostgreSQL on 127.0.0.1:{port}", file=sys.stderr)
    return f"postgres://postgres@127.0.0.1:{port}/postgres", bindir, data


def _has_account(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def main() -> int:
    command = sys.argv[sys.argv.index("--") + 1 :] if "--" in sys.argv else sys.argv[1:]
    environment = dict(os.environ)
    throwaway: tuple[Path, Path] | None = None
    if not environment.get("DATABASE_URL"):
        if _answers("127.0.0.1", 5432):
            environment["DATABASE_URL"] = DEFAULT_URL
        else:
            url, bindir, data = _start_throwaway()
            environment["DATABASE_URL"] = url
            throwaway = (bindir, data)
    environment.setdefault(
        "TEST_DATABASE_NAME", f"test_marketing_op_{os.getpid()}_{int(time.time())}"
    )
    if "REDIS_URL" not in environment and _answers("127.0.0.1", 6379):
        environment["REDIS_URL"] = "redis://127.0.0.1:6379/0"
    environment.setdefault("CACHE_KEY_PREFIX", environment["TEST_DATABASE_NAME"])
    try:
        return subprocess.run(command, env=environment).returncode
    finally:
        if throwaway:
            bindir, data = throwaway
            subprocess.run(
                _as_server_user(
                    [str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]
                ),
                stdout=subprocess.DEVNULL,
            )
            shutil.rmtree(data.parent, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
