"""``marketing-op export``: the API's exports from the command line, and its refusals."""

from __future__ import annotations

import datetime
import io
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from marketing_op.accounts.services import token_issue
from marketing_op.measurements.imports import MeasurementRow, measurement_import, typed_records
from tests.contract import ContractClient
from tests.factories import OrganizationFactory, UserFactory, stored_measurements
from tests.measurements.test_import_command import (
    MARKETING_OP,
    command_run,
    postgres_only,
)

D = datetime.date
ROWS = [
    MeasurementRow("cola", "branding", "=launch", channel, D(2021, 1, day), day * 1.1 + 0.05)
    for day in range(1, 11)
    for channel in ("tv", "radio")
]


@pytest.fixture
def acme(db: Any) -> Any:
    organization = OrganizationFactory(name="acme")
    measurement_import(organization=organization, records=typed_records(ROWS))
    return organization


def export(*args: str) -> str:
    out = io.StringIO()
    call_command("export", *args, stdout=out)
    return out.getvalue()


def api_export(organization: Any, path: str, query: dict[str, Any]) -> bytes:
    user = UserFactory(organization=organization)
    response = ContractClient().get(
        path, query, HTTP_AUTHORIZATION=f"Bearer {token_issue(user=user).token}"
    )
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def test_measurements_are_exported_to_a_file_as_the_api_exports_them(acme, tmp_path):
    path = tmp_path / "tv.csv"

    said = export("measurements", "--organization", "acme", "--channels", "tv", "-o", str(path))

    query = {"channels": "tv", "format": "csv"}
    assert path.read_bytes() == api_export(acme, "/api/marketing/measurements/", query)
    first = f"cola,branding,'=launch,tv,2021-01-01,{ROWS[0].conversions!r},"
    assert path.read_text().splitlines()[1] == first
    assert said.startswith(f"Exported 10 rows to {path} (csv) in ")
    assert not list(tmp_path.glob(".*partial"))


def test_a_report_is_exported_with_the_apis_options(acme, tmp_path):
    path = tmp_path / "report.parquet"

    export(
        "report",
        "--organization",
        "acme",
        "--dimensions",
        "channel",
        "--granularity",
        "week",
        "--metrics",
        "conversions,measurements",
        "--start-date",
        "2021-01-06",
        "--end-date",
        "2021-01-10",
        "--compare",
        "previous_period",
        "--order-by=-conversions",
        "--no-fill",
        "-o",
        str(path),
    )

    query = {
        "dimensions": "channel",
        "granularity": "week",
        "metrics": "conversions,measurements",
        "start_date": "2021-01-06",
        "end_date": "2021-01-10",
        "compare": "previous_period",
        "order_by": "-conversions",
        "fill": "false",
        "format": "parquet",
    }
    from_api = pq.read_table(io.BytesIO(api_export(acme, "/api/marketing/reports/", query)))
    table = pq.read_table(path)
    assert table.equals(from_api)
    assert table.column_names[:3] == ["channel", "period", "period_start"]
    assert table.num_rows == 2


def test_standard_output_takes_the_file_and_the_summary_goes_to_standard_error(acme, capsysbinary):
    call_command("export", "measurements", "--organization", "acme", "-o", "-", "--format", "csv")

    captured = capsysbinary.readouterr()
    header = b"product,campaign_type,campaign,channel,date,conversions,spend\n"
    assert captured.out.startswith(header)
    assert captured.out.count(b"\n") == 1 + len(ROWS)
    assert captured.err.startswith(b"Exported 20 rows to - (csv)")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["measurements", "--organization", "nobody"], "No organisation named 'nobody'"),
        (["measurements", "--organization", "acme", "--start-date", "May"], "--start-date: "),
        (
            ["measurements", "--organization", "acme", "--granularity", "month"],
            "--granularity applies to reports only",
        ),
        (["report", "--organization", "acme", "--dimensions", "colour"], "--dimensions: "),
        (["report", "--organization", "acme", "--compare", "previous_year"], "--compare: "),
        (
            [
                "report",
                "--organization",
                "acme",
                "--start-date",
                "2021-02-01",
                "--end-date",
                "2021-01-01",
            ],
            "End date should be greater than start date",
        ),
    ],
)
def test_what_cannot_be_exported_is_refused_with_status_2_and_no_file(
    acme, tmp_path, arguments, message
):
    path = tmp_path / "out.csv"

    with pytest.raises(CommandError, match=message) as refused:
        export(*arguments, "-o", str(path))

    assert refused.value.returncode == 2
    assert not list(tmp_path.iterdir())


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_export_piped_into_an_import_copies_an_organisation_exactly():
    acme = OrganizationFactory(name="acme")
    measurement_import(organization=acme, records=typed_records(ROWS))
    OrganizationFactory(name="globex")
    pipeline = (
        f"{MARKETING_OP} export measurements --organization acme -o - | "
        f"{MARKETING_OP} import - --organization globex"
    )

    done = command_run(pipeline)

    assert done.returncode == 0, done.stderr
    assert "Exported 20 rows to - (csv)" in done.stderr
    assert "20 rows, 20 inserted" in done.stdout
    copied = {row[1:] for row in stored_measurements() if row[0] == "globex"}
    assert copied == {row[1:] for row in stored_measurements() if row[0] == "acme"}
    assert ("cola", "branding", "=launch", "tv", D(2021, 1, 1), ROWS[0].conversions) in copied


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_command_exits_with_status_2_and_says_why(tmp_path):
    OrganizationFactory(name="acme")

    done = command_run(
        [
            MARKETING_OP,
            "export",
            "report",
            "--organization",
            "acme",
            "--granularity",
            "fortnight",
            "-o",
            str(tmp_path / "r.csv"),
        ],
        60,
    )

    assert done.returncode == 2
    assert "--granularity: " in done.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("name", "options", "message"),
    [
        ("report.xlsx", [], "export writes CSV (.csv) or Parquet (.parquet) files, not .xlsx."),
        ("report.json", [], "export writes CSV (.csv) or Parquet (.parquet) files, not .json."),
        ("report.parquet", ["--format", "csv"], "a .parquet file cannot hold --format csv."),
        ("report.CSV", ["--format", "parquet"], "a .csv file cannot hold --format parquet."),
    ],
)
def test_a_file_named_for_a_format_that_export_does_not_write_is_refused(
    acme, tmp_path, name, options, message
):
    """Issue 28: `export -o report.xlsx` wrote a CSV under that name."""
    path = tmp_path / name

    with pytest.raises(CommandError) as refused:
        export("measurements", "--organisation", "acme", *options, "-o", str(path))

    assert refused.value.returncode == 2
    assert str(refused.value) == f"{path}: {message}"
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("name", ["report.csv", "report.CSV", "report"])
def test_a_csv_file_or_one_without_extension_gets_csv(acme, tmp_path, name):
    path = tmp_path / name

    export("measurements", "--organization", "acme", "-o", str(path))

    expected = api_export(acme, "/api/marketing/measurements/", {"format": "csv"})
    assert path.read_bytes() == expected
