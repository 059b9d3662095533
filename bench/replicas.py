"""Past one machine: reads through a streaming replica against reads on the primary, the
reads while the replica stops and starts again, and two app servers against one.

Starts a throwaway primary and, once ``--rows`` measurements are imported into it
(``generate-demo | import``), its streaming replica (``pg_basebackup -R``), with the
servers of ``tests/postgres_servers.py`` (fsync off: these are throwaway servers), and the
service with its production server and settings, every answer computed
(``ANSWER_CACHE_SECONDS=0``: a cached answer reads no database). With wrk, as ``bench.run``
drives it (``--duration`` seconds per case, ``--connections``):

1. **Replica against primary.** Each read case on a server without replicas and on one
   whose reads go to the replica (one more round trip per read: the replica's data
   version), under wrk and, as ``bench.run``'s ``in-process ms``, the median of 300
   requests through Django's test client in one process with the same settings. On one
   machine both databases share the cores: this shows what the routing costs, not what a
   second machine adds.
2. **Fail-over.** One case through the server with the replica for three times
   ``--duration`` seconds; after a quarter of it the replica is stopped (``pg_ctl stop -m
   fast``), after half of it started again. Requests, p99, the slowest and the errors, and
   whether the replica serves again at the end.
3. **Two app servers against one**, at the same total number of workers (two per core
   against one per core each), requests spread over both by two wrk processes (two against
   the one server too, so that the load is alike). Target: two reach at least 90 % of one's
   requests/s, with no errors.

Prints the results and writes ``bench/results/replicas.{md,json}``. Run with
``make bench BENCH_ARGS='--replicas --rows 10000000'`` or ``python -m bench.replicas``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from tests.postgres_servers import (
    DATABASE,
    PostgresServer,
    StreamingReplica,
    primary_start,
    replica_start,
)

from bench.run import (
    COMMAND,
    MEASUREMENTS,
    ORGANIZATION,
    REPORTS,
    RESULTS_DIR,
    SEED,
    SHARES,
    USERNAME,
    WEEKLY,
    BenchError,
    Dataset,
    Load,
    Server,
    base_environment,
    bearer_token,
    ensure_wrk,
    free_port,
    http_get,
    in_process_medians,
    log,
    machine,
    marketing_op,
    running_server,
    serve_command,
    write_script,
)

CASES = {
    "measurements, offset 10,000": f"{MEASUREMENTS}?page_size=100&offset=10000",
    "channel shares": f"{SHARES}?page_size=100",
    "weekly sales, one channel": f"{WEEKLY}?page_size=100&channels=tv",
    "report by channel per month": f"{REPORTS}?dimensions=channel&granularity=month"
    "&metrics=conversions,spend,roas",
}
FAIL_OVER_CASE = "measurements, offset 10,000"
"""A case that reads the database on every request (the others often read per-version
values that the workers keep)."""
TWO_SERVERS_TARGET = 0.9
WORKERS = 2 * (os.cpu_count() or 1)


def build(primary_url: str, rows: int, password: str) -> dict:
    """Migrate, the organisation and its user, and ``generate-demo | import -`` of ``rows``."""
    environment = {**service_environment(primary_url), "MARKETING_OP_PASSWORD": password}
    marketing_op(["migrate", "--no-input", "-v", "0"], environment)
    marketing_op(["create-organization", ORGANIZATION], environment)
    marketing_op(
        ["create-user", "--organization", ORGANIZATION, "--username", USERNAME], environment
    )
    log(f"importing {rows:,} measurements into the primary")
    started = time.monotonic()
    generate = subprocess.Popen(  # noqa: S603 - our own command
        [COMMAND, "generate-demo", "--rows", str(rows), "--seed", str(SEED)],
        env=environment,
        stdout=subprocess.PIPE,
    )
    load = subprocess.run(  # noqa: S603 - our own command
        [COMMAND, "import", "-", "--organization", ORGANIZATION, "--no-progress"],
        env=environment,
        stdin=generate.stdout,
        capture_output=True,
        text=True,
        check=False,
    )
    if generate.wait() != 0 or load.returncode != 0:
        raise BenchError(f"generate-demo | import failed: {load.stderr.strip()}")
    return {"rows": rows, "import_seconds": round(time.monotonic() - started, 1)}


def service_environment(primary_url: str, replica_url: str = "") -> dict[str, str]:
    environment = base_environment(Dataset("replicas", 0))
    environment.update(DATABASE_URL=primary_url, ANSWER_CACHE_SECONDS="0")
    if replica_url:
        environment["DATABASE_REPLICA_URLS"] = replica_url
    return environment


@contextmanager
def service(name: str, environment: dict[str, str], workers: int = WORKERS) -> Iterator[Server]:
    port = free_port()
    command = [*serve_command(port), "--workers", str(workers)]
    with running_server(name, command, environment, port, DATABASE) as server:
        yield server


def numbers(measured: dict[str, Any], seconds: float | None = None) -> dict[str, Any]:
    elapsed = seconds or measured["duration_us"] / 1e6
    errors = measured["non_2xx"] + sum(
        measured[key] for key in ("connect", "read", "write", "timeout")
    )
    return {
        "requests_per_second": round(measured["requests"] / elapsed, 1),
        "p50_ms": round(measured["p50_us"] / 1000, 2),
        "p99_ms": round(measured["p99_us"] / 1000, 2),
        "max_ms": round(measured["max_us"] / 1000, 2),
        "requests": measured["requests"],
        "errors": errors,
    }


def replica_against_primary(load: Load, servers: StreamingReplica, password: str) -> list[dict]:
    results = []
    for where, replica_url in (("primary", ""), ("replica", servers.replica.url())):
        environment = service_environment(servers.primary.url(), replica_url)
        with service(f"replicas-{where}", environment) as server:
            token = bearer_token(server, password)
            in_process = in_process_medians(environment, token, list(CASES.values()))
            for case, path in CASES.items():
                http_get(server.base_url + path, {"Authorization": f"Bearer {token}"})
                result = {"reads_on": where, "case": case, "path": path}
                result.update(numbers(load.run(server.base_url + path, token)))
                result["in_process_ms"] = in_process[path]
                log(f"{where:>8} {case:<30} {result['requests_per_second']:8.1f} req/s  "
                    f"p99 {result['p99_ms']:7.2f} ms  errors {result['errors']}")  # fmt: skip
                results.append(result)
    return results


def replica_serves(servers: StreamingReplica) -> bool:
    """Whether a connection of the service to the replica last read the measurements."""
    with servers.replica.connect("postgres") as connection:
        found = connection.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND query LIKE %s",
            [DATABASE, "%measurements_%"],
        ).fetchone()
    return bool(found and found[0])


def fail_over(load: Load, servers: StreamingReplica, password: str) -> dict[str, Any]:
    path = CASES[FAIL_OVER_CASE]
    seconds = load.duration * 3
    environment = service_environment(servers.primary.url(), servers.replica.url())
    with service("replicas-fail-over", environment) as server:
        token = bearer_token(server, password)
        events: dict[str, float] = {}

        def stop_and_start() -> None:
            started = time.monotonic()
            time.sleep(seconds / 4)
            servers.replica.stop()
            events["replica stopped at s"] = round(time.monotonic() - started, 2)
            time.sleep(max(0.0, seconds / 2 - (time.monotonic() - started)))
            servers.replica.start()
            events["replica answering again at s"] = round(time.monotonic() - started, 2)

        timeline = threading.Thread(target=stop_and_start)
        timeline.start()
        measured = Load(load.wrk, load.script, seconds, load.connections).run(
            server.base_url + path, token
        )
        timeline.join()
        for _ in range(20):
            http_get(server.base_url + path, {"Authorization": f"Bearer {token}"})
        result = {"case": FAIL_OVER_CASE, "path": path, "seconds": seconds, **events}
        result.update(numbers(measured))
        result["replica serves again"] = replica_serves(servers)
    log(f"fail-over: {result}")
    return result


def loads_at_once(load: Load, urls: list[str], tokens: list[str]) -> list[dict[str, Any]]:
    """One wrk process per URL, all at once; what each measured."""
    measured: list[dict[str, Any]] = [{} for _ in urls]

    def drive(index: int) -> None:
        measured[index] = load.run(urls[index], tokens[index])

    drivers = [threading.Thread(target=drive, args=(index,)) for index in range(len(urls))]
    for driver in drivers:
        driver.start()
    for driver in drivers:
        driver.join()
    return measured


def two_servers_against_one(load: Load, primary_url: str, password: str) -> list[dict]:
    """Two wrk processes of half the connections each, on one server of ``WORKERS`` workers
    or on two servers of half as many each."""
    half = Load(load.wrk, load.script, load.duration, max(1, load.connections // 2))
    results = []
    environment = service_environment(primary_url)
    for case in ("measurements, offset 10,000", "channel shares"):
        path = CASES[case]
        layouts: dict[str, float] = {}
        for layout in ("one server", "two servers"):
            with ExitStack() as stack:
                if layout == "one server":
                    one = stack.enter_context(service("replicas-one", environment, WORKERS))
                    targets = [one, one]
                else:
                    targets = [
                        stack.enter_context(service(f"replicas-two-{n}", environment, WORKERS // 2))
                        for n in (1, 2)
                    ]
                urls = [target.base_url + path for target in targets]
                tokens = [bearer_token(target, password) for target in targets]
                for url, token in zip(urls, tokens, strict=True):
                    http_get(url, {"Authorization": f"Bearer {token}"})
                both = [numbers(part) for part in loads_at_once(half, urls, tokens)]
                result = {
                    "case": case,
                    "layout": layout,
                    "workers": WORKERS,
                    "requests_per_second": round(sum(p["requests_per_second"] for p in both), 1),
                    "p99_ms": max(p["p99_ms"] for p in both),
                    "errors": sum(p["errors"] for p in both),
                }
                layouts[layout] = result["requests_per_second"]
                log(f"{layout:>11} {case:<30} {result['requests_per_second']:8.1f} req/s  "
                    f"p99 {result['p99_ms']:7.2f} ms  errors {result['errors']}")  # fmt: skip
                results.append(result)
        ratio = layouts["two servers"] / layouts["one server"] if layouts["one server"] else 0.0
        results[-1]["ratio_to_one_server"] = round(ratio, 3)
        results[-1]["meets_target"] = ratio >= TWO_SERVERS_TARGET and results[-1]["errors"] == 0
    return results


def write_results(document: dict[str, Any]) -> str:
    lines = [
        "# Replicas and app servers",
        "",
        f"{document['date']}, {document['data']['rows']:,} measurements, "
        f"{document['connections']} connections, {document['duration']} s per case, "
        f"every answer computed. Machine: {document['machine']}.",
        "",
        "## Reads on the primary and through the replica",
        "",
        "| case | reads on | req/s | p50 ms | p99 ms | errors | in-process ms |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {r['case']} | {r['reads_on']} | {r['requests_per_second']:,.1f} | {r['p50_ms']} "
        f"| {r['p99_ms']} | {r['errors']} | {r['in_process_ms']} |"
        for r in document["replica_against_primary"]
    ]
    fail = document["fail_over"]
    lines += [
        "",
        f"## The replica stopped and started under load ({fail['case']})",
        "",
        f"{fail['seconds']} s of load; the replica stopped at {fail['replica stopped at s']} s "
        f"and answered again at {fail['replica answering again at s']} s.",
        "",
        "| req/s | p50 ms | p99 ms | slowest ms | requests | errors | replica serves again |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | --- |",
        f"| {fail['requests_per_second']:,.1f} | {fail['p50_ms']} | {fail['p99_ms']} "
        f"| {fail['max_ms']} | {fail['requests']:,} | {fail['errors']} "
        f"| {'yes' if fail['replica serves again'] else 'no'} |",
        "",
        f"## Two app servers against one ({WORKERS} workers in all)",
        "",
        "| case | layout | req/s | p99 ms | errors | ÷ one server | target ≥ 90 % |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for r in document["two_servers_against_one"]:
        ratio = r.get("ratio_to_one_server")
        mark = "" if ratio is None else ("✓" if r["meets_target"] else "✗")
        lines.append(
            f"| {r['case']} | {r['layout']} | {r['requests_per_second']:,.1f} | {r['p99_ms']} "
            f"| {r['errors']} | {'' if ratio is None else f'{ratio:.2f}'} | {mark} |"
        )
    text = "\n".join(lines) + "\n"
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "replicas.md").write_text(text)
    (RESULTS_DIR / "replicas.json").write_text(json.dumps(document, indent=2) + "\n")
    return text


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.replicas", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--rows", type=int, default=10_000_000, help="Measurements to import.")
    parser.add_argument("--duration", type=int, default=10, help="Seconds per case.")
    parser.add_argument("--connections", type=int, default=16, help="Concurrent connections.")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    parent = Path(tempfile.mkdtemp(prefix="marketing-op-bench-replicas-"))
    script = write_script()
    primary: PostgresServer | None = None
    servers: StreamingReplica | None = None
    try:
        load = Load(ensure_wrk(), script, args.duration, args.connections)
        password = secrets.token_urlsafe(24)
        primary = primary_start(parent)
        data = build(primary.url(), args.rows, password)
        with primary.connect() as connection:
            connection.execute("VACUUM ANALYZE")
        servers = replica_start(primary, parent)
        servers.caught_up(timeout=600)
        document = {
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "machine": machine(),
            "data": data,
            "duration": args.duration,
            "connections": args.connections,
            "replica_against_primary": replica_against_primary(load, servers, password),
            "fail_over": fail_over(load, servers, password),
            "two_servers_against_one": two_servers_against_one(load, primary.url(), password),
        }
        print(write_results(document))
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        script.unlink(missing_ok=True)
        for server in (servers and servers.replica, primary):
            if server is not None and server.running():
                server.stop("immediate")
        shutil.rmtree(parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
