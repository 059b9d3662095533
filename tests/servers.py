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


WORKERS = 2


def launch_server(environment, host=("--host", "127.0.0.1"), port=None):
    """``serve`` started in its own process group (as a terminal's job), not waited for.

    The server's output goes to ``serve-<port>.log`` in its home (``process.log``): a pipe
    that nobody read would fill with its log lines and stop it."""
    port = port or free_port()
    log = Path(environment["MARKETING_OP_HOME"]) / f"serve-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*COMMAND, "serve", *host, "--port", str(port), "--workers", str(WORKERS)],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    process.log = log
    return port, process


def start_server(environment, host=("--host", "127.0.0.1")):
    """A server that answers, every one of its workers started."""
    port, process = launch_server(environment, host)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            health(base)
            break
        except OSError:
            time.sleep(0.2)
    wait_for(lambda: workers_started(process) == WORKERS or process.poll() is not None, 60)
    return base, port, process


def workers_started(process):
    """How many workers the server's log says have started (plain or JSON lines)."""
    return process.log.read_text(errors="replace").count("Started worker-")


def wait_for(condition, seconds, step=0.05):
    """Poll ``condition`` until it holds or ``seconds`` pass; whether it held."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def connections_held(process, port):
    """Established TCP connections on ``port`` that the server's processes hold open."""
    established = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                local_port = int(fields[1].rsplit(":", 1)[1], 16)
                if local_port == port and fields[3] == "01":
                    established.add(fields[9])
    held = 0
    for pid in [process.pid, *group_members(process)]:
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue
        held += sum(link[8:-1] in established for link in links if link.startswith("socket:["))
    return held


def group_members(process):
    """The processes of the server's group other than itself (its workers), alive or not
    yet reaped."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != process.pid:
            try:
                if os.getpgid(int(entry)) == process.pid:
                    members.append(int(entry))
            except OSError:
                continue
    return members


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
