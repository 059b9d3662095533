"""``marketing-op serve``: the production server (granian, WSGI), as ``make run`` starts it.

granian reads and writes every connection in Rust: a client that sends half a request and
waits costs a socket, not a Python thread, and its headers must arrive within
``HEADER_READ_TIMEOUT_MS``. Each worker process runs Django in one thread, as gunicorn's sync
workers did. What the server answers before the application (a malformed request, headers
too large) is an empty 400 or 431 with no details of the parser.

The workers count their metrics in files of one folder (``PROMETHEUS_MULTIPROC_DIR``, by
default ``var/metrics/<port>``), which the command empties before the workers start, so
that ``/metrics`` sums what this server's workers counted since it started.

Ctrl-C (or SIGTERM) stops it within two seconds; a port already in use is refused with one
line before anything starts (``core.server``). With ``LOG_FORMAT=json`` every line it prints,
the banner included, is a JSON object.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import sys
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError, connections
from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings

from marketing_op.accounts.models import User
from marketing_op.core.logs import JsonFormatter
from marketing_op.core.server import ProductionServer, port_problem

# The request line and every header together: larger requests get 431 before Django sees them.
MAX_HEADER_BYTES = 16 * 1024
# A client has this long to send its whole request head; then the connection is closed.
HEADER_READ_TIMEOUT_MS = 10_000
# Connections one worker holds at once (a slow client's included); more wait in the backlog.
CONNECTIONS_PER_WORKER = 1000


def bind_address(host: str) -> str:
    """The IP address to listen on for ``host``: granian takes addresses only, and ``HOST``
    defaults to ``localhost``. A name is resolved, IPv4 first, as browsers and curl try it."""
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise CommandError(f"Cannot listen on {host!r}: {error.strerror}.") from error
    found.sort(key=lambda address: address[0] != socket.AF_INET)
    return str(found[0][4][0])


def metrics_folder_prepare(port: int) -> Path:
    """The folder where the workers count their metrics (``PROMETHEUS_MULTIPROC_DIR``, else
    ``var/metrics/<port>``, so that servers on one machine keep theirs apart), emptied of an
    earlier run's counts and named in the environment that the workers inherit.

    prometheus-client chooses how it counts when it is first imported: in this process,
    which forks the workers, that must come after the variable is set.
    """
    if "prometheus_client" in sys.modules:
        raise CommandError("prometheus_client was imported before its folder was set.")
    folder = Path(settings.METRICS_DIRECTORY or settings.VAR_DIR / "metrics" / str(port))
    folder.mkdir(parents=True, exist_ok=True)
    for counts in folder.glob("*.db"):
        counts.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
    return folder


def granian_logging() -> dict[str, Any] | None:
    """granian's own lines (start, workers) in the service's JSON format when logs are JSON."""
    if settings.LOG_FORMAT != "json":
        return None
    json_lines = {"()": "marketing_op.core.logs.JsonFormatter"}
    return {"formatters": {"generic": json_lines, "access": json_lines}}


def production_server(address: str, port: int, workers: int) -> ProductionServer:
    """granian's server of worker processes (what ``granian.Granian`` is on a build with a GIL)."""
    return ProductionServer(
        "marketing_op.config.wsgi:application",
        address=address,
        port=port,
        interface=Interfaces.WSGI,
        workers=workers,
        blocking_threads=settings.WORKER_THREADS,
        backpressure=CONNECTIONS_PER_WORKER,
        backlog=2048,
        http=HTTPModes.http1,
        http1_settings=HTTP1Settings(
            header_read_timeout=HEADER_READ_TIMEOUT_MS, max_buffer_size=MAX_HEADER_BYTES
        ),
        websockets=False,
        log_access=False,
        log_dictconfig=granian_logging(),
        workers_kill_timeout=2,  # of an old worker on SIGHUP; a stop has its own (core.server)
    )


class Command(BaseCommand):
    help = "Serve the API and the dashboard (granian, WSGI, one worker process per core)."
    # Django's checks import the URLs, and with them prometheus-client: they run in
    # ``handle`` once the metrics' folder is set.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=settings.HOST, help="Address to bind (HOST).")
        parser.add_argument("--port", type=int, default=settings.PORT, help="Port (PORT).")
        parser.add_argument(
            "--workers",
            type=int,
            default=settings.WEB_WORKERS,
            help="Worker processes (WEB_WORKERS, default: one per core).",
        )

    def handle(self, *args: Any, host: str, port: int, workers: int, **options: Any) -> None:
        address = bind_address(host)
        problem = port_problem(address, port)
        if problem is not None:
            self._say([problem], level=logging.ERROR)
            raise SystemExit(1)
        metrics_folder_prepare(port)
        self.check()
        self._say(self._welcome(host, port, workers))
        connections.close_all()  # workers are forked: none may share this process's connection
        production_server(address, port, workers).serve()
        # Stopped: what Python's finalisation would tidy up (a second or two of garbage
        # collection on a busy machine) ends with the process anyway.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)

    def _say(self, lines: list[str], *, level: int = logging.INFO) -> None:
        """Lines for whoever started the server: plain text, or with ``LOG_FORMAT=json`` one
        JSON object each, as the logs (errors on standard error)."""
        stream = self.stderr if level >= logging.WARNING else self.stdout
        for line in lines:
            stream.write(_json_line(line, level) if settings.LOG_FORMAT == "json" else line)
        stream.flush()

    def _welcome(self, host: str, port: int, workers: int) -> list[str]:
        base = f"http://{host}:{port}"
        lines = [
            f"Marketing OP on {base}/ ({workers} worker{'s' if workers != 1 else ''}; "
            "Ctrl-C stops it)",
            f"API reference: {base}/api/reference/",
            f"Another port: PORT={port + 1} make run (or marketing-op serve --port {port + 1})",
        ]
        demo = demo_login_exists()
        if demo is None:
            lines.append("The database does not answer: /api/health/ says 503 until it does.")
        if demo and not settings.PRODUCTION:
            login = f"{settings.DEMO_USERNAME}:{settings.DEMO_PASSWORD}"
            lines += [
                f"Demo login: {settings.DEMO_USERNAME} / {settings.DEMO_PASSWORD}",
                "Try:",
                f"  TOKEN=$(curl -s -u {login} {base}/api/auth/token/ | python3 -c "
                '\'import json,sys; print(json.load(sys.stdin)["data"]["token"])\')',
                f'  curl -s -H "Authorization: Bearer $TOKEN" '
                f'"{base}/api/marketing/stats/channel-sales-percentages/"',
            ]
        return lines


def _json_line(message: str, level: int) -> str:
    record = logging.LogRecord("marketing_op.serve", level, __file__, 0, message, None, None)
    return JsonFormatter().format(record)


def demo_login_exists() -> bool | None:
    """Whether the demo user exists, or None when the database does not answer.

    Asked in a thread of its own, whose connection is closed with it, so that the server
    starts without a database and its workers never inherit a connection.
    """
    answer: list[bool | None] = [None]

    def ask() -> None:
        try:
            answer[0] = User.objects.filter(username=settings.DEMO_USERNAME).exists()
        except DatabaseError:
            answer[0] = None
        finally:
            connections.close_all()

    thread = threading.Thread(target=ask, name="welcome")
    thread.start()
    thread.join()
    return answer[0]
