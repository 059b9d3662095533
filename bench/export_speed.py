"""Export speed: the whole-result exports of 1,000,000 measurements, CSV and Parquet.

On the 10,000,000-row dataset of ``bench.run`` (built there when missing), starts the
server under test, picks the shortest date range from the first day that holds at least
``BENCH_EXPORT_ROWS`` measurements (from the list's ``meta.total``), and downloads
``GET /api/marketing/measurements/?format=csv`` and ``?format=parquet`` of that range three
times each, alternating, reading 1 MiB at a time. The client times each download from the
request to the last byte and counts its rows (lines of the CSV, the Parquet file's row
count); every 20 ms it reads the resident memory of each of the server's processes.

Prints each run and the medians, and writes ``bench/results/export_speed.{md,json}``.
Targets: at least 300,000 rows/s with every server process under 200 MB; Parquet at least
as fast as CSV. ``make bench`` calls it; run alone with ``python -m bench.export_speed``.

    BENCH_EXPORT_ROWS   rows to export (default 1000000)
    BENCH_RUNS          downloads of each format (default 3)
"""

from __future__ import annotations

import datetime
import io
import json
import os
import secrets
import statistics
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pyarrow.parquet

from bench.run import (
    DATASETS,
    MEASUREMENTS,
    RESULTS_DIR,
    TARGET_SIZE,
    BenchError,
    Server,
    base_environment,
    bearer_token,
    ensure_dataset,
    free_port,
    http_get,
    log,
    running_server,
    serve_command,
)

TARGET_ROWS_PER_SECOND = 300_000
TARGET_SERVER_MB = 200
FORMATS = ("csv", "parquet")
CHUNK_BYTES = 1 << 20
SAMPLE_SECONDS = 0.02


def server_memory_mb(server: Server) -> dict[int, float]:
    """Resident memory of each process in the server's process group (it runs in its own)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            group = int(stat.rpartition(")")[2].split()[2])
            if group != server.process.pid:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    found[int(entry.name)] = int(line.split()[1]) / 1024
        except (OSError, ValueError, IndexError):
            continue
    return found


class MemoryWatch:
    """The largest resident memory of any one server process while the watch runs."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.is_set():
            sizes = server_memory_mb(self.server).values()
            self.peak_mb = max(self.peak_mb, *sizes, 0.0)
            time.sleep(SAMPLE_SECONDS)


def export_range(server: Server, token: str, rows: int) -> dict[str, str]:
    """The filters of the shortest range from the first day holding at least ``rows``."""
    headers = {"Authorization": f"Bearer {token}"}
    _, _, body = http_get(f"{server.base_url}/api/marketing/dimensions/", headers)
    first = datetime.date.fromisoformat(body["data"]["first_date"])
    last = datetime.date.fromisoformat(body["data"]["last_date"])

    def total(end: datetime.date) -> int:
        query = urllib.parse.urlencode(
            {"start_date": first.isoformat(), "end_date": end.isoformat(), "page_size": 1}
        )
        status, _, found = http_get(f"{server.base_url}{MEASUREMENTS}?{query}", headers)
        if status != 200:
            raise BenchError(f"{MEASUREMENTS}?{query} answered {status}: {found}")
        return int(found["meta"]["total"])

    low, high = 0, (last - first).days
    if total(last) < rows:
        raise BenchError(f"the dataset holds fewer than {rows:,} measurements")
    while low < high:
        middle = (low + high) // 2
        if total(first + datetime.timedelta(days=middle)) >= rows:
            high = middle
        else:
            low = middle + 1
    end = first + datetime.timedelta(days=low)
    return {"start_date": first.isoformat(), "end_date": end.isoformat()}


def download(server: Server, token: str, filters: dict[str, str], form: str) -> dict[str, Any]:
    """One export, timed from the request to its last byte, with the server's peak memory."""
    query = urllib.parse.urlencode({**filters, "format": form})
    request = urllib.request.Request(  # noqa: S310 - http://127.0.0.1
        f"{server.base_url}{MEASUREMENTS}?{query}", headers={"Authorization": f"Bearer {token}"}
    )
    body = io.BytesIO()
    with MemoryWatch(server) as memory:
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=600) as response:  # noqa: S310
            if response.status != 200:
                raise BenchError(f"format={form} answered {response.status}")
            while chunk := response.read(CHUNK_BYTES):
                body.write(chunk)
        seconds = time.perf_counter() - started
    data = body.getvalue()
    if form == "csv":
        rows = data.count(b"\n") - 1
    else:
        rows = pyarrow.parquet.ParquetFile(io.BytesIO(data)).metadata.num_rows
    return {
        "format": form,
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows / seconds),
        "megabytes": round(len(data) / 1e6, 1),
        "server_peak_mb": round(memory.peak_mb, 1),
    }


def medians(runs: list[dict[str, Any]], form: str) -> dict[str, Any]:
    mine = [run for run in runs if run["format"] == form]
    return {
        "format": form,
        "rows": mine[0]["rows"],
        "rows_per_second": round(statistics.median(run["rows_per_second"] for run in mine)),
        "megabytes": mine[0]["megabytes"],
        "server_peak_mb": max(run["server_peak_mb"] for run in mine),
    }


def write_results(document: dict[str, Any]) -> str:
    lines = [
        "# Export speed",
        "",
        f"- date: {document['date']}",
        f"- dataset: {TARGET_SIZE}; range {document['filters']['start_date']} to "
        f"{document['filters']['end_date']}; {document['runs_per_format']} downloads per "
        "format, alternating; the client on the same machine",
        f"- targets: ≥ {TARGET_ROWS_PER_SECOND:,} rows/s, every server process under "
        f"{TARGET_SERVER_MB} MB, for CSV and for Parquet alike (the issue's \"Parquet at least "
        "as fast\"); `÷ csv` compares each format's rows/s with CSV's",
        "",
        "| format | rows | rows/s (median) | ÷ csv | MB | largest server process MB | met |",
        "|---|--:|--:|--:|--:|--:|:-:|",
    ]
    csv_rate = next(
        (row["rows_per_second"] for row in document["medians"] if row["format"] == "csv"), 0
    )
    for row in document["medians"]:
        met = (
            row["rows_per_second"] >= TARGET_ROWS_PER_SECOND
            and row["server_peak_mb"] < TARGET_SERVER_MB
        )
        ratio = row["rows_per_second"] / csv_rate if csv_rate else 0.0
        lines.append(
            f"| {row['format']} | {row['rows']:,} | {row['rows_per_second']:,} | {ratio:.2f} "
            f"| {row['megabytes']} | {row['server_peak_mb']} | {'✓' if met else '✗'} |"
        )
    lines += ["", "Runs:", ""]
    lines += [
        f"- {run['format']}: {run['rows']:,} rows in {run['seconds']} s "
        f"({run['rows_per_second']:,} rows/s), server peak {run['server_peak_mb']} MB"
        for run in document["runs"]
    ]
    text = "\n".join([*lines, ""])
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "export_speed.md").write_text(text)
    (RESULTS_DIR / "export_speed.json").write_text(json.dumps(document, indent=2) + "\n")
    return text


def main(server_kind: str = "serve") -> int:
    rows = int(os.environ.get("BENCH_EXPORT_ROWS", "1000000"))
    runs_per_format = int(os.environ.get("BENCH_RUNS", "3"))
    password = secrets.token_urlsafe(24)
    dataset = DATASETS[TARGET_SIZE]
    try:
        ensure_dataset(dataset, rebuild=False, password=password)
        port = free_port()
        environment = base_environment(dataset)
        name = f"export-{dataset.size}"
        with running_server(
            name, serve_command(port, server_kind), environment, port, dataset.database
        ) as server:
            token = bearer_token(server, password)
            filters = export_range(server, token, rows)
            runs = []
            for _ in range(runs_per_format):
                for form in FORMATS:
                    runs.append(download(server, token, filters, form))
                    log(f"export {form}: {runs[-1]}")
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    document = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "filters": filters,
        "runs_per_format": runs_per_format,
        "runs": runs,
        "medians": [medians(runs, form) for form in FORMATS],
    }
    print(write_results(document))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:2]))
