"""The check that fails a run in which an item was collected and not run, on runs of its own
(pytester) that pass, skip, xfail and deselect, and that lose an item in the three ways
seen: two items with one node id (alone and under xdist) and an item that never reports."""

from __future__ import annotations

from pathlib import Path

import pytest

# Runs of pytest alone: no Django (the outer run has set up its test environment), no random
# order, no cache of failures in the project.
ALONE = ["-p", "no:django", "-p", "no:randomly", "-p", "no:cacheprovider"]
PLUGIN = ["-p", "tests.plugins.every_item_runs", *ALONE]
PROJECT = Path(__file__).resolve().parents[2]

# Two items with one node id, as schemathesis 4 makes them under pytest 9: the second
# item's name says what it is, but its id is the function's.
SHARED_ID_CONFTEST = """
import pytest

def check(number):
    assert number >= 0

class Twins(pytest.Collector):
    def collect(self):
        for number in (1, 2):
            yield pytest.Function.from_parent(
                self.parent, name=f"test_twin[{number}]", originalname="test_twin",
                callobj=lambda number=number: check(number),
            )

def pytest_pycollect_makeitem(collector, name, obj):
    if name == "test_twin":
        return list(Twins.from_parent(collector, name=name).collect())
"""


def test_a_run_where_every_item_passes_skips_xfails_or_is_deselected_passes(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_passes():
            pass

        def test_skips():
            pytest.skip("for a reason")

        @pytest.mark.xfail(reason="known", strict=True)
        def test_xfails():
            assert False

        @pytest.fixture
        def nothing_here():
            pytest.skip("in its setup")

        def test_skipped_in_setup(nothing_here):
            pass

        def test_left_out():
            pass
        """
    )

    result = pytester.runpytest(*PLUGIN, "-k", "not left_out")

    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, skipped=2, xfailed=1, deselected=1)
    result.stdout.fnmatch_lines(["every item ran: 4 selected, 4 ran"])


def test_a_run_where_an_item_never_reports_fails_and_names_it(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        def pytest_runtest_protocol(item, nextitem):
            if item.name == "test_swallowed":
                return True  # as a plugin that takes an item over and drops it
        """
    )
    pytester.makepyfile("def test_runs():\n    pass\n\ndef test_swallowed():\n    pass\n")

    result = pytester.runpytest(*PLUGIN)

    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "*items collected and not run*",
            "collected and not run: test_a_run_where_an_item_never_reports*::test_swallowed",
            "2 items selected, 1 ran: the run fails.",
        ]
    )


def test_without_the_check_such_a_run_passes(pytester: pytest.Pytester) -> None:
    """What the check is for: pytest alone calls the run above a success."""
    pytester.makeconftest(
        """
        def pytest_runtest_protocol(item, nextitem):
            if item.name == "test_swallowed":
                return True
        """
    )
    pytester.makepyfile("def test_runs():\n    pass\n\ndef test_swallowed():\n    pass\n")

    result = pytester.runpytest(*ALONE)

    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1)


def test_items_that_share_a_node_id_get_their_own_and_all_run(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(SHARED_ID_CONFTEST)
    pytester.makepyfile("def test_twin():\n    pass\n")

    result = pytester.runpytest(*PLUGIN, "-v")

    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*::test_twin[[]1[]] PASSED*", "*::test_twin[[]2[]] PASSED*"])


def test_under_xdist_items_that_share_a_node_id_all_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What happened to schemathesis' operations: xdist ran the first of the items with one
    id. With the plugin they have ids of their own and both run on the workers."""
    pytester.makeconftest(SHARED_ID_CONFTEST)
    pytester.makepyfile("def test_twin():\n    pass\n")
    monkeypatch.setenv("PYTHONPATH", str(PROJECT))  # where the subprocesses find the plugin
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")  # seconds, not a minute
    xdist = ["-p", "xdist.plugin", "-n", "2", "--dist", "loadfile"]  # as make test runs

    alone = pytester.runpytest_subprocess(*xdist, *ALONE)
    checked = pytester.runpytest_subprocess(*xdist, *PLUGIN)

    alone.assert_outcomes(passed=1)  # one of two, and pytest calls that a success
    assert alone.ret == pytest.ExitCode.OK
    checked.assert_outcomes(passed=2)
    assert checked.ret == pytest.ExitCode.OK
