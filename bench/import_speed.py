"""Import speed: `marketing-op import` of a 1,000,000-row file against `psql \\copy` of it.

Generates the file once (the demo generator), then, three times each and in one run:

- **copy**: creates a scratch database with a bare table of the file's columns and a unique
  index on the measurement's key (product, campaign type, campaign, channel, date), and
  times `psql \\copy` of the file into it: the floor that no import can beat;
- **import**: creates a scratch database, migrates it as the server's owner, creates a
  plain login role with only the rights an import needs (no superuser, no parameters) and
  times the real command, run as that role in a child process, with its peak RSS.

Prints each run, the medians and the ratio of the import's time to the copy's (target: at
most 2.5), and drops the databases and the role. ``make bench`` calls it; run alone with
``python -m bench.import_speed``.

    BENCH_DATABASE_URL  server to use (default postgres://postgres@127.0.0.1:5432/postgres)
    BENCH_ROWS          rows in the file (default 1000000)
    BENCH_RUNS          runs of each (default 3)
    BENCH_COMMAND       the marketing-op executable (default: the one beside this Python)
    BENCH_AS_OWNER      1: import as the server's user instead of a plain role
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/postgres"
TARGET_ROWS_PER_SECOND = 100_000
TARGET_PEAK_MB = 300
TARGET_RATIO = 2.5
RESULTS = Path(__file__).resolve().parent / "results"
SCRATCH_PREFIX = "imports_bench_"
PSQL = shutil.which("psql") or "/usr/bin/psql"
BARE_TABLE = (
    "CREATE TABLE measurement_copy (product text NOT NULL, campaign_type text NOT NULL, "
    "campaign text NOT NULL, channel text NOT NULL, date date NOT NULL, "
    "conversions double precision NOT NULL, spend double precision)"
)
BARE_KEY = (
    "CREATE UNIQUE INDEX measurement_copy_key "
    "ON measurement_copy (product, campaign_type, campaign, channel, date)"
)
IMPORT_GRANTS = (
    'GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO "{role}"',
    'GRANT USAGE ON SCHEMA public TO "{role}"',
    'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO "{role}"',
    'GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO "{role}"',
)
"""What an import needs: its tables, their sequences and temporary tables; nothing else."""


def _command() -> str:
    return os.environ.get("BENCH_COMMAND") or str(Path(sys.executable).with_name("marketing-op"))


def _with_database(url: str, name: str, *, user: str | None = None) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if user is not None:
        netloc = f"{user}@{netloc.rpartition('@')[2]}"
    return urlunsplit(parts._replace(path=f"/{name}", netloc=netloc))


def _run(args: list[str], env: dict[str, str]) -> None:
    subprocess.run([_command(), *args], env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603


def _admin(server: str, *statements: str) -> None:
    with psycopg.connect(server, autocommit=True) as admin:
        for statement in statements:
            admin.execute(statement)  # type: ignore[arg-type]


def _copy(path: Path, server: str) -> float:
    """Seconds of `psql \\copy` of the file into a bare table with the measurement's key."""
    name = f"{SCRATCH_PREFIX}copy_{uuid.uuid4().hex[:12]}"
    _admin(server, f'CREATE DATABASE "{name}"')
    url = _with_database(server, name)
    try:
        _admin(url, BARE_TABLE, BARE_KEY)
        started = time.monotonic()
        subprocess.run(  # noqa: S603 - psql with our own arguments
            [
                PSQL,
                url,
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                f"\\copy measurement_copy FROM '{path}' WITH (FORMAT csv, HEADER true)",
            ],
            check=True,
        )
        return time.monotonic() - started
    finally:
        _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _import(path: Path, env: dict[str, str]) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one import in a child process."""
    started = time.monotonic()
    child = subprocess.Popen(  # noqa: S603 - our own command
        [_command(), "import", str(path), "--organization", "bench", "--no-progress"],
        env=env,
        stdout=subprocess.PIPE,
    )
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.monotonic() - started
    if status != 0:
        raise SystemExit(f"the import failed with status {status}")
    print("   ", (child.stdout.read().decode().strip() if child.stdout else ""))
    return elapsed, usage.ru_maxrss / 1024


def _import_as_plain_role(path: Path, server: str, *, as_owner: bool) -> tuple[float, float]:
    """Migrate a scratch database as the owner, then import the file as a plain role."""
    name = f"{SCRATCH_PREFIX}{uuid.uuid4().hex[:12]}"
    role = f"{name}_importer"
    _admin(server, f'CREATE DATABASE "{name}"')
    owner_env = {**os.environ, "DATABASE_URL": _with_database(server, name)}
    owner_env.pop("TEST_DATABASE_NAME", None)
    try:
        _run(["migrate", "--no-input", "-v", "0"], owner_env)
        _run(["create-organization", "bench"], owner_env)
        if as_owner:
            return _import(path, owner_env)
        _admin(server, f'CREATE ROLE "{role}" LOGIN')
        _admin(
            _with_database(server, name),
            *(grant.format(database=name, role=role) for grant in IMPORT_GRANTS),
        )
        return _import(path, {**owner_env, "DATABASE_URL": _with_database(server, name, user=role)})
    finally:
        _admin(
            server,
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
            f'DROP ROLE IF EXISTS "{role}"',
        )


def main() -> None:
    server = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    rows = int(os.environ.get("BENCH_ROWS", "1000000"))
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    as_owner = os.environ.get("BENCH_AS_OWNER") == "1"
    who = "the server's owner" if as_owner else "a plain role"
    with tempfile.TemporaryDirectory(prefix="mop-bench-") as folder:
        path = Path(folder) / "measurements.csv"
        print(f"generating {rows:,} rows ...", flush=True)
        _run(["generate-demo", "--rows", str(rows), "--output", str(path)], dict(os.environ))
        copies: list[float] = []
        results: list[tuple[float, float]] = []
        for run in range(1, runs + 1):
            copies.append(_copy(path, server))
            seconds, peak_mb = _import_as_plain_role(path, server, as_owner=as_owner)
            results.append((seconds, peak_mb))
            print(
                f"run {run}: \\copy {copies[-1]:.1f} s; import as {who} {seconds:.1f} s, "
                f"{rows / seconds:,.0f} rows/s, peak RSS {peak_mb:.0f} MB",
                flush=True,
            )
    copy_seconds = statistics.median(copies)
    import_seconds = statistics.median(seconds for seconds, _ in results)
    ratio = import_seconds / copy_seconds
    peak = max(peak for _, peak in results)
    speed = rows / import_seconds
    meets = speed >= TARGET_ROWS_PER_SECOND and peak < TARGET_PEAK_MB and ratio <= TARGET_RATIO
    summary = (
        f"import of {rows:,} rows into PostgreSQL as {who}: median {import_seconds:.1f} s, "
        f"{speed:,.0f} rows/s, peak RSS {peak:.0f} MB; psql \\copy of the file into a bare "
        f"table with the same unique key: median {copy_seconds:.1f} s; import / copy = "
        f"{ratio:.2f} ({'meets' if meets else 'misses'} the targets of "
        f"{TARGET_ROWS_PER_SECOND:,} rows/s under {TARGET_PEAK_MB} MB and at most "
        f"{TARGET_RATIO} times the copy)"
    )
    print(summary)
    _write_results(rows, copies, results, summary)


def _write_results(
    rows: int, copies: list[float], results: list[tuple[float, float]], summary: str
) -> None:
    """bench/results/import_speed.md and .json, beside the load benchmark's."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    when = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    runs = [
        {
            "copy_seconds": round(copy, 2),
            "import_seconds": round(seconds, 2),
            "rows_per_second": round(rows / seconds),
            "peak_rss_mb": round(peak),
        }
        for copy, (seconds, peak) in zip(copies, results, strict=True)
    ]
    (RESULTS / "import_speed.json").write_text(
        json.dumps({"date": when, "rows": rows, "runs": runs, "summary": summary}, indent=2) + "\n"
    )
    lines = [
        "# Import speed",
        "",
        f"- date: {when}; {os.cpu_count()} CPU(s); `psql \\copy` of a generated file into a",
        "  bare table with the measurement's unique key, then `marketing-op import` of it into",
        "  a fresh database, one child process per run",
        "",
        "| run | \\copy s | import s | rows/s | peak RSS MB |",
        "|--:|--:|--:|--:|--:|",
        *(
            f"| {number} | {run['copy_seconds']} | {run['import_seconds']} | "
            f"{run['rows_per_second']:,} | {run['peak_rss_mb']} |"
            for number, run in enumerate(runs, start=1)
        ),
        "",
        summary,
        "",
    ]
    (RESULTS / "import_speed.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
