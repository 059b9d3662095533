"""What each case costs inside one process: ``bench.run`` starts this module with the
environment of its `computed` server and sends, on standard input, a bearer token and the
cases' paths; it answers, on standard output, the median milliseconds of each path.

Each path is requested through Django's test client: the whole middleware, authentication,
queries, validation and rendering, but no HTTP server, no socket and no concurrent load, so
that these medians move far less than the machine's load does. They leave out what the load
generator sees on top: the HTTP server, the network stack, the connection health check (the test
client skips it) and the queueing of 16 connections on two cores.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time

REQUESTS = 300
"""Requests per path, after one that warms the worker's copies."""


def medians(token: str, paths: list[str]) -> dict[str, float]:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "marketing_op.config.settings")
    django.setup()
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    found = {}
    for path in paths:
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code} in-process")
        times = []
        for _ in range(REQUESTS):
            started = time.perf_counter()
            client.get(path)
            times.append(time.perf_counter() - started)
        found[path] = round(statistics.median(times) * 1000, 3)
    return found


if __name__ == "__main__":
    asked = json.load(sys.stdin)
    json.dump(medians(asked["token"], asked["paths"]), sys.stdout)
