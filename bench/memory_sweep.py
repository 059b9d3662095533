"""Memory sweep: many large report pages over one connection, and what the server's
workers and Redis hold before and after.

On a dataset of ``bench.run`` (``--size``, default demo; built there when missing), starts
the server under test and asks, over one keep-alive connection, ``--pages`` (default 200)
report pages of ``--page-rows`` (default 10,000) rows each: reports by campaign and channel
per day, up to three pages of each (as many as the data holds), each report over a window
one day later than the one before, so that every page is a new answer (computed, cached,
and copied by the worker).
Before the first page and after the last it reads the resident memory (RSS) of every
server process, and, while the pages are asked, the largest; with Redis, its
``used_memory`` before and after and its ``maxmemory``.

Target: no server process grows past 500 MB (the per-worker copies are bounded by
``WORKER_CACHE_BYTES``; Redis by its ``maxmemory``). Prints the figures and writes
``bench/results/memory_sweep.{md,json}``. ``make bench`` calls it with the largest size it
benches; run alone with ``python -m bench.memory_sweep --size demo --pages 20``.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import math
import secrets
import socket
import sys
import time
import urllib.parse
from collections.abc import Sequence
from typing import Any

from bench.export_speed import MemoryWatch, server_memory_mb
from bench.run import (
    DATASETS,
    REDIS_ADDRESS,
    REPORTS,
    RESULTS_DIR,
    BenchError,
    Server,
    base_environment,
    bearer_token,
    ensure_dataset,
    free_port,
    http_get,
    log,
    redis_answers,
    running_server,
    serve_command,
)

TARGET_SERVER_MB = 500
PAGES_PER_REPORT = 3
MAX_REPORT_ROWS = 100_000
SWEEP_QUERY = {"dimensions": "campaign,channel", "granularity": "day", "fill": "false"}
"""The reports asked: one row per measurement (campaign, channel and day)."""


def redis_memory() -> dict[str, int]:
    """Redis's ``used_memory`` and ``maxmemory`` (bytes), or {} without Redis."""
    if not redis_answers():
        return {}
    with socket.create_connection(REDIS_ADDRESS, timeout=5) as connection:
        connection.sendall(b"INFO memory\r\n")
        reply = connection.recv(65536)
        length = int(reply[1 : reply.index(b"\r\n")])  # a bulk string: $<length>
        while len(reply) < length + reply.index(b"\r\n") + 4:
            chunk = connection.recv(65536)
            if not chunk:
                break
            reply += chunk
    found = {}
    for line in reply.decode(errors="replace").splitlines():
        name, _, value = line.partition(":")
        if name in ("used_memory", "maxmemory"):
            found[name] = int(value)
    return found


def sweep_window(server: Server, token: str, page_rows: int) -> tuple[datetime.date, int, int, int]:
    """The data's first day, the pages of each report (up to ``PAGES_PER_REPORT``, as many
    as the data holds), the days a report needs for them, and how many reports (one a day
    later each) the data allows."""
    headers = {"Authorization": f"Bearer {token}"}
    _, _, body = http_get(f"{server.base_url}/api/marketing/dimensions/", headers)
    first = datetime.date.fromisoformat(body["data"]["first_date"])
    last = datetime.date.fromisoformat(body["data"]["last_date"])
    span = (last - first).days + 1
    query = urllib.parse.urlencode({**SWEEP_QUERY, "start_date": first, "end_date": last})
    status, _, whole = http_get(f"{server.base_url}{REPORTS}?{query}&page_size=1", headers)
    if status == 200:
        rows = whole["meta"]["total"]
    else:  # more rows than a report may have: estimate from the first month
        month = first + datetime.timedelta(days=29)
        query = urllib.parse.urlencode({**SWEEP_QUERY, "start_date": first, "end_date": month})
        status, _, part = http_get(f"{server.base_url}{REPORTS}?{query}&page_size=1", headers)
        if status != 200:
            raise BenchError(f"{REPORTS}?{query} answered {status}: {part}")
        rows = part["meta"]["total"] * span // 30
    per_day = max(1.0, rows / span)
    pages = max(1, min(PAGES_PER_REPORT, int(rows * 0.8) // page_rows))
    days = math.ceil(pages * page_rows / per_day)
    if days * per_day > MAX_REPORT_ROWS:
        raise BenchError(f"{page_rows:,} rows a page need reports longer than the API gives")
    return first, pages, days, max(1, span - days + 1)


def sweep(server: Server, token: str, pages: int, page_rows: int) -> dict[str, Any]:
    first, per_report, days, reports = sweep_window(server, token, page_rows)
    address = urllib.parse.urlsplit(server.base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=600)
    headers = {"Authorization": f"Bearer {token}"}
    received = errors = 0
    before = server_memory_mb(server)
    redis_before = redis_memory()
    started = time.perf_counter()
    with MemoryWatch(server) as memory:
        for number in range(pages):
            start = first + datetime.timedelta(days=(number // per_report) % reports)
            query = urllib.parse.urlencode(
                {
                    **SWEEP_QUERY,
                    "start_date": start,
                    "end_date": start + datetime.timedelta(days=days - 1),
                    "page_size": page_rows,
                    "offset": (number % per_report) * page_rows,
                }
            )
            connection.request("GET", f"{REPORTS}?{query}", headers=headers)
            response = connection.getresponse()
            body = response.read()
            received += len(body)
            errors += response.status != 200
    seconds = time.perf_counter() - started
    connection.close()
    after = server_memory_mb(server)
    return {
        "pages": pages,
        "page_rows": page_rows,
        "report_days": days,
        "pages_per_report": per_report,
        "distinct_pages": min(pages, per_report * reports),
        "errors": errors,
        "seconds": round(seconds, 1),
        "received_mb": round(received / 1e6, 1),
        "largest_process_mb_before": round(max(before.values(), default=0.0), 1),
        "largest_process_mb_after": round(max(after.values(), default=0.0), 1),
        "largest_process_mb_peak": round(memory.peak_mb, 1),
        "processes_mb_after": {str(pid): round(mb, 1) for pid, mb in sorted(after.items())},
        "redis_used_mb_before": _mb(redis_before.get("used_memory")),
        "redis_used_mb_after": _mb(redis_memory().get("used_memory")),
        "redis_maxmemory_mb": _mb(redis_before.get("maxmemory")),
    }


def _mb(value: int | None) -> float | None:
    return None if value is None else round(value / 1e6, 1)


def write_results(document: dict[str, Any]) -> str:
    result = document["result"]
    met = result["largest_process_mb_peak"] < TARGET_SERVER_MB and not result["errors"]
    redis = (
        f"Redis used {result['redis_used_mb_before']} MB before, "
        f"{result['redis_used_mb_after']} MB after (maxmemory "
        + (f"{result['redis_maxmemory_mb']} MB)" if result["redis_maxmemory_mb"] else "unset)")
        if result["redis_used_mb_before"] is not None
        else "no Redis"
    )
    lines = [
        "# Memory sweep",
        "",
        f"- date: {document['date']}",
        f"- dataset: {document['size']}; {result['pages']} report pages of "
        f"{result['page_rows']:,} rows ({result['distinct_pages']} distinct; by campaign and "
        f"channel per day, {result['pages_per_report']} pages a report of "
        f"{result['report_days']} days, each report a day later) over one connection; "
        f"WORKER_CACHE_BYTES {document['worker_cache_bytes']}",
        f"- target: no server process past {TARGET_SERVER_MB} MB",
        "",
        "| pages | errors | s | received MB | largest process MB before | after | peak | met |",
        "|--:|--:|--:|--:|--:|--:|--:|:-:|",
        f"| {result['pages']} | {result['errors']} | {result['seconds']} "
        f"| {result['received_mb']} | {result['largest_process_mb_before']} "
        f"| {result['largest_process_mb_after']} | {result['largest_process_mb_peak']} "
        f"| {'✓' if met else '✗'} |",
        "",
        f"- {redis}",
        f"- every process after: {result['processes_mb_after']}",
    ]
    text = "\n".join([*lines, ""])
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "memory_sweep.md").write_text(text)
    (RESULTS_DIR / "memory_sweep.json").write_text(json.dumps(document, indent=2) + "\n")
    return text


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory_sweep")
    parser.add_argument("--size", default="demo", choices=sorted(DATASETS))
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--page-rows", type=int, default=10_000)
    parser.add_argument("--server", default="serve")
    args = parser.parse_args(argv)
    password = secrets.token_urlsafe(24)
    dataset = DATASETS[args.size]
    try:
        ensure_dataset(dataset, rebuild=False, password=password)
        port = free_port()
        environment = base_environment(dataset)
        with running_server(
            f"memory-{dataset.size}",
            serve_command(port, args.server),
            environment,
            port,
            dataset.database,
        ) as server:
            token = bearer_token(server, password)
            result = sweep(server, token, args.pages, args.page_rows)
            log(f"memory sweep: {result}")
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    document = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "size": dataset.size,
        "worker_cache_bytes": environment.get("WORKER_CACHE_BYTES", "default (64 MB)"),
        "result": result,
    }
    print(write_results(document))
    return 0


if __name__ == "__main__":
    sys.exit(main())
