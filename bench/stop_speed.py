"""Stop speed: how long Ctrl-C takes to stop `marketing-op serve` and every worker.

On the demo dataset of ``bench.run`` (built there when missing), starts the server as
``make run`` does (default workers, its own process group, as a terminal's job), waits until
every worker has started, and sends SIGINT to the whole group, as a terminal's Ctrl-C does:
``BENCH_RUNS`` times idle, and as many times under load (wrk, 16 connections, on a monthly
report by channel computed each time, for a second before the signal and on until the
server is gone). Each run is timed from the signal until the server and every worker have
exited; the lines the server printed after the signal at level WARNING or ERROR, or with a
traceback, are counted.

Prints each run and the medians, and writes ``bench/results/stop_speed.{md,json}``.
Target: every stop within 2 s, with no warning or error line. ``make bench`` calls it; run
alone with ``python -m bench.stop_speed``.

    BENCH_RUNS   stops of each kind (default 3)
"""

from __future__ import annotations

import datetime
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.run import (
    COMMAND,
    DATA_DIR,
    DATASETS,
    RESULTS_DIR,
    WRK_SCRIPT,
    BenchError,
    Server,
    base_environment,
    bearer_token,
    ensure_dataset,
    ensure_wrk,
    free_port,
    log,
    wait_until_healthy,
)

TARGET_SECONDS = 2.0
LOAD_PATH = "/api/marketing/reports/?dimensions=channel&granularity=month&metrics=conversions"
CONNECTIONS = 16
BAD_LINE = re.compile(r"WARNING|ERROR|Traceback|refused to gracefully stop")


def group_members(group: int) -> list[int]:
    """The live (or not yet reaped) processes of a process group."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == group:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def workers_started(log_file: Path) -> tuple[int, int]:
    """(workers the banner announces, workers the log says have started)."""
    text = log_file.read_text(errors="replace")
    announced = re.search(r"\((\d+) workers?[;)(]", text)
    return (int(announced.group(1)) if announced else -1, text.count("Started worker-"))


def one_stop(environment: dict[str, str], password: str, under_load: bool) -> dict[str, Any]:
    port = free_port()
    log_file = DATA_DIR / "server-stop.log"
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    with log_file.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own command
            [COMMAND, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server("stop", f"http://127.0.0.1:{port}", process, log_file, "")
    load = None
    try:
        wait_until_healthy(server)
        deadline = time.monotonic() + 60
        while (found := workers_started(log_file))[1] < found[0]:
            if time.monotonic() > deadline:
                raise BenchError(f"the workers did not all start: {found}")
            time.sleep(0.05)
        if under_load:
            load = subprocess.Popen(  # noqa: S603
                [
                    ensure_wrk(),
                    "--threads=2",
                    f"--connections={CONNECTIONS}",
                    "--duration=60s",
                    f"--script={write_script()}",
                    server.base_url + LOAD_PATH,
                ],
                env={**os.environ, "BENCH_TOKEN": bearer_token(server, password)},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(1.0)
        printed = len(log_file.read_bytes())
        started = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)
        while group_members(process.pid):
            if time.monotonic() - started > 60:
                raise BenchError("a worker outlived the server by a minute")
            time.sleep(0.005)
        seconds = time.monotonic() - started
    finally:
        if load is not None:
            load.terminate()
            load.wait()
        if process.poll() is None or group_members(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    after = log_file.read_bytes()[printed:].decode(errors="replace").splitlines()
    return {
        "under_load": under_load,
        "workers": workers_started(log_file)[0],
        "seconds": round(seconds, 3),
        "exit_status": process.returncode,
        "bad_lines": [line for line in after if BAD_LINE.search(line)],
    }


def write_script() -> Path:
    script = DATA_DIR / "stop-speed.lua"
    script.write_text(WRK_SCRIPT)
    return script


def write_results(document: dict[str, Any]) -> str:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "stop_speed.json").write_text(json.dumps(document, indent=2) + "\n")
    lines = [
        "# Stop speed (Ctrl-C on `marketing-op serve`)",
        "",
        f"- date: {document['date']}",
        f"- SIGINT to the server's process group, as a terminal sends it; from the signal "
        f"until the server and its {document['workers']} workers have exited; under load: "
        f"wrk, {CONNECTIONS} connections on `{LOAD_PATH}` (demo dataset)",
        f"- target: every stop within {TARGET_SECONDS:g} s, no WARNING or ERROR line",
        "",
        "| load | runs (s) | median (s) | slowest (s) | exit | warning/error lines | target |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for kind in ("idle", "under load"):
        runs = [run for run in document["runs"] if run["under_load"] == (kind != "idle")]
        seconds = [run["seconds"] for run in runs]
        bad = sum(len(run["bad_lines"]) for run in runs)
        statuses = sorted({run["exit_status"] for run in runs})
        met = max(seconds) <= TARGET_SECONDS and bad == 0 and statuses == [0]
        lines.append(
            f"| {kind} | {', '.join(f'{value:.2f}' for value in seconds)} | "
            f"{statistics.median(seconds):.2f} | {max(seconds):.2f} | "
            f"{', '.join(map(str, statuses))} | {bad} | {'✓' if met else '✗'} |"
        )
    text = "\n".join(lines) + "\n"
    (RESULTS_DIR / "stop_speed.md").write_text(text)
    return text


def main() -> int:
    runs_per_kind = int(os.environ.get("BENCH_RUNS", "3"))
    password = secrets.token_urlsafe(24)
    dataset = DATASETS["demo"]
    try:
        ensure_dataset(dataset, rebuild=False, password=password)
        environment = base_environment(dataset)
        environment["LOG_LEVEL"] = "INFO"
        runs = []
        for _ in range(runs_per_kind):
            for under_load in (False, True):
                runs.append(one_stop(environment, password, under_load))
                log(f"stop: {runs[-1]}")
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    document = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "workers": runs[0]["workers"],
        "runs": runs,
    }
    print(write_results(document))
    return 0


if __name__ == "__main__":
    sys.exit(main())
