"""Dashboard speed: how long the overview takes to draw in a real browser.

For each dataset of ``bench.run`` (demo and 10m unless ``BENCH_DASHBOARD_SIZES`` says
otherwise): collects the static files, starts the server under test with the production
settings, and signs in as the bench user in Debian's Chromium (driven by Playwright). Then:

- **navigation**: ``/`` loaded ``BENCH_RUNS`` times (default 5), timed from the navigation
  to the moment the figures and both charts are drawn (``body[data-charts=drawn]``: the
  page is usable, what the targets judge) and to the moment every part is drawn
  (``body[data-state=ready]``: the campaign and measurement tables too); the first load
  after a new data version (every cache cold) is timed apart;
- **filter changes**: each date preset, the monthly and weekly toggle, and the comparison
  switch, each timed the same two ways from the change; the round of changes is made
  ``BENCH_RUNS`` times, so the first time of each is the server's first answer to it.

Writes ``bench/results/dashboard_speed.md`` and ``.json``. Targets: the overview drawn
within 1.5 s of navigation; every filter change redrawn within 500 ms. ``make bench``
calls it; run alone with ``python -m bench.dashboard_speed``.
"""

from __future__ import annotations

import datetime
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.run import (
    DATASETS,
    NEW_DATA_VERSION,
    RESULTS_DIR,
    ROOT,
    USERNAME,
    BenchError,
    base_environment,
    ensure_dataset,
    free_port,
    log,
    marketing_op,
    psql,
    running_server,
    serve_command,
)

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
NAVIGATION_TARGET_MS = 1500.0
CHANGE_TARGET_MS = 500.0
READY = 'body[data-state="ready"]'
CHARTS_DRAWN = 'body[data-charts="drawn"]'
TIMEOUT_MS = 60_000


def timed(page: Any, action: Callable[[], None]) -> tuple[float, float]:
    """Milliseconds from ``action`` to the figures and both charts drawn, and to every part
    drawn (the page's next ``ready``)."""
    page.evaluate("document.body.dataset.state = 'changing'")
    page.evaluate("document.body.dataset.charts = 'changing'")
    started = time.perf_counter()
    action()
    page.wait_for_selector(CHARTS_DRAWN, timeout=TIMEOUT_MS)
    charts = (time.perf_counter() - started) * 1000
    page.wait_for_selector(READY, timeout=TIMEOUT_MS)
    return charts, (time.perf_counter() - started) * 1000


def changes(page: Any) -> list[tuple[str, Callable[[], None]]]:
    """The filter changes a user makes, each undone by a later one."""
    return [
        ("preset: last 4 weeks", lambda: page.select_option("#preset", "last-28-days")),
        ("preset: year to date", lambda: page.select_option("#preset", "year-to-date")),
        ("preset: all", lambda: page.select_option("#preset", "all")),
        ("preset: last quarter", lambda: page.select_option("#preset", "last-quarter")),
        ("monthly", lambda: page.check('input[name="granularity"][value="month"]')),
        ("weekly", lambda: page.check('input[name="granularity"][value="week"]')),
        ("compare: previous period", lambda: page.select_option("#compare", "previous_period")),
        ("compare: previous year", lambda: page.select_option("#compare", "previous_year")),
    ]


def measure_dataset(size: str, browser: Any, runs: int) -> list[dict[str, Any]]:
    dataset = DATASETS[size]
    password = secrets.token_urlsafe(24)
    ensure_dataset(dataset, rebuild=False, password=password)
    environment = base_environment(dataset)
    environment["STATIC_ROOT"] = tempfile.mkdtemp(prefix="marketing-op-static-")
    marketing_op(["collectstatic", "--no-input", "-v", "0"], environment)
    port = free_port()
    rows = []
    with running_server(
        f"dashboard-{size}", serve_command(port), environment, port, dataset.database
    ):
        context = browser.new_context(
            base_url=f"http://localhost:{port}", viewport={"width": 1280, "height": 800}
        )
        page = context.new_page()
        page.goto("/sign-in/")
        page.get_by_label("Username").fill(USERNAME)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_selector(READY, timeout=TIMEOUT_MS)
        psql(dataset.database, NEW_DATA_VERSION)
        cold = timed(page, lambda: page.goto("/"))
        rows.append(row(size, "navigation, first after a new data version", [cold], None))
        loads = [timed(page, lambda: page.goto("/")) for _ in range(runs)]
        rows.append(row(size, "navigation", loads, NAVIGATION_TARGET_MS))
        changed: dict[str, list[tuple[float, float]]] = {}
        for _ in range(runs):
            for name, action in changes(page):
                try:
                    changed.setdefault(name, []).append(timed(page, action))
                except Exception:
                    shot = ROOT / "var" / "screenshots" / f"bench-dashboard-{size}-failed.png"
                    shot.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(shot), full_page=True)
                    log(f"dashboard {size}: {name} failed; the page is in {shot}")
                    raise
                charts, every = changed[name][-1]
                log(f"dashboard {size}: {name}: charts {charts:.0f} ms, every part {every:.0f} ms")
        rows += [row(size, name, times, CHANGE_TARGET_MS) for name, times in changed.items()]
        context.close()
    for result in rows:
        log(f"dashboard {size}: {result['case']}: charts {result['median_ms']} ms (median)")
    return rows


def row(
    size: str, case: str, times: list[tuple[float, float]], target: float | None
) -> dict[str, Any]:
    """The median and slowest of the charts drawn (judged against ``target``) and of every
    part drawn (the tables too)."""
    charts = [drawn for drawn, _ in times]
    every = [drawn for _, drawn in times]
    return {
        "dataset": size,
        "case": case,
        "runs": len(times),
        "median_ms": round(statistics.median(charts)),
        "max_ms": round(max(charts)),
        "every_part_median_ms": round(statistics.median(every)),
        "every_part_max_ms": round(max(every)),
        "target_ms": target,
        "met": None if target is None else max(charts) <= target,
    }


def write_results(rows: list[dict[str, Any]]) -> str:
    lines = [
        "# Dashboard speed",
        "",
        f"- date: {datetime.datetime.now(datetime.UTC).isoformat(timespec='seconds')}",
        "- Debian's Chromium through Playwright, 1280 by 800 px, on the same machine as the server "
        "(`marketing-op serve`, production settings, Redis when it answers) and PostgreSQL",
        "- charts: from the navigation or the change to the figures and both charts drawn "
        "(`body[data-charts=drawn]`), what the targets judge; every part: to the page marked "
        "drawn (`body[data-state=ready]`), the campaign and measurement tables too",
        f"- targets: drawn within {NAVIGATION_TARGET_MS:,.0f} ms of navigation (the slowest of "
        f"the runs), each filter change within {CHANGE_TARGET_MS:,.0f} ms",
        "",
        "| dataset | case | runs | charts: median ms | charts: slowest ms | every part: median "
        "ms | every part: slowest ms | target ms | met |",
        "|---|---|--:|--:|--:|--:|--:|--:|:-:|",
    ]
    for result in rows:
        met = "-" if result["met"] is None else ("✓" if result["met"] else "✗")
        target = "" if result["target_ms"] is None else f"{result['target_ms']:,.0f}"
        lines.append(
            f"| {result['dataset']} | {result['case']} | {result['runs']} "
            f"| {result['median_ms']:,} | {result['max_ms']:,} "
            f"| {result['every_part_median_ms']:,} | {result['every_part_max_ms']:,} "
            f"| {target} | {met} |"
        )
    text = "\n".join([*lines, ""])
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (RESULTS_DIR / "dashboard_speed.md").write_text(text)
    (RESULTS_DIR / "dashboard_speed.json").write_text(json.dumps(rows, indent=2) + "\n")
    return text


def main() -> int:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        print(f"bench: no Chromium at {CHROMIUM} (make test installs it)", file=sys.stderr)
        return 1
    sizes = os.environ.get("BENCH_DASHBOARD_SIZES", "demo,10m").split(",")
    runs = int(os.environ.get("BENCH_RUNS", "5"))
    rows: list[dict[str, Any]] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            for size in sizes:
                rows += measure_dataset(size.strip(), browser, runs)
            browser.close()
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        return 1
    print(write_results(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
