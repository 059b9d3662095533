"""Exports of whole results: the measurements list and reports as CSV or Parquet files, as a
client sees them (status, headers, bytes), compared with the JSON answers of the same
question."""

from __future__ import annotations

import csv
import datetime
import io
import re
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from marketing_op.accounts.services import token_issue
from marketing_op.measurements.imports import (
    CSV_COLUMNS,
    MeasurementRow,
    measurement_import,
    typed_records,
)
from marketing_op.measurements.imports.formats import FILE_COLUMNS, formula_quoted
from marketing_op.measurements.reads import export_writers, exports, measurement_pages
from marketing_op.measurements.reads.reports import report as report_module
from tests.factories import UserFactory, measurement

pytestmark = [pytest.mark.api, pytest.mark.django_db]

MEASUREMENTS = "/api/marketing/measurements/"
REPORTS = "/api/marketing/reports/"
D = datetime.date
PRODUCTS = ("cola", "=SUM(A1)")
CAMPAIGNS = ("'abc", 'summer, "big" sale')
CHANNELS = ("tv", "@radio", "-x")
DAYS = 13


@pytest.fixture
def sales(organization: Any) -> list[MeasurementRow]:
    """156 measurements, more than a page holds: 2 products, 2 campaigns each, 3 channels,
    13 days of January 2021; names that a spreadsheet would run, numbers of every kind, and
    spend known (0 included) or unknown."""
    rows = [
        MeasurementRow(
            product,
            "+performance" if campaign == CAMPAIGNS[0] else "branding",
            campaign,
            channel,
            D(2021, 1, 1) + datetime.timedelta(days=day),
            [0.0, 0.1 + 0.2, 1e15, 2242.0662350159814, 5e-324, 7.0][n % 6] * (n % 5 + 1) / 5,
            [None, Decimal(0), Decimal("12.5"), Decimal("0.3"), Decimal(10**15), None, Decimal(3)][
                n % 7
            ],
        )
        for n, (product, campaign, channel, day) in enumerate(
            (product, campaign, channel, day)
            for product in PRODUCTS
            for campaign in CAMPAIGNS
            for channel in CHANNELS
            for day in range(DAYS)
        )
    ]
    measurement_import(organization=organization, records=typed_records(rows))
    return rows


def whole(response: Any) -> bytes:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def listed(client: Any, auth: dict[str, str], path: str, query: dict[str, Any]) -> list[dict]:
    """Every row of a JSON list, page after page."""
    size = 10_000 if path == REPORTS else 100
    rows: list[dict] = []
    while True:
        page = client.get(path, {**query, "offset": len(rows), "page_size": size}, **auth)
        assert page.status_code == 200, page.content
        rows += page.json()["data"]
        if len(rows) >= page.json()["meta"]["total"]:
            return rows


def csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8"), newline="")))


def as_cells(row: dict[str, Any]) -> list[str]:
    """A measurement of the JSON list as the cells of its CSV line."""
    names = [row[column] for column in CSV_COLUMNS[:4]]
    spend = "" if row["spend"] is None else f"{row['spend']:.2f}"
    return [*map(formula_quoted, names), row["date"], repr(row["conversions"]), spend]


def file_name(response: Any) -> str:
    match = re.fullmatch(r'attachment; filename="([^"]+)"', response["Content-Disposition"])
    assert match, response["Content-Disposition"]
    return match.group(1)


# --- measurements as CSV ---------------------------------------------------------------------


def test_a_csv_export_holds_every_row_of_the_list_in_its_order(api_client, auth, sales):
    response = api_client.get(MEASUREMENTS, {"format": "csv"}, **auth)

    header, *rows = csv_rows(whole(response))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert file_name(response) == "measurements-2021-01-01-2021-01-13.csv"
    assert not response.has_header("Link")
    assert header == list(FILE_COLUMNS)
    assert len(rows) == len(sales) == 156
    assert rows == [as_cells(row) for row in listed(api_client, auth, MEASUREMENTS, {})]


def test_the_filters_choose_the_rows_and_the_file_name(api_client, auth, sales):
    query = {"channels": ["tv", "-x"], "start_date": "2021-01-03", "end_date": "2021-01-05"}

    response = api_client.get(MEASUREMENTS, {**query, "format": "csv"}, **auth)

    _, *rows = csv_rows(whole(response))
    assert file_name(response) == "measurements-2021-01-03-2021-01-05.csv"
    assert len(rows) == 2 * 2 * 2 * 3
    assert rows == [as_cells(row) for row in listed(api_client, auth, MEASUREMENTS, query)]


def test_an_export_of_nothing_is_the_header_alone(api_client, auth, sales):
    response = api_client.get(MEASUREMENTS, {"format": "csv", "channels": "print"}, **auth)

    assert whole(response) == (",".join(FILE_COLUMNS) + "\n").encode()
    assert file_name(response) == "measurements.csv"


def test_names_that_a_spreadsheet_would_run_are_written_after_a_quote(api_client, auth, sales):
    content = whole(api_client.get(MEASUREMENTS, {"format": "csv"}, **auth))

    cells = {cell for row in csv_rows(content)[1:] for cell in row[:4]}
    assert cells == {
        "cola",
        "'=SUM(A1)",
        "'+performance",
        "branding",
        "''abc",
        'summer, "big" sale',
        "tv",
        "'@radio",
        "'-x",
    }
    first = next(
        row
        for row in sales
        if (row.product, row.campaign, row.channel, row.date)
        == ("=SUM(A1)", "'abc", "-x", D(2021, 1, 1))
    )
    spend = "" if first.spend is None else f"{first.spend:.2f}"
    line = f"'=SUM(A1),'+performance,''abc,'-x,2021-01-01,{first.conversions!r},{spend}\n"
    assert line.encode() in content


def test_another_organisations_rows_are_never_exported(api_client, auth, sales, other_organization):
    measurement(other_organization, product="secret", date=D(2021, 1, 5))

    content = whole(api_client.get(MEASUREMENTS, {"format": "csv"}, **auth))

    assert b"secret" not in content
    assert len(csv_rows(content)) == 1 + 156


# --- the round trip through the import -------------------------------------------------------


def upload(client: Any, auth: dict[str, str], content: bytes, query: str = "") -> dict:
    response = client.post(f"{MEASUREMENTS}{query}", data=content, content_type="text/csv", **auth)
    assert response.status_code == 200, response.content
    return response.json()["data"]


def test_an_export_imported_into_another_organisation_gives_the_same_rows(
    api_client, auth, sales, other_organization
):
    exported = whole(api_client.get(MEASUREMENTS, {"format": "csv"}, **auth))
    other = UserFactory(organization=other_organization, username="bo")
    other_auth = {
        "HTTP_AUTHORIZATION": f"Bearer {token_issue(user=other, scopes='read write').token}"
    }

    summary = upload(api_client, other_auth, exported)

    assert (summary["rows"], summary["inserted"]) == (156, 156)
    assert listed(api_client, other_auth, MEASUREMENTS, {}) == listed(
        api_client, auth, MEASUREMENTS, {}
    )
    assert whole(api_client.get(MEASUREMENTS, {"format": "csv"}, **other_auth)) == exported


def test_an_export_imported_into_its_own_organisation_changes_nothing(
    api_client, user, auth, sales
):
    exported = whole(api_client.get(MEASUREMENTS, {"format": "csv"}, **auth))
    write_auth = {
        "HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user, scopes='read write').token}"
    }

    again = upload(api_client, write_auth, exported)
    replaced = upload(api_client, write_auth, exported, "?replace=true")

    for summary in (again, replaced):
        assert (summary["rows"], summary["unchanged"]) == (156, 156)
        assert (summary["inserted"], summary["updated"], summary["deleted"]) == (0, 0, 0)
    assert whole(api_client.get(MEASUREMENTS, {"format": "csv"}, **auth)) == exported


LINE_BREAK_NAMES = ["plain", "two\nlines", "carriage\rreturn", "both\r\nends", 'say "hi"']


@pytest.fixture
def line_break_sales(organization: Any) -> None:
    """30 days of one campaign per name, names with line breaks inside among them: stored
    by an import before imports refused control characters in names (issue 24.6), so
    written here without one."""
    for name in LINE_BREAK_NAMES:
        for day in range(30):
            measurement(
                organization,
                product="cola",
                campaign_type="branding",
                campaign=name,
                channel="tv",
                date=D(2021, 1, 1) + datetime.timedelta(days=day),
                conversions=1.5,
            )


def test_names_with_line_breaks_are_exported_exactly_and_an_import_refuses_them(
    api_client, user, auth, line_break_sales
):
    exported = whole(api_client.get(MEASUREMENTS, {"format": "csv"}, **auth))
    write_auth = {
        "HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user, scopes='read write').token}"
    }

    assert [row[2] for row in csv_rows(exported)[1:]] == [
        row["campaign"] for row in listed(api_client, auth, MEASUREMENTS, {})
    ]
    response = api_client.post(MEASUREMENTS, data=exported, content_type="text/csv", **write_auth)
    assert response.status_code == 422
    problems = response.json()["errors"]
    assert {problem["column"] for problem in problems} == {"campaign"}
    assert {problem["message"][9:29] for problem in problems} == {
        "U+000A LINE FEED at ",
        "U+000D CARRIAGE RETU",
    }


def test_a_report_export_keeps_names_with_line_breaks(api_client, auth, line_break_sales):
    query = {"dimensions": "campaign"}

    exported = csv_rows(whole(api_client.get(REPORTS, {**query, "format": "csv"}, **auth)))

    campaigns = [row["campaign"] for row in listed(api_client, auth, REPORTS, query)]
    assert [row[exported[0].index("campaign")] for row in exported[1:]] == campaigns
    assert sorted(campaigns) == sorted(LINE_BREAK_NAMES)


def test_a_quoted_name_in_a_csv_file_is_imported_without_its_quote(api_client, user, auth):
    write_auth = {
        "HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user, scopes='read write').token}"
    }
    names = ["'=SUM(A1)", "''abc", "'xyz", "'-x", "'", "it's"]
    body = (
        ",".join(CSV_COLUMNS)
        + "\n"
        + "".join(f"{name},branding,c,tv,2021-01-04,1\n" for name in names)
    )

    upload(api_client, write_auth, body.encode())

    products = {row["product"] for row in listed(api_client, auth, MEASUREMENTS, {})}
    assert products == {"=SUM(A1)", "'abc", "'xyz", "-x", "'", "it's"}


# --- measurements as Parquet -----------------------------------------------------------------


def test_a_parquet_export_has_typed_columns_and_every_row(api_client, auth, sales):
    response = api_client.get(MEASUREMENTS, {"format": "parquet"}, **auth)

    table = pq.read_table(io.BytesIO(whole(response)))
    assert response["Content-Type"] == "application/vnd.apache.parquet"
    assert file_name(response) == "measurements-2021-01-01-2021-01-13.parquet"
    assert table.schema == pa.schema(
        [
            pa.field("product", pa.string(), nullable=False),
            pa.field("campaign_type", pa.string(), nullable=False),
            pa.field("campaign", pa.string(), nullable=False),
            pa.field("channel", pa.string(), nullable=False),
            pa.field("date", pa.date32(), nullable=False),
            pa.field("conversions", pa.float64(), nullable=False),
            pa.field("spend", pa.float64()),
        ]
    )
    expected = [
        {**row, "date": D.fromisoformat(row["date"])}
        for row in listed(api_client, auth, MEASUREMENTS, {})
    ]
    assert table.to_pylist() == expected
    assert {row["product"] for row in expected} == set(PRODUCTS)


def test_parquet_is_written_a_row_group_at_a_time(api_client, auth, sales, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_ROWS", 20)
    monkeypatch.setattr(export_writers, "ROW_GROUP_ROWS", 40)

    response = api_client.get(MEASUREMENTS, {"format": "parquet"}, **auth)

    chunks = list(response.streaming_content)
    parquet = pq.ParquetFile(io.BytesIO(b"".join(chunks)))
    assert [parquet.metadata.row_group(n).num_rows for n in range(4)] == [40, 40, 40, 36]
    assert parquet.metadata.num_row_groups == 4
    assert len([chunk for chunk in chunks if chunk]) >= 4


def test_parquet_holds_names_with_line_breaks_beside_chunks_without_quotes(
    api_client, auth, line_break_sales, monkeypatch
):
    """Chunks of the server's CSV with quoted names (line breaks inside) and chunks without
    any quote are parsed by different readers: both give the rows the JSON list gives."""
    monkeypatch.setattr(measurement_pages, "COPY_CHUNK_BYTES", 500)

    response = api_client.get(MEASUREMENTS, {"format": "parquet"}, **auth)

    expected = [
        {**row, "date": D.fromisoformat(row["date"])}
        for row in listed(api_client, auth, MEASUREMENTS, {})
    ]
    assert pq.read_table(io.BytesIO(whole(response))).to_pylist() == expected
    assert {row["campaign"] for row in expected} == set(LINE_BREAK_NAMES)


def test_csv_is_streamed_in_chunks_of_whole_lines(api_client, auth, sales, monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_ROWS", 50)
    monkeypatch.setattr(measurement_pages, "COPY_CHUNK_BYTES", 2_000)

    chunks = list(api_client.get(MEASUREMENTS, {"format": "csv"}, **auth).streaming_content)

    assert len(chunks) >= 4
    assert all(chunk.endswith(b"\n") for chunk in chunks)
    assert len(csv_rows(b"".join(chunks))) == 1 + 156


# --- choosing the answer ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("text/csv", "text/csv; charset=utf-8"),
        ("application/vnd.apache.parquet", "application/vnd.apache.parquet"),
        ("text/csv;q=0.9, application/json;q=0.5", "text/csv; charset=utf-8"),
        ("application/json, text/csv", "application/json; charset=utf-8"),
        ("*/*", "application/json; charset=utf-8"),
        ("text/html,application/xhtml+xml,*/*;q=0.8", "application/json; charset=utf-8"),
        ("image/png", "application/json; charset=utf-8"),
        ("text/csv;q=0", "application/json; charset=utf-8"),
    ],
)
def test_the_accept_header_chooses_the_answer(api_client, auth, sales, accept, content_type):
    response = api_client.get(MEASUREMENTS, HTTP_ACCEPT=accept, **auth)

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert "accept" in [name.strip().lower() for name in response["Vary"].split(",")]


def test_the_format_parameter_wins_over_accept(api_client, auth, sales):
    response = api_client.get(
        MEASUREMENTS, {"format": "csv"}, HTTP_ACCEPT="application/json", **auth
    )
    json_answer = api_client.get(MEASUREMENTS, {"format": "json"}, HTTP_ACCEPT="text/csv", **auth)

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert json_answer["Content-Type"] == "application/json; charset=utf-8"


def test_format_json_is_the_json_answer(api_client, auth, sales):
    plain = api_client.get(MEASUREMENTS, {"channels": "tv"}, **auth)
    named = api_client.get(MEASUREMENTS, {"channels": "tv", "format": "json"}, **auth)

    assert named.status_code == plain.status_code == 200
    assert named.json() == plain.json()
    assert len(plain.json()["data"]) == 10


@pytest.mark.parametrize("path", [MEASUREMENTS, REPORTS])
def test_an_unknown_format_is_a_422_that_names_it(api_client, auth, sales, path):
    response = api_client.get(path, {"format": "xlsx"}, **auth)

    assert response.status_code == 422
    assert [problem["loc"] for problem in response.json()["detail"]] == [["query", "format"]]


@pytest.mark.parametrize("path", [MEASUREMENTS, REPORTS])
@pytest.mark.parametrize("page", ["offset=0", "page_size=50", "offset=10&page_size=5"])
def test_an_export_refuses_the_parameters_of_a_page(api_client, auth, sales, path, page):
    response = api_client.get(f"{path}?format=csv&{page}", **auth)

    assert response.status_code == 400
    detail = response.json()["detail"]
    assert detail.startswith("An export (csv) holds the whole result, not a page: leave out ")
    assert all(part.split("=")[0] in detail for part in page.split("&"))


def test_a_cursor_is_refused_with_an_export(api_client, auth, sales):
    cursor = api_client.get(MEASUREMENTS, **auth).json()["meta"]["next_cursor"]

    response = api_client.get(MEASUREMENTS, {"cursor": cursor}, HTTP_ACCEPT="text/csv", **auth)

    assert response.status_code == 400
    assert "leave out cursor" in response.json()["detail"]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("start_date=2021-02-01&end_date=2021-01-01", 400),
        ("start_date=yesterday", 422),
        ("page_size=0", 422),
    ],
)
def test_bad_parameters_get_json_errors_not_a_file(api_client, auth, sales, query, status):
    response = api_client.get(f"{MEASUREMENTS}?format=parquet&{query}", **auth)

    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    assert not response.has_header("Content-Disposition")


def test_an_export_needs_a_token(api_client, sales):
    response = api_client.get(MEASUREMENTS, {"format": "csv"})

    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")


def test_an_export_counts_as_one_request_against_the_rate_limit(api_client, auth, sales, settings):
    settings.RATE_LIMIT_PER_MINUTE = 3

    answers = [
        api_client.get(MEASUREMENTS, {"format": "csv"}, **auth),
        api_client.get(REPORTS, {"format": "parquet"}, **auth),
        api_client.get(MEASUREMENTS, **auth),
        api_client.get(MEASUREMENTS, {"format": "csv"}, **auth),
    ]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [answer["Content-Type"].split(";")[0] for answer in answers[:3]] == [
        "text/csv",
        "application/vnd.apache.parquet",
        "application/json",
    ]


def test_each_format_has_its_own_etag(api_client, auth, sales):
    as_json = api_client.get(MEASUREMENTS, **auth)
    as_csv = api_client.get(MEASUREMENTS, HTTP_ACCEPT="text/csv", **auth)
    as_parquet = api_client.get(MEASUREMENTS, HTTP_ACCEPT="application/vnd.apache.parquet", **auth)

    tags = {as_json["ETag"], as_csv["ETag"], as_parquet["ETag"]}
    assert len(tags) == 3
    same = api_client.get(
        MEASUREMENTS, HTTP_ACCEPT="text/csv", HTTP_IF_NONE_MATCH=as_csv["ETag"], **auth
    )
    other = api_client.get(
        MEASUREMENTS, HTTP_ACCEPT="text/csv", HTTP_IF_NONE_MATCH=as_json["ETag"], **auth
    )
    assert same.status_code == 304
    assert other.status_code == 200
    assert other["Content-Type"] == "text/csv; charset=utf-8"


# --- reports ---------------------------------------------------------------------------------

REPORT_QUERY = {
    "dimensions": "product,channel",
    "granularity": "day",
    "metrics": "conversions,measurements,share",
    "start_date": "2021-01-08",
    "end_date": "2021-01-13",
    "compare": "previous_period",
}


METRICS3 = ("conversions", "measurements", "share")


def report_cells(row: dict[str, Any]) -> list[str]:
    """A report row of the JSON answer as the cells of its CSV line."""
    metrics = ("conversions", "measurements", "share")

    def text(value: Any) -> str:
        return "" if value is None else repr(value) if isinstance(value, float) else str(value)

    return [
        formula_quoted(row["product"]),
        formula_quoted(row["channel"]),
        row["period"],
        row["period_start"],
        *(text(row[name]) for name in metrics),
        *(text((row["previous"] or {}).get(name)) for name in metrics),
        *(text((row["change"] or {}).get(name)) for name in metrics),
    ]


@pytest.fixture
def juice(organization: Any, sales: list[MeasurementRow]) -> None:
    """A product sold only in the report's range: nothing to compare with (previous and
    change null)."""
    measurement(organization, product="juice", channel="tv", date=D(2021, 1, 10), conversions=4.5)


def test_a_report_exports_its_rows_with_previous_and_change_columns(
    api_client, auth, juice, monkeypatch
):
    monkeypatch.setattr(exports, "CHUNK_ROWS", 7)

    response = api_client.get(REPORTS, {**REPORT_QUERY, "format": "csv"}, **auth)

    header, *rows = csv_rows(whole(response))
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert file_name(response) == "report-product-channel-day-2021-01-08-2021-01-13.csv"
    assert header == [
        "product",
        "channel",
        "period",
        "period_start",
        "conversions",
        "measurements",
        "share",
        "previous_conversions",
        "previous_measurements",
        "previous_share",
        "change_conversions",
        "change_measurements",
        "change_share",
    ]
    expected = listed(api_client, auth, REPORTS, REPORT_QUERY)
    assert rows == [report_cells(row) for row in expected]
    assert len(rows) == 7 * 6
    juice_row = next(row for row in rows if row[:3] == ["juice", "tv", "2021-01-10"])
    assert juice_row[3:6] == ["2021-01-10", "4.5", "1"]
    assert juice_row[7:] == ["", "", "", "", "", ""]  # nothing measured to compare with


def test_a_report_as_parquet_has_typed_columns_and_keeps_nulls(api_client, auth, juice):
    response = api_client.get(REPORTS, {**REPORT_QUERY, "format": "parquet"}, **auth)

    table = pq.read_table(io.BytesIO(whole(response)))
    assert file_name(response) == "report-product-channel-day-2021-01-08-2021-01-13.parquet"
    assert [(column.name, column.type) for column in table.schema] == [
        ("product", pa.string()),
        ("channel", pa.string()),
        ("period", pa.string()),
        ("period_start", pa.date32()),
        ("conversions", pa.float64()),
        ("measurements", pa.int64()),
        ("share", pa.float64()),
        ("previous_conversions", pa.float64()),
        ("previous_measurements", pa.int64()),
        ("previous_share", pa.float64()),
        ("change_conversions", pa.float64()),
        ("change_measurements", pa.float64()),
        ("change_share", pa.float64()),
    ]
    expected = [
        {
            "product": row["product"],
            "channel": row["channel"],
            "period": row["period"],
            "period_start": D.fromisoformat(row["period_start"]),
            **{name: row[name] for name in ("conversions", "measurements", "share")},
            **{f"previous_{name}": (row["previous"] or {}).get(name) for name in METRICS3},
            **{f"change_{name}": (row["change"] or {}).get(name) for name in METRICS3},
        }
        for row in listed(api_client, auth, REPORTS, REPORT_QUERY)
    ]
    assert table.to_pylist() == expected
    assert table.column("change_conversions").null_count > 0


def test_a_report_export_holds_every_page_of_the_report(api_client, auth, sales):
    query = {"dimensions": "product,campaign,channel", "granularity": "day"}
    first_page = api_client.get(REPORTS, query, **auth).json()

    response = api_client.get(REPORTS, {**query, "format": "csv"}, HTTP_ACCEPT="text/csv", **auth)

    header, *rows = csv_rows(whole(response))
    assert header == ["product", "campaign", "channel", "period", "period_start", "conversions"]
    assert file_name(response) == "report-product-campaign-channel-day.csv"
    assert len(first_page["data"]) == 100
    assert len(rows) == first_page["meta"]["total"] == 2 * 2 * 3 * DAYS
    assert [row[:4] for row in rows] == [
        [formula_quoted(row[name]) for name in ("product", "campaign", "channel", "period")]
        for row in listed(api_client, auth, REPORTS, query)
    ]


def test_a_report_of_totals_has_no_period_column(api_client, auth, sales):
    response = api_client.get(REPORTS, {"format": "csv"}, **auth)

    (total,) = listed(api_client, auth, REPORTS, {})
    assert csv_rows(whole(response)) == [
        ["period_start", "conversions"],
        ["2021-01-01", repr(total["conversions"])],
    ]
    assert file_name(response) == "report-total.csv"


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("dimensions=colour", 422),
        ("compare=previous_year", 422),
        ("dimensions=product,campaign,channel&granularity=day", 400),
    ],
)
def test_a_report_that_cannot_be_answered_is_a_json_error(
    api_client, auth, sales, monkeypatch, query, status
):
    monkeypatch.setattr(report_module, "MAX_REPORT_ROWS", 100)

    response = api_client.get(f"{REPORTS}?format=csv&{query}", **auth)

    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert not response.has_header("Content-Disposition")


FLOATS = [
    0.0,
    1.0,
    7.0,
    1e15,
    999999999999999.9,
    123456789012345.0,
    0.1,
    0.30000000000000004,
    1e-05,
    0.0001,
    1.5e-07,
    2242.0662350159814,
    5e-324,
    2.2250738585072014e-308,
    1e-300,
    12345.678901234567,
]


def test_every_float_is_written_as_python_writes_it(api_client, auth, organization):
    rows = [
        MeasurementRow("cola", "branding", "wave", f"channel {n:02}", D(2021, 1, 4), value)
        for n, value in enumerate(FLOATS)
    ]
    measurement_import(organization=organization, records=typed_records(rows))

    _, *lines = csv_rows(whole(api_client.get(MEASUREMENTS, {"format": "csv"}, **auth)))

    assert {line[3]: line[5] for line in lines} == {
        row.channel: repr(row.conversions) for row in rows
    }
