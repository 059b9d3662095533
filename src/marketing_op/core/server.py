"""The production server as ``marketing-op serve`` runs it: granian's worker processes (WSGI),
with the port checked first and a stop that takes a second, not granian's kill timeout.

Stopping. A terminal's Ctrl-C sends SIGINT to every process of the group: the server and each
worker. granian's workers handled it in a Python handler, which runs only in the main thread,
while the main thread waits on a lock that the signal does not interrupt when the kernel
hands the signal to one of the worker's Rust threads: such a worker never stopped, and the
server killed it after its kill timeout (20 s, three lines "refused to gracefully stop"). A
SIGTERM that reached a worker while it was still loading Django was swallowed the same way.
Here no process takes these signals in a handler: the server blocks them before it forks,
so its workers start with them blocked, and in each process one thread waits for them
(``sigwait``). The server turns SIGINT or SIGTERM into granian's stop: each worker gets
SIGTERM, stops accepting, lets the requests in flight finish (``STOP_GRACE_SECONDS`` at
most) and exits. A worker ignores SIGINT (the server relays it) and stops on SIGTERM, at once
while it is still loading Django.

Ports. granian's workers bind the port with ``SO_REUSEPORT``, so a second server on the port
of a first started and shared its requests. ``port_problem`` binds the port once without it
before anything starts: a port that a program (another ``serve`` included) listens on is
refused with one line.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import granian._signals
from granian._granian import WorkerSignal
from granian._internal import load_target
from granian.server import MPServer

logger = logging.getLogger("marketing_op.serve")

STOP_GRACE_SECONDS = 1.5
"""How long the workers' requests in flight may take to finish once the server stops."""
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


def port_problem(address: str, port: int) -> str | None:
    """Why ``address:port`` cannot be listened on (one sentence), or None when it can.

    ``SO_REUSEADDR`` as granian sets it, so that connections of a server just stopped
    (``TIME_WAIT``) do not count; no ``SO_REUSEPORT``, so that a listening server does.
    """
    family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return (
                    f"port {port} is in use; set PORT={port + 1} (or --port {port + 1}), "
                    f"or stop what listens on {port}"
                )
            if error.errno == errno.EACCES:
                return f"port {port} needs privileges; set PORT=8000 (or --port), 1024 or above"
            return f"cannot listen on {address} port {port}: {error.strerror}"
    return None


class _ThreadsChosen(logging.Filter):
    """Drops granian's warning that a worker may run more Python threads than twice the
    cores plus one: the service chooses more on purpose (``WORKER_THREADS``), because its
    threads mostly wait, on PostgreSQL or for a user's turn to compute a report, and with
    five a health check waited 8.5 s behind eight heavy reports of one user."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Configuration allows spawning up to")


class ProductionServer(MPServer):
    """granian's server of worker processes, stopped by a signal thread (see the module)."""

    def serve(self, *args: Any, **kwargs: Any) -> None:
        """Serve until SIGINT or SIGTERM (SIGHUP: new workers, as granian does)."""
        logging.getLogger("_granian").addFilter(_ThreadsChosen())
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        threading.Thread(target=self._relay_signals, name="signals", daemon=True).start()
        try:
            super().serve(target_loader=_worker_application, wrap_loader=True)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)

    def _relay_signals(self) -> None:
        while True:
            received = signal.sigwait(STOP_SIGNALS)
            if received == signal.SIGHUP:
                self.signal_handler_reload()
                continue
            # A SIGTERM to the whole group reaches the workers too, and one may end before
            # the server asks it to: that is no "unexpected exit".
            for worker in self.wrks:
                worker.interrupt_by_parent = True
            self.signal_handler_interrupt()

    def _stop_workers(self) -> None:
        """Every worker at once; one still busy after ``STOP_GRACE_SECONDS`` is killed."""
        for worker in self.wrks:
            worker.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for worker in self.wrks:
            # join() may return as the worker's pipe closes, a moment before it has exited.
            while worker.is_alive() and time.monotonic() < deadline:
                worker.join(max(min(deadline - time.monotonic(), 0.05), 0.001))
            if worker.is_alive():
                logger.warning(
                    "worker-%d still answered a request %.1f s after the stop: ended it",
                    worker.idx + 1,
                    STOP_GRACE_SECONDS,
                )
                worker.kill()
                worker.join()
        self.wrks.clear()


class _WorkerStop:
    """A worker's stop: before it serves, the process ends; once it serves, granian's
    ``WorkerSignal`` stops it gracefully."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.signal: WorkerSignal | None = None

    def serving(self) -> WorkerSignal:
        """What granian's worker calls ``set_sync_signals`` for: the signal that stops it."""
        with self.lock:
            self.signal = WorkerSignal()
            return self.signal

    def wait(self) -> None:
        signal.sigwait({signal.SIGTERM})
        with self.lock:
            if self.signal is None:
                os._exit(0)  # still loading the application: nothing to finish
            self.signal.set()


def _worker_application(target: str) -> Callable[..., Any]:
    """In a new worker, before Django loads: SIGINT ignored, SIGTERM awaited by a thread."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop = _WorkerStop()
    granian._signals.set_sync_signals = stop.serving
    threading.Thread(target=stop.wait, name="stop", daemon=True).start()
    return load_target(target)
