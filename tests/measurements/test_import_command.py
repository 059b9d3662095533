"""``marketing-op import``: all or nothing, idempotent, replace, gzip and stdin, history."""

from __future__ import annotations

import datetime
import gzip
import hashlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from marketing_op.measurements.models import (
    Campaign,
    Channel,
    DailyConversions,
    ImportRecord,
    Measurement,
    Product,
    WeeklyConversions,
)
from tests.factories import OrganizationFactory, measurement, stored_measurements

HEADER = "product,campaign_type,campaign,channel,date,conversions\n"
MARKETING_OP = str(Path(sys.executable).with_name("marketing-op"))


def stored(organization: Any = None) -> set[tuple[Any, ...]]:
    return set(stored_measurements(organization))


def snapshot() -> tuple[Any, ...]:
    """Everything an import may touch, to compare before and after."""
    return (
        sorted(
            Measurement.objects.values_list(
                "id", "organization_id", "campaign_id", "channel_id", "date", "conversions"
            )
        ),
        sorted(Product.objects.values_list("id", "name")),
        sorted(Campaign.objects.values_list("id", "product_id", "campaign_type", "name")),
        sorted(Channel.objects.values_list("id", "name")),
        sorted(DailyConversions.objects.values_list("id", "date", "conversions", "measurements")),
        sorted(WeeklyConversions.objects.values_list("id", "week", "conversions", "measurements")),
    )


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def run_import(*args: str) -> str:
    out = io.StringIO()
    call_command("import", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def acme(db: Any) -> Any:
    return OrganizationFactory(name="acme")


def test_a_file_is_imported_and_the_summary_printed(acme, tmp_path):
    path = write(
        tmp_path / "run.csv",
        HEADER + "p,branding,c,tv,2021-01-04,12.5\np,branding,c,radio,2021-01-05,3\n",
    )

    output = run_import(str(path), "--organization", "acme")

    assert "2 rows, 2 inserted, 0 updated, 0 unchanged, 0 deleted" in output
    assert "(2021-01-04 to 2021-01-05)" in output
    assert stored() == {
        ("acme", "p", "branding", "c", "tv", datetime.date(2021, 1, 4), 12.5),
        ("acme", "p", "branding", "c", "radio", datetime.date(2021, 1, 5), 3.0),
    }


def test_importing_the_same_file_twice_leaves_the_same_data(acme, tmp_path):
    path = write(tmp_path / "run.csv", HEADER + "p,branding,c,tv,2021-01-04,12.5\n")
    run_import(str(path), "--organization", "acme")
    before = snapshot()

    output = run_import(str(path), "--organization", "acme")

    assert "1 rows, 0 inserted, 0 updated, 1 unchanged" in output
    assert snapshot() == before


def test_corrected_values_update_exactly_those_rows(acme, tmp_path):
    run_import(
        str(
            write(
                tmp_path / "a.csv",
                HEADER + "p,t,c,tv,2021-01-04,1\np,t,c,tv,2021-01-05,2\np,t,c,tv,2021-01-06,3\n",
            )
        ),
        "--organization",
        "acme",
    )
    ids = dict(Measurement.objects.values_list("date", "id"))

    output = run_import(
        str(
            write(
                tmp_path / "b.csv",
                HEADER + "p,t,c,tv,2021-01-04,1\np,t,c,tv,2021-01-05,20\np,t,c,tv,2021-01-07,4\n",
            )
        ),
        "--organization",
        "acme",
    )

    assert "3 rows, 1 inserted, 1 updated, 1 unchanged, 0 deleted" in output
    assert dict(Measurement.objects.values_list("date", "conversions")) == {
        datetime.date(2021, 1, 4): 1.0,
        datetime.date(2021, 1, 5): 20.0,
        datetime.date(2021, 1, 6): 3.0,
        datetime.date(2021, 1, 7): 4.0,
    }
    assert dict(Measurement.objects.values_list("date", "id")).items() >= ids.items()


def test_replace_deletes_the_rows_in_the_files_date_range_that_it_lacks(acme, tmp_path):
    other = OrganizationFactory(name="globex")
    measurement(other, date=datetime.date(2021, 1, 5))
    run_import(
        str(
            write(
                tmp_path / "a.csv",
                HEADER + "p,t,c,tv,2021-01-03,1\n"
                "p,t,c,tv,2021-01-04,1\np,t,c,radio,2021-01-05,2\n"
                "p,t,c,tv,2021-01-09,3\n",
            )
        ),
        "--organization",
        "acme",
    )

    output = run_import(
        str(write(tmp_path / "b.csv", HEADER + "p,t,c,tv,2021-01-04,1\np,t,c,tv,2021-01-06,5\n")),
        "--organization",
        "acme",
        "--replace",
    )

    assert "2 rows, 1 inserted, 0 updated, 1 unchanged, 1 deleted" in output
    assert {(row[4], row[5]) for row in stored(acme)} == {
        ("tv", datetime.date(2021, 1, 3)),
        ("tv", datetime.date(2021, 1, 4)),
        ("tv", datetime.date(2021, 1, 6)),
        ("tv", datetime.date(2021, 1, 9)),
    }
    assert len(stored(other)) == 1


def test_a_file_with_a_bad_line_is_rejected_whole_and_changes_nothing(acme, tmp_path):
    measurement(acme, date=datetime.date(2021, 1, 4), conversions=7.0)
    before = snapshot()
    path = write(
        tmp_path / "bad.csv",
        HEADER + "p,t,c,tv,2021-01-04,1\nnew,t,c,tv,2021-01-05,2\np,t,c,tv,2021-13-01,3\n",
    )
    errors = io.StringIO()

    with pytest.raises(CommandError) as raised:
        call_command("import", str(path), "--organization", "acme", stderr=errors)

    assert raised.value.returncode == 1
    assert "line 4, column date ('2021-13-01')" in errors.getvalue()
    assert snapshot() == before


def test_repeated_rows_in_one_file_are_rejected_with_both_lines(acme, tmp_path):
    path = write(
        tmp_path / "dup.csv",
        HEADER + "p,t,c,tv,2021-01-04,1\np,t,c,radio,2021-01-04,1\np,t,c, tv,2021-01-04,2\n",
    )
    errors = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import", str(path), "--organization", "acme", stderr=errors)

    assert "line 4, column row ('p,t,c,tv,2021-01-04')" in errors.getvalue()
    assert "of line 2" in errors.getvalue()
    assert Measurement.objects.count() == 0


def test_more_than_50_problems_are_counted(acme, tmp_path):
    path = write(
        tmp_path / "bad.csv", HEADER + "".join(f"p,t,c,tv,2021-01-04,x{n}\n" for n in range(75))
    )
    errors = io.StringIO()

    with pytest.raises(CommandError, match="75 problems"):
        call_command("import", str(path), "--organization", "acme", stderr=errors)

    assert errors.getvalue().count("is not a number") == 50
    assert "and 25 more problems" in errors.getvalue()


def test_gzip_files_and_stdin_are_read(acme, tmp_path, monkeypatch):
    path = tmp_path / "run.csv.gz"
    path.write_bytes(gzip.compress((HEADER + "p,t,c,tv,2021-01-04,1\n").encode()))
    run_import(str(path), "--organization", "acme")
    data = (HEADER + "p,t,c,tv,2021-01-05,2\n").encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))

    output = run_import("-", "--organization", "acme")

    assert "Imported -: 1 rows, 1 inserted" in output
    assert Measurement.objects.count() == 2


def test_every_import_is_recorded_with_its_digest_and_counts(acme, tmp_path):
    good = write(tmp_path / "good.csv", HEADER + "p,t,c,tv,2021-01-04,1\n")
    bad = write(tmp_path / "bad.csv", HEADER + "p,t,c,tv,2021-01-04,-1\n")
    run_import(str(good), "--organization", "acme")
    with pytest.raises(CommandError):
        run_import(str(bad), "--organization", "acme")

    accepted, rejected = ImportRecord.objects.order_by("id")

    assert (accepted.status, accepted.file_name, accepted.source) == (
        "accepted",
        "good.csv",
        "command",
    )
    assert accepted.sha256 == hashlib.sha256(good.read_bytes()).hexdigest()
    assert (accepted.rows, accepted.inserted, accepted.size_bytes) == (1, 1, good.stat().st_size)
    assert accepted.uploaded_by.startswith("command")
    assert (rejected.status, rejected.problem_count, rejected.rows) == ("rejected", 1, 1)
    assert rejected.problems[0]["column"] == "conversions"


def test_an_unknown_organisation_is_an_error(db, tmp_path):
    with pytest.raises(CommandError, match="No organisation named 'nobody'"):
        run_import(str(write(tmp_path / "a.csv", HEADER)), "--organization", "nobody")


def test_the_old_systems_export_imports_unchanged(acme):
    path = Path(__file__).with_name("data") / "old_export.csv"

    output = run_import(str(path), "--organization", "acme")

    assert "8 rows, 8 inserted" in output
    assert (
        "acme",
        "energy drink",
        "branding",
        "winter sports, 2021",
        "tv",
        datetime.date(2021, 1, 1),
        5333.516215408056,
    ) in stored()
    assert (
        "acme",
        "energy drink",
        "always on",
        "always on energy drink",
        "google - branded search",
        datetime.date(2021, 1, 1),
        2242.0662350159814,
    ) in stored()
    assert len(stored()) == 8


# --- in a separate process, against the committed test database (PostgreSQL only) ---------

postgres_only = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "postgres").startswith("postgres"),
    reason="the child process needs a database it can reach",
)


def child_environment() -> dict[str, str]:
    settings = connection.settings_dict
    url = (
        f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )
    environment = {**os.environ, "DATABASE_URL": url}
    environment.pop("TEST_DATABASE_NAME", None)
    return environment


def command_run(command: str | list[str], timeout: int = 120) -> subprocess.CompletedProcess:
    """Our command (or a shell pipeline of our commands) in a child process on the test
    database, its output captured as text."""
    return subprocess.run(
        command,
        shell=isinstance(command, str),
        env=child_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def synthetic_csv(path: Path, rows: int) -> Path:
    """A large valid file, quickly: 100 campaigns, 10 channels, consecutive days."""
    start = datetime.date(2015, 1, 1).toordinal()
    days = rows // 1000 + 1
    dates = [datetime.date.fromordinal(start + n).isoformat() for n in range(days)]
    with path.open("w", encoding="utf-8") as stream:
        stream.write(HEADER)
        stream.writelines(
            f"product {n % 3},branding,campaign {n % 100},channel {n // 100 % 10},"
            f"{dates[n // 1000]},{n * 0.37}\n"
            for n in range(rows)
        )
    return path


def backend_running(query_prefix: str) -> int | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state = 'active' AND query LIKE %s",
            [query_prefix + "%"],
        )
        found = cursor.fetchone()
    return found[0] if found else None


def backend_gone(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is None


@postgres_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "phase",
    ["COPY import_staging", "INSERT INTO measurements_measurement"],
    ids=["while-staging", "while-writing"],
)
def test_an_import_killed_half_way_leaves_the_database_as_it_was(tmp_path, phase):
    organization = OrganizationFactory(name="acme")
    measurement(organization, product="p", campaign="kept", date=datetime.date(2021, 1, 4))
    before = snapshot()
    path = synthetic_csv(tmp_path / "large.csv", 300_000)
    child = subprocess.Popen(
        [MARKETING_OP, "import", str(path), "--organization", "acme"],
        env=child_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 40
        pid = None
        while pid is None and time.monotonic() < deadline and child.poll() is None:
            pid = backend_running(phase)
            time.sleep(0.01)
        assert pid is not None, f"the import never ran {phase!r}: {child.communicate()}"
        child.send_signal(signal.SIGKILL)
        child.wait()
        while not backend_gone(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()

    assert child.returncode == -signal.SIGKILL
    assert snapshot() == before
    assert not ImportRecord.objects.exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_generate_demo_piped_into_import_works_and_rejection_exits_non_zero(tmp_path):
    OrganizationFactory(name="acme")
    pipeline = (
        f"{MARKETING_OP} generate-demo --rows 20000 | {MARKETING_OP} import - --organization acme"
    )

    done = command_run(pipeline)

    assert done.returncode == 0, done.stderr
    assert "Imported -: 20000 rows, 20000 inserted" in done.stdout
    assert Measurement.objects.count() == 20000
    bad = write(tmp_path / "bad.csv", HEADER + "p,t,c,tv,yesterday,1\n")
    rejected = command_run([MARKETING_OP, "import", str(bad), "--organization", "acme"], 60)
    assert rejected.returncode == 1
    assert "line 2, column date ('yesterday')" in rejected.stderr
    assert Measurement.objects.count() == 20000
