"""A test run fails when an item it collected did not run, or ran under another's node id.

pytest-xdist hands out items by node id: two items with one id are one item to it, and only
the first runs, with nobody told (schemathesis 4 gave all its operations the id of the test
function). This plugin gives such items ids of their own (their names), and at the end of
a run that would pass it checks, on the process that reports (xdist's controller, or pytest
alone), that every selected item produced exactly one outcome: passed, failed, skipped,
xfailed or xpassed, or an error or skip in its setup. Deselected items (``-m``, ``-k``)
are not selected. Runs stopped early (``-x``, a failure, Ctrl-C) and ``--collect-only``
are not checked: they already say that not everything ran.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest
from _pytest.nodeid import NodeId


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Items that share a node id get their own name as id (``function[parameters]``)."""
    shared = Counter(item.nodeid for item in items)
    for item in items:
        if shared[item.nodeid] > 1 and item.parent is not None:
            item._id = NodeId.parse(f"{item.parent.nodeid}::{item.name}")  # type: ignore[attr-defined]


class EveryItemRuns:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.selected: list[str] | None = None
        self.outcomes: Counter[str] = Counter()
        self.problems: list[str] = []

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if not self.config.pluginmanager.hasplugin("dsession"):
            self.selected = [item.nodeid for item in session.items]

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: object, ids: Sequence[str]) -> None:
        if self.selected is None:  # every worker collects the same items
            self.selected = list(ids)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when == "call" or (report.when == "setup" and not report.passed):
            self.outcomes[report.nodeid] += 1

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if exitstatus != pytest.ExitCode.OK or self.selected is None:
            return
        option = self.config.option
        if option.collectonly or getattr(option, "setuponly", False):
            return
        wanted = Counter(self.selected)
        for nodeid, count in wanted.items():
            if count > 1:
                self.problems.append(f"{count} items share the node id {nodeid}")
        for nodeid in wanted:
            if self.outcomes[nodeid] == 0:
                self.problems.append(f"collected and not run: {nodeid}")
            elif self.outcomes[nodeid] > wanted[nodeid]:
                self.problems.append(f"ran {self.outcomes[nodeid]} times: {nodeid}")
        if self.problems:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        if self.selected is None or self.config.option.collectonly:
            return
        ran = sum(min(self.outcomes[nodeid], 1) for nodeid in set(self.selected))
        if self.problems:
            terminalreporter.section("items collected and not run", red=True, bold=True)
            for problem in self.problems[:50]:
                terminalreporter.line(problem, red=True)
            terminalreporter.line(
                f"{len(self.selected)} items selected, {ran} ran: the run fails.",
                red=True,
                bold=True,
            )
        else:
            terminalreporter.line(f"every item ran: {len(self.selected)} selected, {ran} ran")


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # xdist's workers run a part; the controller checks
        config.pluginmanager.register(EveryItemRuns(config), "every_item_runs")
