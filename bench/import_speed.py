"""Import speed: rows/s and peak memory of `marketing-op import` for a 1,000,000-row file.

Generates the file once (the demo generator), then three times: creates a fresh PostgreSQL
database, migrates it, imports the file with the real command in a child process, measures
the wall time of the import and the child's peak RSS, and drops the database. Prints each
run and the median. ``make bench`` calls it; run alone with ``python -m bench.import_speed``.

    BENCH_DATABASE_URL  server to use (default postgres://postgres@127.0.0.1:5432/postgres)
    BENCH_ROWS          rows in the file (default 1000000)
    BENCH_RUNS          runs (default 3)
"""

from __future__ import annotations

import datetime
import json
import os
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
COMMAND = str(Path(sys.executable).with_name("marketing-op"))
RESULTS = Path(__file__).resolve().parent / "results"


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _run(args: list[str], env: dict[str, str]) -> None:
    subprocess.run([COMMAND, *args], env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603


def _import(path: Path, env: dict[str, str]) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of one import in a child process."""
    started = time.monotonic()
    child = subprocess.Popen(  # noqa: S603 - our own command
        [COMMAND, "import", str(path), "--organization", "bench", "--no-progress"],
        env=env,
        stdout=subprocess.PIPE,
    )
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.monotonic() - started
    if status != 0:
        raise SystemExit(f"the import failed with status {status}")
    print("   ", (child.stdout.read().decode().strip() if child.stdout else ""))
    return elapsed, usage.ru_maxrss / 1024


def main() -> None:
    server = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    rows = int(os.environ.get("BENCH_ROWS", "1000000"))
    runs = int(os.environ.get("BENCH_RUNS", "3"))
    with tempfile.TemporaryDirectory(prefix="mop-bench-") as folder:
        path = Path(folder) / "measurements.csv"
        print(f"generating {rows:,} rows ...", flush=True)
        _run(["generate-demo", "--rows", str(rows), "--output", str(path)], dict(os.environ))
        results = []
        for run in range(1, runs + 1):
            name = f"bench_import_{uuid.uuid4().hex[:12]}"
            with psycopg.connect(server, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
            env = {**os.environ, "DATABASE_URL": _with_database(server, name)}
            env.pop("TEST_DATABASE_NAME", None)
            try:
                _run(["migrate", "--no-input", "-v", "0"], env)
                _run(["create-organization", "bench"], env)
                seconds, peak_mb = _import(path, env)
            finally:
                with psycopg.connect(server, autocommit=True) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            results.append((rows / seconds, peak_mb))
            print(
                f"run {run}: {seconds:.1f} s, {rows / seconds:,.0f} rows/s, "
                f"peak RSS {peak_mb:.0f} MB",
                flush=True,
            )
    speed = statistics.median(speed for speed, _ in results)
    peak = max(peak for _, peak in results)
    verdict = "meets" if speed >= TARGET_ROWS_PER_SECOND and peak < TARGET_PEAK_MB else "misses"
    summary = (
        f"import of {rows:,} rows into PostgreSQL: median {speed:,.0f} rows/s, "
        f"peak RSS {peak:.0f} MB ({verdict} the target of {TARGET_ROWS_PER_SECOND:,} rows/s "
        f"under {TARGET_PEAK_MB} MB)"
    )
    print(summary)
    _write_results(rows, results, summary)


def _write_results(rows: int, results: list[tuple[float, float]], summary: str) -> None:
    """bench/results/import_speed.md and .json, beside the load benchmark's."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    when = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    runs = [
        {"rows_per_second": round(speed), "peak_rss_mb": round(peak)} for speed, peak in results
    ]
    (RESULTS / "import_speed.json").write_text(
        json.dumps({"date": when, "rows": rows, "runs": runs, "summary": summary}, indent=2) + "\n"
    )
    lines = [
        "# Import speed",
        "",
        f"- date: {when}; {os.cpu_count()} CPU(s); `marketing-op import` of a generated file",
        "  into a fresh PostgreSQL database, one child process per run",
        "",
        "| run | rows/s | peak RSS MB |",
        "|--:|--:|--:|",
        *(
            f"| {number} | {run['rows_per_second']:,} | {run['peak_rss_mb']} |"
            for number, run in enumerate(runs, start=1)
        ),
        "",
        summary,
        "",
    ]
    (RESULTS / "import_speed.md").write_text("\n".join(lines))


if __name__ == "__main__":
    main()
