"""Real servers for tests: ``marketing-op serve`` in a child process on a free port, as
``make run`` starts it, and stopped with its workers."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

from prometheus_client.parser import text_string_to_metric_families

COMMAND = [sys.executable, "-m", "marketing_op"]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(home, database_url):
    # As `make run` starts it, with the file cache under its own home, so that the server
    # leaves nothing in a Redis that the test run may share.
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in {"REDIS_URL", "CACHE_LOCATION", "CACHE_KEY_PREFIX"}
    }
    environment.update({"DATABASE_URL": database_url, "MARKETING_OP_HOME": str(home)})
    return environment


def health(base, timeout=2.0):
    try:
        with urllib.request.urlopen(f"{base}/api/health/", timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def start_server(environment, host=("--host", "127.0.0.1")):
    """The server's output goes to ``serve-<port>.log`` in its home (``process.log``): a pipe
    that nobody read would fill with its log lines and stop it."""
    port = free_port()
    log = Path(environment["MARKETING_OP_HOME"]) / f"serve-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*COMMAND, "serve", *host, "--port", str(port), "--workers", "2"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process.log = log
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            health(base)
            break
        except OSError:
            time.sleep(0.2)
    return base, port, process


def stop_server(process):
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def call(base, path, *, method="GET", headers=None, data=None, timeout=30.0):
    """One request as a client sends it: (status, headers, body), errors and redirects
    included (a redirect is answered, not followed)."""
    request = urllib.request.Request(
        f"{base}{path}", method=method, headers=headers or {}, data=data
    )
    try:
        with _opener.open(request, timeout=timeout) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def metric(base, name, **labels):
    """The sum of the samples ``name`` with these labels that the server's /metrics shows."""
    _, _, text = call(base, "/metrics")
    return sum(
        sample.value
        for family in text_string_to_metric_families(text.decode())
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def database_url(database, name=None):
    """A ``DATABASE_URL`` for the server of a Django connection's ``settings_dict``, naming
    its database or ``name``."""
    user = quote(database["USER"] or "", safe="")
    if database.get("PASSWORD"):
        user += ":" + quote(database["PASSWORD"], safe="")
    return f"postgres://{user}@{database['HOST']}:{database['PORT']}/{name or database['NAME']}"
