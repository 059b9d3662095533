"""What a client meets at the edges of an upload (issue 12): bodies that inflate without
bound, calendar ends, values whose sums would overflow, deep nesting, chunked bodies and
charsets. Each answers at once with a 4xx JSON body and writes nothing; memory stays flat."""

from __future__ import annotations

import datetime
import gzip
import os
import tracemalloc
from collections.abc import Callable
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from marketing_op.accounts.services import token_issue
from marketing_op.measurements.imports import MeasurementRow, measurement_import, typed_records
from marketing_op.measurements.models import ImportRecord, Measurement

pytestmark = [pytest.mark.api, pytest.mark.django_db]

URL = "/api/marketing/measurements/"
HEADER = "product,campaign_type,campaign,channel,date,conversions\n"
ROW = "p,branding,c,tv,2021-01-04,12.5\n"
MB = 1024 * 1024
MEMORY_BOUND = 200 * MB
"""Peak of Python's allocations while one upload is answered, the body itself included."""


@pytest.fixture
def write_auth(user: Any) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user, scopes='read write').token}"}


def upload(client: Any, auth: dict[str, str], body: bytes, content_type: str = "text/csv") -> Any:
    """POST the bytes as they are (``generic`` does not re-encode them)."""
    return client.generic("POST", URL, body, content_type=content_type, **auth)


def gzip_of(text: bytes, *, repeated: bytes = b"", times: int = 0) -> bytes:
    """A gzip of the text followed by ``times`` times ``repeated``: one member, then the
    same member again and again, which reads as one stream (so a test builds huge texts
    in a few kilobytes, quickly)."""
    member = gzip.compress(repeated) if times else b""
    return gzip.compress(text) + member * times


def answered_within_memory(call: Callable[[], Any]) -> tuple[Any, int]:
    tracemalloc.start()
    try:
        response = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return response, peak


def nothing_written() -> bool:
    return not Measurement.objects.exists()


# --- 1. bodies that inflate without bound ---------------------------------------------------


def test_a_gzip_of_one_huge_line_is_a_422_at_once_with_flat_memory(api_client, write_auth):
    body = gzip_of(HEADER.encode(), repeated=b"a" * MB, times=3 * 1024)  # a 3 GiB line

    response, peak = answered_within_memory(lambda: upload(api_client, write_auth, body))

    assert response.status_code == 422, response.content
    assert "longer than" in response.json()["errors"][0]["message"]
    assert response.json()["errors"][0]["line"] == 2
    assert peak < MEMORY_BOUND
    assert nothing_written()


def test_a_gzip_of_blank_lines_is_a_413_once_past_the_row_limit(api_client, write_auth, settings):
    settings.MAX_UPLOAD_ROWS = 100_000
    body = gzip_of(HEADER.encode(), repeated=b"\n" * MB, times=1024)  # a billion blank lines

    response, peak = answered_within_memory(lambda: upload(api_client, write_auth, body))

    assert response.status_code == 413, response.content
    assert "100000 rows" in response.json()["detail"]
    assert peak < MEMORY_BOUND
    assert nothing_written()


def test_a_gzip_of_repeated_rows_is_a_413_once_past_the_row_limit(api_client, write_auth, settings):
    settings.MAX_UPLOAD_ROWS = 20_000
    body = gzip_of(HEADER.encode(), repeated=ROW.encode() * 10_000, times=100)  # a million

    response = upload(api_client, write_auth, body)

    assert response.status_code == 413, response.content
    assert "20000 rows" in response.json()["detail"]
    assert nothing_written()


def test_max_upload_bytes_bounds_the_inflated_body_too(api_client, write_auth, settings):
    settings.MAX_UPLOAD_BYTES = 100_000
    rows = "".join(f"p,branding,c{n},tv,2021-01-04,1\n" for n in range(10_000))
    body = gzip.compress((HEADER + rows).encode())
    assert len(body) < 100_000 < len(HEADER + rows)

    response = upload(api_client, write_auth, body)

    assert response.status_code == 413, response.content
    assert "once inflated" in response.json()["detail"]
    assert nothing_written()


def test_a_large_json_list_of_empty_objects_is_a_413_with_flat_memory(
    api_client, write_auth, settings
):
    settings.MAX_UPLOAD_ROWS = 100_000
    body = b"[" + b"{}," * (15 * MB) + b"{}]"  # 45 MB, 15 million rows

    response, peak = answered_within_memory(
        lambda: upload(api_client, write_auth, body, "application/json")
    )

    assert response.status_code == 413, response.content
    assert peak < MEMORY_BOUND + len(body) * 2  # the test client holds the body twice
    assert nothing_written()


def test_a_json_list_streams_row_by_row_and_imports(api_client, write_auth):
    body = b'[\n {"product": "p", "campaign_type": "b", "campaign": "c", "channel": "tv",'
    body += b' "date": "2021-01-04", "conversions": 1.5},\n'
    body += b'{"product": "p", "campaign_type": "b", "campaign": "c", "channel": "radio", '
    body += b'"date": "2021-01-04", "conversions": 2} ]\n'

    response = upload(api_client, write_auth, body, "application/json")

    assert response.status_code == 200, response.content
    assert response.json()["data"]["inserted"] == 2
    assert sorted(Measurement.objects.values_list("channel__name", "conversions")) == [
        ("radio", 2.0),
        ("tv", 1.5),
    ]


# --- 4. dates at the ends of the calendar ---------------------------------------------------


@pytest.mark.parametrize("day", ["9999-12-27", "9999-12-31", "3000-01-01", "1899-12-31"])
def test_a_date_outside_the_calendar_bounds_is_a_row_problem(api_client, write_auth, day):
    body = f"{HEADER}{ROW}p,branding,c,radio,{day},3\n".encode()

    response = upload(api_client, write_auth, body)

    assert response.status_code == 422, response.content
    assert response.json()["errors"] == [
        {
            "line": 3,
            "column": "date",
            "value": day,
            "message": "is outside the days a measurement may have, 1900-01-01 to 2999-12-31",
        }
    ]
    assert nothing_written()


def test_the_calendar_bounds_themselves_are_accepted(api_client, write_auth):
    body = f"{HEADER}p,b,c,tv,1900-01-01,1\np,b,c,tv,2999-12-31,2\n".encode()

    response = upload(api_client, write_auth, body)

    assert response.status_code == 200, response.content
    assert sorted(Measurement.objects.values_list("date", flat=True)) == [
        datetime.date(1900, 1, 1),
        datetime.date(2999, 12, 31),
    ]


def test_the_command_rejects_a_date_at_the_end_of_the_calendar(organization, tmp_path, capsys):
    path = tmp_path / "late.csv"
    path.write_text(f"{HEADER}p,branding,c,tv,9999-12-28,1\n")

    with pytest.raises(CommandError) as raised:
        call_command("import", str(path), "--organization", organization.name)

    assert raised.value.returncode == 1
    assert "9999-12-28" in capsys.readouterr().err
    assert nothing_written()


# --- 5. values whose sums would overflow ----------------------------------------------------


@pytest.mark.parametrize("value", ["1.7e308", "1.000001e15", "1e16"])
def test_conversions_above_the_bound_are_a_row_problem(api_client, write_auth, value):
    body = f"{HEADER}{ROW}p,branding,c,radio,2021-01-04,{value}\n".encode()

    response = upload(api_client, write_auth, body)

    assert response.status_code == 422, response.content
    [problem] = response.json()["errors"]
    assert (problem["line"], problem["column"], problem["value"]) == (3, "conversions", value)
    assert "at most 1e+15" in problem["message"]
    assert nothing_written()


def test_two_rows_at_the_bound_on_one_day_sum_to_a_finite_number(api_client, write_auth):
    body = f"{HEADER}p,b,c,tv,2021-01-04,1e15\np,b,d,tv,2021-01-04,1e15\n".encode()

    assert upload(api_client, write_auth, body).status_code == 200
    shares = api_client.get(
        "/api/marketing/stats/channel-sales-percentages/",
        HTTP_AUTHORIZATION=write_auth["HTTP_AUTHORIZATION"],
    )
    weekly = api_client.get(
        "/api/marketing/stats/channel-weekly-sales/",
        HTTP_AUTHORIZATION=write_auth["HTTP_AUTHORIZATION"],
    )

    assert shares.status_code == 200, shares.content
    assert weekly.status_code == 200, weekly.content
    assert weekly.json()["data"][0]["sales"] == 2e15


def test_a_json_integer_beyond_any_float_is_a_row_problem(api_client, write_auth):
    body = (
        b'[{"product": "p", "campaign_type": "b", "campaign": "c", "channel": "tv", '
        b'"date": "2021-01-04", "conversions": 1' + b"0" * 400 + b"}]"
    )

    response = upload(api_client, write_auth, body, "application/json")

    assert response.status_code == 422, response.content
    assert response.json()["errors"][0]["column"] == "conversions"
    assert nothing_written()


def test_the_service_rejects_conversions_above_the_bound(organization):
    row = MeasurementRow("p", "b", "c", "tv", datetime.date(2021, 1, 4), 2e15)

    with pytest.raises(Exception, match="at most 1e\\+15"):
        measurement_import(organization=organization, records=typed_records([row]))

    assert nothing_written()


# --- 6. nesting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 1000 + b"]" * 1000,
        b'[{"product": ' + b'{"a": ' * 1000 + b"1" + b"}" * 1000 + b"}]",
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=["lists 1000 deep", "objects 1000 deep", "lists 100000 deep"],
)
def test_a_json_body_nested_deeply_is_a_422(api_client, write_auth, body):
    response = upload(api_client, write_auth, body, "application/json")

    assert response.status_code == 422, response.content
    assert response.json()["error_count"] == 1
    assert nothing_written()


# --- 12. chunked bodies and charsets ----------------------------------------------------------


def test_a_csv_in_latin_1_is_decoded_in_its_charset(api_client, write_auth):
    body = f"{HEADER}café crème,branding,été,télé,2021-01-04,1\n".encode("latin-1")

    response = upload(api_client, write_auth, body, "text/csv; charset=latin-1")

    assert response.status_code == 200, response.content
    assert list(
        Measurement.objects.values_list(
            "campaign__product__name", "campaign__name", "channel__name"
        )
    ) == [("café crème", "été", "télé")]


def test_a_csv_in_windows_1252_is_decoded_in_its_charset(api_client, write_auth):
    body = f"{HEADER}p,branding,€ days,tv,2021-01-04,1\n".encode("cp1252")

    response = upload(api_client, write_auth, body, "text/csv; charset=windows-1252")

    assert response.status_code == 200, response.content
    assert Measurement.objects.get().campaign.name == "€ days"


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [("text/csv; charset=klingon", "klingon"), ("application/json; charset=latin-1", "latin-1")],
)
def test_a_charset_the_import_does_not_read_is_a_415_naming_it(
    api_client, write_auth, content_type, charset
):
    response = upload(api_client, write_auth, (HEADER + ROW).encode(), content_type)

    assert response.status_code == 415, response.content
    assert charset in response.json()["detail"]
    assert not ImportRecord.objects.exists()


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "postgres").startswith("postgres"),
    reason="VACUUM and the visibility map are PostgreSQL's",
)
@pytest.mark.django_db(transaction=True)
def test_a_replace_that_deletes_many_rows_leaves_the_table_vacuumed(organization):
    """After it, reads (an uncached /dimensions/) do not wade through dead rows until
    autovacuum comes by: the table's pages are all visible again."""
    first = datetime.date(2021, 1, 4)
    days = [first + datetime.timedelta(days=n) for n in range(100)]
    rows = [MeasurementRow("p", "b", f"c{n}", "tv", day, 1.0) for day in days for n in range(600)]
    measurement_import(organization=organization, records=typed_records(rows))

    summary = measurement_import(
        organization=organization, records=typed_records([rows[0], rows[-1]]), replace=True
    )

    assert summary.deleted == 59_998
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relpages, relallvisible FROM pg_class "
            "WHERE relname = 'measurements_measurement'"
        )
        pages, all_visible = cursor.fetchone()
    assert all_visible == pages >= 1
