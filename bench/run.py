"""Load benchmark of the read endpoints: ``make bench`` or ``python -m bench.run``.

Builds (once, then keeps) one PostgreSQL database per dataset size through the demo
generator and the real import command, starts the service with its production server and
production settings, and drives each endpoint with wrk at a fixed number of connections for
a fixed time. Each endpoint's throughput is compared with GET /api/health/ on the same
server: the floor of the stack (HTTP server, Django, one trivial query).

Prints a table and writes bench/results/latest.md and latest.json. ``--compare-servers``
instead measures our ``serve`` (granian, configured) against granian's defaults on the demo
dataset and writes bench/results/servers.md and servers.json.

    BENCH_POSTGRES_URL  PostgreSQL server (default postgres://postgres@127.0.0.1:5432)
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from math import inf
from pathlib import Path
from types import FrameType
from typing import Any

from bench.in_process import REQUESTS as IN_PROCESS_REQUESTS

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
DATA_DIR = BENCH_DIR / "data"  # ignored by git: logs, build times, the granian venv
BUILDS_FILE = DATA_DIR / "builds.json"
SERVERS_VENV = DATA_DIR / "servers"
GUNICORN_DIR = DATA_DIR / "gunicorn"
"""gunicorn, installed here for ``--server gunicorn-sync`` only (not a project dependency)."""
SERVERS = {
    "serve": "`marketing-op serve` (granian, WSGI, one process per worker, two per core)",
    "gunicorn-sync": "gunicorn with sync workers, two per core (the server before granian)",
}
COMMAND = str(Path(sys.executable).with_name("marketing-op"))
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
REDIS_ADDRESS = ("127.0.0.1", 6379)

ORGANIZATION = "bench"
USERNAME = "bench"
USERS = 16
"""wrk's requests go round the tokens of this many users of the organisation, so that the
per-user limits (``REPORTS_PER_USER``, ``USER_RATE_LIMIT_PER_MINUTE``) do not set the pace:
the targets measure the service, as many users of one organisation meet it."""
HEAVY_REPORTS = 8
HEALTH_UNDER_HEAVY_MS = 1000.0
SEED = 7
PAGE_SIZE = 100  # the largest page the API serves
TARGET_SIZE = "10m"  # targets are judged on this dataset only
MEASUREMENT_P99_MS = 50.0
STATS_P99_MS = 100.0
STATS_MIN_RATIO = 0.5
REPORT_P99_MS = 100.0
CAMPAIGN_REPORT_P99_MS = 300.0
WRK_TIMEOUT = "10s"  # slower answers count as errors
WARM_UP_TIMEOUT = 60.0


@dataclass(frozen=True)
class Dataset:
    size: str
    rows: int

    @property
    def database(self) -> str:
        return f"marketing_op_bench_{self.size}"

    @property
    def url(self) -> str:
        return f"{POSTGRES_URL}/{self.database}"


DATASETS = {
    "demo": Dataset("demo", 26_000),
    "1m": Dataset("1m", 1_000_000),
    "10m": Dataset("10m", 10_000_000),
}


@dataclass(frozen=True)
class Case:
    endpoint: str  # the path, e.g. /api/marketing/measurements/
    name: str
    query: dict[str, str] = field(default_factory=dict)
    target: str = ""

    @property
    def path(self) -> str:
        return self.endpoint + (f"?{urllib.parse.urlencode(self.query)}" if self.query else "")


@dataclass
class Result:
    dataset: str
    endpoint: str
    case: str
    path: str
    requests_per_second: float
    p50_ms: float | None  # None when no request finished within the case
    p99_ms: float | None
    errors: int
    non_2xx: int
    socket_errors: int
    requests: int
    ratio: float | None = None
    target: str = ""
    meets_target: bool | None = None
    answers: str = "cached"  # "computed": the server's answer cache was off
    # The first request after a new data version (every cache cold): median and slowest
    # of COLD_RUNS, one at a time; measured on the computed server.
    first_after_import_ms: float | None = None
    first_after_import_max_ms: float | None = None
    # GET /api/health/ on the same server just before the case (half its duration): the
    # floor that the case's ratio divides by, so that the machine's drift during a run
    # does not move the ratio.
    floor_requests_per_second: float | None = None
    # The median of the case's request inside one process, without HTTP or load
    # (bench/in_process.py); measured with the computed server's settings.
    in_process_ms: float | None = None


class BenchError(Exception):
    """A step of the benchmark failed; the message says which and why."""


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --- tools -------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """The path of wrk, installed from Debian's packages when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise BenchError("wrk is not installed: run `sudo apt-get install -y wrk` and retry.")
    log("installing wrk (apt-get install -y wrk)")
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if quiet_run(install) != 0:
        quiet_run(["apt-get", "update", "-q"])
        quiet_run(install)
    found = shutil.which("wrk")
    if not found:
        raise BenchError("could not install wrk; install it with `apt-get install -y wrk`.")
    return found


def quiet_run(command: list[str]) -> int:
    completed = subprocess.run(  # noqa: S603
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return completed.returncode


def psql(database: str, sql: str) -> str:
    """One SQL statement through psql; its output, unaligned and without headers."""
    completed = subprocess.run(  # noqa: S603
        ["psql", f"{POSTGRES_URL}/{database}", "-XAtq", "-v", "ON_ERROR_STOP=1", "-c", sql],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchError(f"psql on {database} failed: {completed.stderr.strip()}")
    return completed.stdout.strip()


def base_environment(dataset: Dataset) -> dict[str, str]:
    """Production settings for the commands and the server, with a throwaway secret key."""
    environment = dict(os.environ)
    for name in (
        "DEBUG",
        "PORT",
        "HOST",
        "WEB_WORKERS",
        "REDIS_URL",
        "CACHE_LOCATION",
        "ANSWER_CACHE_SECONDS",
    ):
        environment.pop(name, None)
    environment.update(
        {
            "MARKETING_OP_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "DATABASE_URL": dataset.url,
            "RATE_LIMIT_PER_MINUTE": "100000000",
            "CACHE_KEY_PREFIX": f"marketing_op_bench_{dataset.size}",
            "LOG_LEVEL": "WARNING",
        }
    )
    if redis_answers():
        environment["REDIS_URL"] = "redis://{}:{}/0".format(*REDIS_ADDRESS)
    return environment


def redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS_ADDRESS, timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def marketing_op(args: Sequence[str], environment: dict[str, str]) -> None:
    completed = subprocess.run(  # noqa: S603 - our own command
        [COMMAND, *args], env=environment, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise BenchError(f"marketing-op {' '.join(args)} failed:\n{completed.stderr.strip()}")


# --- datasets ----------------------------------------------------------------------------------


def database_exists(dataset: Dataset) -> bool:
    sql = f"SELECT 1 FROM pg_database WHERE datname = '{dataset.database}'"  # noqa: S608 - ours
    return psql("postgres", sql) == "1"


def measurement_count(dataset: Dataset) -> int:
    return int(psql(dataset.database, "SELECT count(*) FROM measurements_measurement"))


def load_builds() -> dict[str, Any]:
    if BUILDS_FILE.exists():
        return dict(json.loads(BUILDS_FILE.read_text()))
    return {}


def ensure_dataset(dataset: Dataset, *, rebuild: bool, password: str) -> dict[str, Any]:
    """Migrate the dataset's database, build it when it lacks its rows, set the password."""
    environment = base_environment(dataset)
    if rebuild and database_exists(dataset):
        log(f"{dataset.size}: dropping {dataset.database} (--rebuild)")
        psql("postgres", f'DROP DATABASE "{dataset.database}" WITH (FORCE)')
    if not database_exists(dataset):
        psql("postgres", f'CREATE DATABASE "{dataset.database}"')
    marketing_op(["migrate", "--no-input", "-v", "0"], environment)
    count = measurement_count(dataset)
    builds = load_builds()
    built_now = False
    if count != dataset.rows:
        if count:
            log(f"{dataset.size}: {count:,} rows instead of {dataset.rows:,}; rebuilding")
            psql("postgres", f'DROP DATABASE "{dataset.database}" WITH (FORCE)')
            psql("postgres", f'CREATE DATABASE "{dataset.database}"')
            marketing_op(["migrate", "--no-input", "-v", "0"], environment)
        builds[dataset.size] = build_dataset(dataset, environment)
        built_now = True
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        BUILDS_FILE.write_text(json.dumps(builds, indent=2) + "\n")
    started = time.monotonic()
    psql(dataset.database, "VACUUM ANALYZE")
    vacuum_seconds = time.monotonic() - started
    environment["MARKETING_OP_PASSWORD"] = password
    environment["BENCH_USERNAME"] = USERNAME
    marketing_op(["shell", "-c", RESET_LOGIN_CODE], environment)
    return {
        "rows": dataset.rows,
        "database": dataset.database,
        "built_this_run": built_now,
        "build": builds.get(dataset.size),
        "vacuum_analyze_seconds": round(vacuum_seconds, 1),
    }


# The password is random per run: nothing secret is kept between runs or in the repository.
# The users bench-2 ... bench-16 of the same organisation are made when missing.
RESET_LOGIN_CODE = (
    "import os; from marketing_op.accounts.models import User; "
    "first = User.objects.get(username=os.environ['BENCH_USERNAME']); "
    f"names = [first.username] + [f'{{first.username}}-{{n}}' for n in range(2, {USERS} + 1)]; "
    "users = [User.objects.get_or_create(username=name, "
    "defaults={'organization': first.organization})[0] for name in names]; "
    "[user.set_password(os.environ['MARKETING_OP_PASSWORD']) or user.save() for user in users]"
)


def build_dataset(dataset: Dataset, environment: dict[str, str]) -> dict[str, Any]:
    """Organisation, user, and `generate-demo | import -`; the wall time of each step."""
    log(f"{dataset.size}: building {dataset.rows:,} rows in {dataset.database}")
    marketing_op(["create-organization", ORGANIZATION], environment)
    user_environment = {**environment, "MARKETING_OP_PASSWORD": secrets.token_urlsafe(24)}
    marketing_op(
        ["create-user", "--organization", ORGANIZATION, "--username", USERNAME], user_environment
    )
    started = time.monotonic()
    generate = subprocess.Popen(  # noqa: S603 - our own command
        [COMMAND, "generate-demo", "--rows", str(dataset.rows), "--seed", str(SEED)],
        env=environment,
        stdout=subprocess.PIPE,
    )
    load = subprocess.Popen(  # noqa: S603 - our own command
        [COMMAND, "import", "-", "--organization", ORGANIZATION, "--no-progress"],
        env=environment,
        stdin=generate.stdout,
        stdout=subprocess.PIPE,
        text=True,
    )
    if generate.stdout is not None:
        generate.stdout.close()  # the import owns the pipe; generate sees EPIPE if it stops
    output, _ = load.communicate()
    if generate.wait() != 0 or load.returncode != 0:
        raise BenchError(f"{dataset.size}: generate-demo | import failed: {output.strip()}")
    seconds = time.monotonic() - started
    count = measurement_count(dataset)
    if count != dataset.rows:
        raise BenchError(f"{dataset.size}: imported {count:,} rows, expected {dataset.rows:,}")
    log(f"{dataset.size}: built in {seconds:.0f} s ({dataset.rows / seconds:,.0f} rows/s)")
    return {
        "seconds": round(seconds, 1),
        "rows_per_second": round(dataset.rows / seconds),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "import_output": output.strip(),
    }


# --- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http_get(
    url: str, headers: dict[str, str] | None = None, timeout: float = 120.0
) -> tuple[int, dict[str, str], Any]:
    """Status, headers and JSON body (None when not JSON) of one GET."""
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 - http://127.0.0.1
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, header_map, raw = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, header_map, raw = error.code, dict(error.headers), error.read()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    return status, header_map, body


@dataclass
class Server:
    name: str
    base_url: str
    process: subprocess.Popen[bytes]
    log_file: Path
    database: str


@contextmanager
def running_server(
    name: str, command: list[str], environment: dict[str, str], port: int, database: str
) -> Iterator[Server]:
    """Start a server in its own process group, wait for /api/health/, stop it at the end."""
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    log_file = DATA_DIR / f"server-{name}.log"
    with log_file.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own command
            command,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
        )
    server = Server(name, f"http://127.0.0.1:{port}", process, log_file, database)
    try:
        wait_until_healthy(server)
        yield server
    finally:
        stop(process)


def wait_until_healthy(server: Server, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            tail = server.log_file.read_text(errors="replace")[-2000:]
            raise BenchError(f"{server.name} exited with {server.process.returncode}:\n{tail}")
        try:
            if http_get(f"{server.base_url}/api/health/", timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise BenchError(f"{server.name} did not answer /api/health/ within {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def serve_command(port: int, server_kind: str = "serve") -> list[str]:
    """The command of the server under test: ours, or gunicorn's sync workers, so that code
    can be compared with runs made before the server changed, on the same server."""
    if server_kind == "serve":
        # Two workers per core, as every figure before serve's default became one per core.
        workers = str(2 * (os.cpu_count() or 1))
        return [COMMAND, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", workers]
    if not (GUNICORN_DIR / "gunicorn").exists():
        log(f"installing gunicorn into {GUNICORN_DIR.relative_to(ROOT)}")
        pip = [sys.executable, "-m", "pip", "install", "--quiet", "--target", str(GUNICORN_DIR)]
        subprocess.run([*pip, "gunicorn"], check=True)  # noqa: S603
    workers = str(2 * (os.cpu_count() or 1))
    return [
        "env",
        f"PYTHONPATH={GUNICORN_DIR}",
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        workers,
        "--worker-class",
        "sync",
        "--backlog",
        "2048",
        "marketing_op.config.wsgi:application",
    ]


def drain(database: str, quiet_seconds: float = 1.0, timeout: float = 120.0) -> None:
    """Cancel the queries of requests that wrk gave up on, so that cases do not overlap.

    The server goes on with requests whose client left (Django does not notice), which
    would slow the next case down; their queries are cancelled until the database is idle.
    """
    sql = (
        "SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity "  # noqa: S608 - ours
        f"WHERE datname = '{database}' AND state = 'active' AND pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + timeout
    idle_since: float | None = None
    while time.monotonic() < deadline:
        if int(psql("postgres", sql)) == 0:
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since >= quiet_seconds:
                return
        else:
            idle_since = None
        time.sleep(0.1)
    log(f"warning: {database} still busy after {timeout:.0f} s")


def bench_usernames() -> list[str]:
    return [USERNAME] + [f"{USERNAME}-{number}" for number in range(2, USERS + 1)]


def bearer_tokens(server: Server, password: str) -> str:
    """The tokens of the ``USERS`` users, comma-separated, as wrk's script takes them."""
    return ",".join(bearer_token(server, password, name) for name in bench_usernames())


def bearer_token(server: Server, password: str, username: str = USERNAME) -> str:
    credentials = base64.b64encode(f"{username}:{password}".encode()).decode()
    status, _, body = http_get(
        f"{server.base_url}/api/auth/token/", {"Authorization": f"Basic {credentials}"}
    )
    if status != 200 or not body:
        raise BenchError(f"GET /api/auth/token/ answered {status}: {body}")
    return str(body["data"]["token"])


# --- wrk ---------------------------------------------------------------------------------------

WRK_SCRIPT = r"""
local tokens = {}
for token in string.gmatch(os.getenv("BENCH_TOKENS") or "", "[^,]+") do
  table.insert(tokens, "Bearer " .. token)
end
local turn = 0
if #tokens > 0 then
  -- each request with the next user's token
  request = function()
    turn = turn % #tokens + 1
    return wrk.format(nil, nil, {Authorization = tokens[turn]})
  end
end
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  non2xx = 0
end
function response(status, headers, body)
  if status < 200 or status > 299 then
    non2xx = non2xx + 1
  end
end
function done(summary, latency, requests)
  local bad = 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non2xx") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, '
    .. '"max_us": %d, "non_2xx": %d, "connect": %d, "read": %d, "write": %d, '
    .. '"timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, bad, e.connect, e.read, e.write, e.timeout))
end
"""


@dataclass(frozen=True)
class Load:
    wrk: str
    script: Path
    duration: int
    connections: int

    def run(self, url: str, token: str) -> dict[str, Any]:
        threads = max(1, min(self.connections, os.cpu_count() or 1))
        command = [
            self.wrk,
            f"--threads={threads}",
            f"--connections={self.connections}",
            f"--duration={self.duration}s",
            f"--timeout={WRK_TIMEOUT}",
            f"--script={self.script}",
            url,
        ]
        completed = subprocess.run(  # noqa: S603
            command,
            env={**os.environ, "BENCH_TOKENS": token},
            capture_output=True,
            text=True,
            check=False,
        )
        match = re.search(r"^BENCH_JSON (\{.*\})$", completed.stdout, re.MULTILINE)
        if completed.returncode != 0 or not match:
            raise BenchError(f"wrk failed on {url}:\n{completed.stdout}{completed.stderr}")
        return dict(json.loads(match.group(1)))


def measure(load: Load, server: Server, dataset: str, case: Case, tokens: str) -> Result:
    """``tokens``: the users' tokens, comma-separated; wrk goes round them."""
    url = server.base_url + case.path
    token = tokens.split(",")[0]
    try:
        status, _, body = http_get(url, {"Authorization": f"Bearer {token}"}, WARM_UP_TIMEOUT)
        if status != 200:
            log(f"warning: {case.path} answered {status} on warm-up: {body}")
    except TimeoutError:
        log(f"warning: {case.path} took over {WARM_UP_TIMEOUT:.0f} s on warm-up")
    drain(server.database)
    numbers = load.run(url, tokens if case.endpoint != HEALTH else "")
    drain(server.database)
    socket_errors = sum(numbers[key] for key in ("connect", "read", "write", "timeout"))
    seconds = numbers["duration_us"] / 1e6
    result = Result(
        dataset=dataset,
        endpoint=case.endpoint,
        case=case.name,
        path=case.path,
        requests_per_second=round(numbers["requests"] / seconds, 1),
        p50_ms=round(numbers["p50_us"] / 1000, 2) if numbers["p99_us"] else None,
        p99_ms=round(numbers["p99_us"] / 1000, 2) if numbers["p99_us"] else None,
        errors=numbers["non_2xx"] + socket_errors,
        non_2xx=numbers["non_2xx"],
        socket_errors=socket_errors,
        requests=numbers["requests"],
        target=case.target,
    )
    log(
        f"{dataset:>4} {case.endpoint:<45} {case.name:<22} "
        f"{result.requests_per_second:8.1f} req/s  p50 {milliseconds(result.p50_ms):>8} ms  "
        f"p99 {milliseconds(result.p99_ms):>8} ms  errors {result.errors}"
    )
    return result


# --- the cases ---------------------------------------------------------------------------------

HEALTH = "/api/health/"
MEASUREMENTS = "/api/marketing/measurements/"
SHARES = "/api/marketing/stats/channel-sales-percentages/"
WEEKLY = "/api/marketing/stats/channel-weekly-sales/"
REPORTS = "/api/marketing/reports/"
REPORT_METRICS = "conversions,spend,roas"
MEASUREMENT_TARGET = f"p99 ≤ {MEASUREMENT_P99_MS:g} ms"
STATS_TARGET = f"p99 ≤ {STATS_P99_MS:g} ms, ≥ {STATS_MIN_RATIO:.0%} of floor"


def three_months(first: datetime.date, last: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Three whole calendar months in the middle of the data."""
    middle = first + (last - first) / 2
    start = middle.replace(day=1)
    month = start.month - 1 + 3
    after = datetime.date(start.year + month // 12, month % 12 + 1, 1)
    return start, min(after - datetime.timedelta(days=1), last)


def build_cases(server: Server, token: str) -> list[Case]:
    status, _, body = http_get(
        f"{server.base_url}/api/marketing/dimensions/", {"Authorization": f"Bearer {token}"}
    )
    if status != 200:
        raise BenchError(f"GET /api/marketing/dimensions/ answered {status}: {body}")
    dimensions = body["data"]
    product = dimensions["products"][0]
    channel = "tv" if "tv" in dimensions["channels"] else dimensions["channels"][0]
    start, end = three_months(
        datetime.date.fromisoformat(dimensions["first_date"]),
        datetime.date.fromisoformat(dimensions["last_date"]),
    )
    page = {"page_size": str(PAGE_SIZE)}
    filters = {
        "unfiltered": {},
        f"channels={channel}": {"channels": channel},
        f"products={product}": {"products": product},
        f"{start:%Y-%m}..{end:%Y-%m}": {
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
        },
    }
    cases = [Case(HEALTH, "floor")]
    for name, query in filters.items():
        label = "first page" if name == "unfiltered" else name
        cases.append(Case(MEASUREMENTS, label, {**query, **page}, MEASUREMENT_TARGET))
    for offset in (10_000, 100_000):
        query = {"offset": str(offset), **page}
        cases.append(Case(MEASUREMENTS, f"offset={offset:,}", query, MEASUREMENT_TARGET))
    cases += cursor_cases(server, token)
    for name, query in filters.items():
        cases.append(Case(SHARES, name, {**query, **page}, STATS_TARGET))
    for name, query in filters.items():
        cases.append(Case(WEEKLY, name, {**query, **page}, STATS_TARGET))
    cases.append(Case(WEEKLY, "offset=1,000", {"offset": "1000", **page}, STATS_TARGET))
    first = datetime.date.fromisoformat(dimensions["first_date"])
    last = datetime.date.fromisoformat(dimensions["last_date"])
    return cases + report_cases(first, last)


REPORT_SHAPES = (
    ("product", "day", False),
    ("product", "month", True),
    ("campaign_type", "week", False),
    ("campaign_type", "quarter", True),
    ("channel", "week", True),
    ("channel", "year", False),
    ("channel", "total", True),
    ("channel", "day", True),
    ("campaign", "month", False),
)
"""(dimension, granularity, compared with the year before): each dimension of the target at
each granularity, half of them with a comparison, and campaigns per month."""


def report_cases(first: datetime.date, last: datetime.date) -> list[Case]:
    """Reports over the whole range of the data, as a dashboard asks for them; by campaign,
    over the last twelve months (every campaign of the whole range, per filled month, is
    more than the 100,000 rows a report may have)."""
    cases = []
    year = (last.replace(day=1) - datetime.timedelta(days=335)).replace(day=1)
    for dimension, granularity, compared in REPORT_SHAPES:
        query = {
            "dimensions": dimension,
            "granularity": granularity,
            "metrics": REPORT_METRICS,
            "start_date": (year if dimension == "campaign" else first).isoformat(),
            "end_date": last.isoformat(),
            "page_size": str(PAGE_SIZE),
        }
        if compared:
            query["compare"] = "previous_year"
        limit = CAMPAIGN_REPORT_P99_MS if dimension == "campaign" else REPORT_P99_MS
        name = f"{dimension} by {granularity}" + (", previous year" if compared else "")
        cases.append(Case(REPORTS, name, query, f"p99 ≤ {limit:g} ms"))
    return cases


def cursor_cases(server: Server, token: str) -> list[Case]:
    """Keyset pages, when the API has them: after the first page, and after row 100,000."""
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{server.base_url}{MEASUREMENTS}?page_size={PAGE_SIZE}"
    if http_get(f"{base}&cursor=bench-probe", headers)[0] == 422:
        log("the measurements list answers 422 to ?cursor: no keyset cases")
        return []
    cases = []
    for name, url in (("cursor page 2", base), ("cursor after 100,000", f"{base}&offset=100000")):
        status, response_headers, body = http_get(url, headers)
        cursor = next_cursor(body, response_headers.get("Link", "")) if status == 200 else None
        if cursor is None:
            continue
        query = {"cursor": cursor, "page_size": str(PAGE_SIZE)}
        if http_get(f"{base}&{urllib.parse.urlencode({'cursor': cursor})}", headers)[0] == 200:
            cases.append(Case(MEASUREMENTS, name, query, MEASUREMENT_TARGET))
    if not cases:
        log("the measurements list offers no cursor (ignores ?cursor): no keyset cases")
    return cases


def next_cursor(body: Any, link: str) -> str | None:
    meta = body.get("meta", {}) if isinstance(body, dict) else {}
    for key in ("next_cursor", "cursor"):
        if isinstance(meta.get(key), str) and meta[key]:
            return str(meta[key])
    match = re.search(r'<([^>]*)>\s*;\s*rel="next"', link)
    if match:
        values = urllib.parse.parse_qs(urllib.parse.urlsplit(match.group(1)).query)
        if values.get("cursor"):
            return values["cursor"][0]
    return None


def judge(result: Result, floor: float) -> None:
    result.ratio = round(result.requests_per_second / floor, 3) if floor else None
    if result.dataset != TARGET_SIZE or not result.target:
        return
    if result.endpoint == HEALTH:
        result.meets_target = result.errors == 0 and (result.p99_ms or inf) <= HEALTH_UNDER_HEAVY_MS
    elif result.endpoint == MEASUREMENTS:
        result.meets_target = result.errors == 0 and (result.p99_ms or inf) <= MEASUREMENT_P99_MS
    elif result.endpoint == REPORTS:
        limit = CAMPAIGN_REPORT_P99_MS if "dimensions=campaign&" in result.path else REPORT_P99_MS
        result.meets_target = result.errors == 0 and (result.p99_ms or inf) <= limit
    else:
        result.meets_target = (
            result.errors == 0
            and (result.p99_ms or inf) <= STATS_P99_MS
            and (result.ratio or 0) >= STATS_MIN_RATIO
        )


def heavy_report_path(number: int) -> str:
    """A report as costly as one request may ask for: every day of 274 years (just under the
    100,000 rows a report may have), compared, every metric, ordered by each; a start of
    its own, so that no answer is cached."""
    start = datetime.date(1900, 1, 1) + datetime.timedelta(days=number)
    query = {
        "granularity": "day",
        "start_date": start.isoformat(),
        "end_date": (start + datetime.timedelta(days=99_990)).isoformat(),
        "compare": "previous_period",
        "metrics": "conversions,measurements,share,spend,roas,cpa",
        "order_by": "-conversions,measurements,-share,spend,-roas,cpa,-period",
        "page_size": "10",
    }
    return f"{REPORTS}?{urllib.parse.urlencode(query)}"


def health_under_heavy_reports(server: Server, dataset: str, token: str) -> Result:
    """GET /api/health/, one at a time, while one user sends ``HEAVY_REPORTS`` heavy reports
    at once (those beyond the user's limit wait, then get 429): how long health waits."""
    headers = {"Authorization": f"Bearer {token}"}
    statuses: list[int] = []
    first = time.time_ns() // 1000 % 20_000  # a new start each run: nothing cached
    paths = [heavy_report_path(first + number) for number in range(HEAVY_REPORTS)]

    def heavy(path: str) -> None:
        try:
            statuses.append(http_get(server.base_url + path, headers, WARM_UP_TIMEOUT)[0])
        except (TimeoutError, OSError):
            statuses.append(0)

    threads = [threading.Thread(target=heavy, args=(path,)) for path in paths]
    for thread in threads:
        thread.start()
    waits = []
    started = time.monotonic()
    while any(thread.is_alive() for thread in threads) and time.monotonic() - started < 120:
        before = time.monotonic()
        try:
            status = http_get(f"{server.base_url}{HEALTH}", timeout=30)[0]
        except (TimeoutError, OSError):
            status = 0
        waits.append((time.monotonic() - before) * 1000)
        if status != 200:
            waits[-1] = inf
        time.sleep(0.1)
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    finite = sorted(wait for wait in waits if wait != inf)
    result = Result(
        dataset=dataset,
        endpoint=HEALTH,
        case=f"under {HEAVY_REPORTS} heavy reports",
        path=HEALTH,
        requests_per_second=round(len(waits) / seconds, 1) if seconds else 0.0,
        p50_ms=round(statistics.median(finite), 2) if finite else None,
        p99_ms=round(max(finite), 2) if finite else None,
        errors=len(waits) - len(finite),
        non_2xx=len(waits) - len(finite),
        socket_errors=0,
        requests=len(waits),
        target=f"max ≤ {HEALTH_UNDER_HEAVY_MS:g} ms",
    )
    log(
        f"{dataset:>4} {HEALTH:<45} {result.case:<22} health max "
        f"{milliseconds(result.p99_ms)} ms, median {milliseconds(result.p50_ms)} ms over "
        f"{len(waits)} checks; reports answered {sorted(statuses)}"
    )
    return result


COLD_RUNS = 5
NEW_DATA_VERSION = (
    "UPDATE accounts_organization SET data_version = data_version + 1 "  # noqa: S608 - ours
    f"WHERE id = (SELECT organization_id FROM accounts_user WHERE username = '{USERNAME}')"
)


def first_after_import(server: Server, dataset: Dataset, case: Case, token: str) -> list[float]:
    """Milliseconds of the case's first request after each of ``COLD_RUNS`` new data
    versions: what an import does to every cache (answers, per-data-version values and the
    workers' copies, whose keys hold the version), without changing the rows."""
    times = []
    for _ in range(COLD_RUNS):
        psql(dataset.database, NEW_DATA_VERSION)
        started = time.perf_counter()
        headers = {"Authorization": f"Bearer {token}"}
        status, _, body = http_get(server.base_url + case.path, headers)
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise BenchError(f"{case.path} answered {status} after a new data version: {body}")
    return times


def bench_dataset(
    load: Load,
    dataset: Dataset,
    password: str,
    answers: str,
    server_kind: str = "serve",
    endpoints: Sequence[str] = (),
) -> list[Result]:
    """Every case on one server (or those of ``endpoints``, by a part of their path, and the
    floor). ``answers`` "computed" switches the answer cache off, so that every request runs
    its queries (the selectors' per-data-version values stay cached), and times each case's
    first request after a new data version."""
    port = free_port()
    environment = base_environment(dataset)
    if answers == "computed":
        environment["ANSWER_CACHE_SECONDS"] = "0"
    name = f"serve-{dataset.size}-{answers}"
    command = serve_command(port, server_kind)
    with running_server(name, command, environment, port, dataset.database) as server:
        tokens = bearer_tokens(server, password)
        token = tokens.split(",")[0]
        cases = [
            case
            for case in build_cases(server, token)
            if case.endpoint == HEALTH
            or not endpoints
            or any(name in case.endpoint for name in endpoints)
        ]
        floor_load = replace(load, duration=max(2, load.duration // 2))
        results = []
        for case in cases:
            cold = []
            floor = None
            if case.endpoint != HEALTH:
                if answers == "computed":
                    cold = first_after_import(server, dataset, case, token)
                floor = measure(floor_load, server, dataset.size, cases[0], tokens)
            results.append(measure(load, server, dataset.size, case, tokens))
            if floor:
                results[-1].floor_requests_per_second = floor.requests_per_second
            if cold:
                results[-1].first_after_import_ms = round(statistics.median(cold), 1)
                results[-1].first_after_import_max_ms = round(max(cold), 1)
        if not endpoints or any(name in HEALTH or name in REPORTS for name in endpoints):
            results.append(health_under_heavy_reports(server, dataset.size, token))
    if answers == "computed":
        in_process = in_process_medians(environment, token, [case.path for case in cases])
        for result in results:
            result.in_process_ms = in_process[result.path]
    for result in results:
        result.answers = answers
        judge(result, result.floor_requests_per_second or results[0].requests_per_second)
    return results


def in_process_medians(environment: dict[str, str], token: str, paths: list[str]) -> dict:
    """The median milliseconds of each path inside one process (see bench/in_process.py),
    with the given server environment."""
    log(f"in-process medians of {len(paths)} cases")
    completed = subprocess.run(
        [sys.executable, "-m", "bench.in_process"],
        input=json.dumps({"token": token, "paths": paths}),
        env=environment,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise BenchError(f"bench/in_process.py failed:\n{completed.stderr[-2000:]}")
    return dict(json.loads(completed.stdout))


# --- the server comparison ---------------------------------------------------------------------


def granian_path() -> Path:
    """granian in a throwaway venv under bench/data/servers (not a project dependency)."""
    granian = SERVERS_VENV / "bin" / "granian"
    if not granian.exists():
        log(f"installing granian into {SERVERS_VENV.relative_to(ROOT)}")
        subprocess.run([sys.executable, "-m", "venv", str(SERVERS_VENV)], check=True)  # noqa: S603
        pip = [str(SERVERS_VENV / "bin" / "pip"), "install", "--quiet", "granian"]
        subprocess.run(pip, check=True)  # noqa: S603
    return granian


def compare_servers(load: Load, password: str, workers: int) -> dict[str, Any]:
    """Our server (granian as ``marketing-op serve`` configures it) against granian's defaults."""
    dataset = DATASETS["demo"]
    ensure_dataset(dataset, rebuild=False, password=password)
    granian = granian_path()
    environment = base_environment(dataset)
    environment["WEB_WORKERS"] = str(workers)
    python_path = [str(ROOT / "src"), sysconfig.get_paths()["purelib"]]
    granian_environment = {**environment, "PYTHONPATH": os.pathsep.join(python_path)}
    serve_port, granian_port = free_port(), free_port()
    granian_command = [
        str(granian),
        "--interface=wsgi",
        f"--workers={workers}",
        "--host=127.0.0.1",
        f"--port={granian_port}",
        "marketing_op.config.wsgi:application",
    ]
    servers = [
        ("serve (granian, configured)", serve_command(serve_port), environment, serve_port),
        ("granian-wsgi", granian_command, granian_environment, granian_port),
    ]
    rows = []
    for name, command, server_environment, port in servers:
        with running_server(name, command, server_environment, port, dataset.database) as server:
            token = bearer_tokens(server, password)
            for case in (Case(HEALTH, "floor"), Case(SHARES, "unfiltered", {"page_size": "100"})):
                result = measure(load, server, dataset.size, case, token)
                rows.append({"server": name, **asdict(result)})
    return {"workers": workers, "dataset": dataset.size, "results": rows}


# --- reports -----------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        cpu = match.group(1).strip() if match else ""
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)  # noqa: S607
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "postgresql": psql("postgres", "SHOW server_version"),
        "python": sys.version.split()[0],
        "wrk": (wrk.stdout or wrk.stderr).split(" Copyright")[0].strip(),
        "redis": redis_answers(),
        "code": code_version(),
    }


def code_version() -> str:
    """The commit, and how many files the working tree changes on top of it."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)  # noqa: S603
    status = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True)  # noqa: S603
    changed = len([line for line in status.stdout.splitlines() if line.strip()])
    return f"{head.stdout.strip() or 'unknown'} + {changed} changed files"


def milliseconds(value: float | None) -> str:
    return "none done" if value is None else f"{value:,.1f}"


def per_second(value: float) -> str:
    return f"{value:,.1f}" if value < 10 else f"{value:,.0f}"


def floor_of(result: Result) -> str:
    floor = result.floor_requests_per_second
    return "" if floor is None else per_second(floor)


def cold_times(result: Result) -> str:
    if result.first_after_import_ms is None:
        return ""
    return f"{result.first_after_import_ms:,.1f} ({result.first_after_import_max_ms:,.1f})"


def mark(value: bool | None) -> str:
    return "-" if value is None else ("✓" if value else "✗")


def results_table(results: list[Result]) -> list[str]:
    lines = [
        "| dataset | answers | endpoint | case | req/s | p50 ms | p99 ms | errors | floor "
        "| ÷ floor | target | met | first after import ms (max) | in-process ms |",
        "|---|---|---|---|--:|--:|--:|--:|--:|--:|---|:-:|--:|--:|",
    ]
    for result in results:
        endpoint = result.endpoint.removeprefix("/api/marketing/").removeprefix("/api")
        ratio = "" if result.ratio is None else f"{result.ratio:.2f}"
        lines.append(
            f"| {result.dataset} | {result.answers} | {endpoint} | {result.case} "
            f"| {per_second(result.requests_per_second)} | {milliseconds(result.p50_ms)} "
            f"| {milliseconds(result.p99_ms)} | {result.errors} "
            f"| {floor_of(result)} | {ratio} "
            f"| {result.target} | {mark(result.meets_target)} | {cold_times(result)} "
            f"| {'' if result.in_process_ms is None else f'{result.in_process_ms:.2f}'} |"
        )
    return lines


def header(title: str, about: dict[str, Any], args: argparse.Namespace) -> list[str]:
    return [
        f"# {title}",
        "",
        f"- date: {datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')}",
        f"- machine: {about['nproc']} CPU(s), {about['cpu']}; PostgreSQL {about['postgresql']}; "
        f"Python {about['python']}; {about['wrk']}; Redis: {'yes' if about['redis'] else 'no'}",
        f"- code: {about.get('code', 'unknown')}",
        f"- load: wrk, {args.connections} connections, {args.duration} s per case, "
        f"client on the same machine as the server and PostgreSQL",
    ]


def write_results(
    results: list[Result], datasets: dict[str, Any], about: dict[str, Any], args: argparse.Namespace
) -> str:
    lines = header("Marketing OP load benchmark", about, args)
    lines += [
        f"- server: {SERVERS[args.server]}, MARKETING_OP_ENV=production",
        "- answers: `cached` is the production setting (an answer is computed once per URL and "
        "data version, then read from Redis); `computed` runs the same cases on a server with "
        "ANSWER_CACHE_SECONDS=0, so that every request runs its queries; values computed once "
        "per data version (rows per day, the weekly sales list, channel totals) "
        "stay cached there, so `first after import` gives, for each case, the median and the "
        f"slowest of {COLD_RUNS} first requests after a new data version (every cache cold), "
        "one at a time, timed by the client",
        f"- in-process ms (computed rows): the median of {IN_PROCESS_REQUESTS} requests of the "
        "case through Django's test client in one process with the computed server's settings "
        "(bench/in_process.py): no HTTP server, no load, no connection health check",
        f"- pages: page_size={PAGE_SIZE} on every list case; ÷ floor is req/s divided by "
        "the req/s of GET /api/health/ on the same server, measured for half as long just "
        "before the case (`floor` column), so that the machine's drift during a run moves "
        "both alike; the `/health/` row is the server's first floor",
        f"- targets are judged on the {TARGET_SIZE} dataset only (- elsewhere); "
        "errors are non-2xx answers plus socket errors; requests still running when a case "
        "ends are not counted (wrk), and 'none done' means no answer within the case; "
        "p50/p99 of slow cases describe the few requests that finished",
        "",
        "| dataset | rows | build | VACUUM ANALYZE | load average before |",
        "|---|--:|---|--:|--:|",
    ]
    for size, info in datasets.items():
        build = info.get("build") or {}
        built = (
            f"{build['seconds']:.0f} s ({build['rows_per_second']:,} rows/s)"
            + (" this run" if info["built_this_run"] else f", {build.get('date', '')}")
            if build
            else "kept"
        )
        lines.append(
            f"| {size} | {info['rows']:,} | {built} | {info['vacuum_analyze_seconds']} s "
            f"| {info.get('load_average_before', '')} |"
        )
    lines += ["", *results_table(results), ""]
    failed = [r for r in results if r.meets_target is False]
    if any(r.meets_target is not None for r in results):
        lines.append(
            f"Targets missed on {TARGET_SIZE}: "
            + (
                ", ".join(f"{r.endpoint} {r.case} ({r.answers})" for r in failed)
                if failed
                else "none"
            )
            + "."
        )
        lines.append("")
    text = "\n".join(lines)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "latest.md").write_text(text)
    document = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": about,
        "duration_seconds": args.duration,
        "connections": args.connections,
        "page_size": PAGE_SIZE,
        "targets": {
            "dataset": TARGET_SIZE,
            "measurements_p99_ms": MEASUREMENT_P99_MS,
            "stats_p99_ms": STATS_P99_MS,
            "stats_min_ratio": STATS_MIN_RATIO,
            "report_p99_ms": REPORT_P99_MS,
            "campaign_report_p99_ms": CAMPAIGN_REPORT_P99_MS,
        },
        "datasets": datasets,
        "results": [asdict(result) for result in results],
    }
    (RESULTS_DIR / "latest.json").write_text(json.dumps(document, indent=2) + "\n")
    return text


def write_server_comparison(
    comparison: dict[str, Any], about: dict[str, Any], args: argparse.Namespace
) -> str:
    lines = header("Marketing OP: serve against granian's defaults", about, args)
    lines += [
        f"- dataset: {comparison['dataset']}; {comparison['workers']} worker processes each; "
        "`marketing-op serve` (granian, configured) against granian WSGI with its defaults",
        "",
        "| server | endpoint | req/s | p50 ms | p99 ms | errors |",
        "|---|---|--:|--:|--:|--:|",
    ]
    for row in comparison["results"]:
        lines.append(
            f"| {row['server']} | {row['path']} | {per_second(row['requests_per_second'])} "
            f"| {milliseconds(row['p50_ms'])} | {milliseconds(row['p99_ms'])} | {row['errors']} |"
        )
    text = "\n".join([*lines, ""])
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "servers.md").write_text(text)
    document = {"machine": about, "duration_seconds": args.duration, **comparison}
    (RESULTS_DIR / "servers.json").write_text(json.dumps(document, indent=2) + "\n")
    return text


# --- main --------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="demo,1m,10m", help="Datasets: demo,1m,10m.")
    parser.add_argument("--duration", type=int, default=10, help="Seconds per case.")
    parser.add_argument("--connections", type=int, default=16, help="Concurrent connections.")
    parser.add_argument("--rebuild", action="store_true", help="Rebuild the datasets.")
    parser.add_argument(
        "--answers",
        default="cached,computed",
        help="cached (the answer cache on, as in production), computed (off), or both.",
    )
    parser.add_argument(
        "--server",
        default="serve",
        choices=sorted(SERVERS),
        help="The server under test: ours (serve), or gunicorn's sync workers (gunicorn-sync), "
        "to compare code with runs made before the server changed.",
    )
    parser.add_argument(
        "--endpoints",
        default="",
        help="Only the cases of these endpoints (comma-separated, e.g. reports,measurements; "
        "the health floor is always measured); default: every case.",
    )
    parser.add_argument(
        "--compare-servers",
        action="store_true",
        help="Only compare our serve with granian's defaults on the demo dataset.",
    )
    parser.add_argument(
        "--replicas",
        action="store_true",
        help="Only bench/replicas.py: reads through a streaming replica and on the primary, "
        "the replica stopped and started under load, two app servers against one.",
    )
    parser.add_argument(
        "--rows",
        type=int,
        default=10_000_000,
        help="Measurements of the throwaway primary of --replicas.",
    )
    parser.add_argument(
        "--no-import",
        dest="with_import",
        action="store_false",
        help="Skip bench/import_speed.py, which runs after the load benchmark otherwise.",
    )
    parser.add_argument(
        "--no-export",
        dest="with_export",
        action="store_false",
        help="Skip bench/export_speed.py, which runs after the load benchmark otherwise.",
    )
    parser.add_argument(
        "--no-stop",
        dest="with_stop",
        action="store_false",
        help="Skip bench/stop_speed.py (Ctrl-C on serve, idle and under load).",
    )
    parser.add_argument(
        "--no-memory",
        dest="with_memory",
        action="store_false",
        help="Skip bench/memory_sweep.py (large report pages over one connection, the "
        "workers' and Redis's memory), which runs after the export otherwise.",
    )
    parser.add_argument(
        "--no-dashboard",
        dest="with_dashboard",
        action="store_false",
        help="Skip bench/dashboard_speed.py (the overview in Chromium), which runs last.",
    )
    args = parser.parse_args(argv)
    args.size_list = [size.strip() for size in args.sizes.split(",") if size.strip()]
    args.answer_modes = [mode.strip() for mode in args.answers.split(",") if mode.strip()]
    args.endpoint_list = [name.strip() for name in args.endpoints.split(",") if name.strip()]
    if not args.answer_modes or set(args.answer_modes) - {"cached", "computed"}:
        parser.error("--answers takes cached, computed, or cached,computed")
    unknown = [size for size in args.size_list if size not in DATASETS]
    if unknown:
        parser.error(f"unknown sizes {unknown}; choose from {', '.join(DATASETS)}")
    return args


def raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, raise_interrupt)  # stop the server on `kill` too
    if args.replicas:
        replicas = [sys.executable, "-m", "bench.replicas", "--rows", str(args.rows)]
        replicas += ["--duration", str(args.duration), "--connections", str(args.connections)]
        return subprocess.run(replicas, cwd=ROOT, check=False).returncode  # noqa: S603
    script = write_script()
    try:
        load = Load(ensure_wrk(), script, args.duration, args.connections)
        about = machine()
        password = secrets.token_urlsafe(24)
        if args.compare_servers:
            comparison = compare_servers(load, password, workers=os.cpu_count() or 1)
            print(write_server_comparison(comparison, about, args))
            return 0
        datasets: dict[str, Any] = {}
        results: list[Result] = []
        text = ""
        for size in args.size_list:
            datasets[size] = ensure_dataset(DATASETS[size], rebuild=args.rebuild, password=password)
            datasets[size]["load_average_before"] = round(os.getloadavg()[0], 2)
            for answers in args.answer_modes:
                results += bench_dataset(
                    load, DATASETS[size], password, answers, args.server, args.endpoint_list
                )
            text = write_results(results, datasets, about, args)  # kept if a later size fails
        print(text)
        if args.with_import:
            subprocess.run([sys.executable, "-m", "bench.import_speed"], cwd=ROOT, check=True)
        if args.with_export:
            export = [sys.executable, "-m", "bench.export_speed", args.server]
            subprocess.run(export, cwd=ROOT, check=True)  # noqa: S603 - our own module
        if args.with_stop:
            subprocess.run([sys.executable, "-m", "bench.stop_speed"], cwd=ROOT, check=True)
        if args.with_memory:
            sweep = [sys.executable, "-m", "bench.memory_sweep", "--size", args.size_list[-1]]
            sweep += ["--server", args.server]
            subprocess.run(sweep, cwd=ROOT, check=True)  # noqa: S603 - our own module
        if args.with_dashboard:
            subprocess.run([sys.executable, "-m", "bench.dashboard_speed"], cwd=ROOT, check=True)
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    finally:
        script.unlink(missing_ok=True)
    return 0


def write_script() -> Path:
    handle, name = tempfile.mkstemp(prefix="marketing-op-bench-", suffix=".lua")
    with os.fdopen(handle, "w") as script:
        script.write(WRK_SCRIPT)
    return Path(name)


if __name__ == "__main__":
    sys.exit(main())
