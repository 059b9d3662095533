"""Spend is money: stored in exact cents, summed exactly, given as JSON numbers with at most
two decimals (and two-decimal cells in CSV), ROAS to 4 decimals and CPA to the cent; counts
are integers. Every value is checked against a recomputation from the file's own text with
``Decimal``, and where it matters against the raw bytes of the answer (a parsed float would
hide ``3957.9700000000003``)."""

from __future__ import annotations

import csv
import io
import re
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import orjson
import pyarrow.parquet
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketing_op.accounts.services import token_issue
from marketing_op.measurements.models import DailyConversions, Measurement, WeeklyConversions

pytestmark = [pytest.mark.api, pytest.mark.django_db]

MEASUREMENTS = "/api/marketing/measurements/"
REPORTS = "/api/marketing/reports/"
HEADER = "product,campaign_type,campaign,channel,date,conversions,spend\n"
ROWS = [
    # (campaign, channel, date, conversions, spend as the file gives it)
    ("spring", "tv", "2021-01-04", "7", "1000.10"),
    ("spring", "tv", "2021-01-05", "3", "2000.20"),
    ("autumn", "tv", "2021-01-12", "0", "957.67"),
    ("spring", "radio", "2021-01-04", "5", "0.01"),
    ("autumn", "radio", "2021-01-13", "2", "5454.31"),
]
"""Spends whose float sums are not the sums: 1000.10 + 2000.20 + 957.67 is
3957.9700000000003 and 0.01 + 5454.31 is 5454.320000000001 in binary floats."""
CENT = Decimal("0.01")
SPEND_NUMBER = re.compile(rb'"(?:spend|cpa)":(-?[0-9.eE+-]+)')
ROAS_NUMBER = re.compile(rb'"roas":(-?[0-9.eE+-]+)')


@pytest.fixture
def write_auth(user: Any) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user, scopes='read write').token}"}


def imported(client: Any, auth: dict[str, str], rows: list[tuple[str, ...]]) -> None:
    body = HEADER + "".join(f"cola,branding,{','.join(row)}\n" for row in rows)
    response = client.post(MEASUREMENTS, data=body, content_type="text/csv", **auth)
    assert response.status_code == 200, response.content


def exact_sums(rows: list[tuple[str, ...]], by: int | None) -> dict[Any, Decimal]:
    """The exact spend per value of column ``by`` of the rows (None: one total)."""
    sums: dict[Any, Decimal] = {}
    for row in rows:
        key = None if by is None else row[by]
        sums[key] = sums.get(key, Decimal(0)) + Decimal(row[4])
    return sums


def at_most_two_decimals(content: bytes) -> None:
    for number in SPEND_NUMBER.findall(content):
        assert re.fullmatch(rb"[0-9]+(\.[0-9]{1,2})?", number), number


@pytest.mark.parametrize(
    ("query", "by"),
    [
        ("dimensions=channel&granularity=total", 1),  # the weekly and daily summaries
        ("dimensions=channel&granularity=day&fill=false", 1),  # the daily summaries
        ("dimensions=campaign&granularity=total", 0),  # the measurements themselves
    ],
)
def test_report_spend_is_the_exact_sum_with_at_most_two_decimals(
    api_client, auth, write_auth, query, by
):
    imported(api_client, write_auth, ROWS)

    response = api_client.get(f"{REPORTS}?{query}&metrics=spend,measurements&page_size=100", **auth)

    assert response.status_code == 200
    body = response.json()
    found: dict[Any, Decimal] = {}
    for row in body["data"]:
        key = row["campaign" if by == 0 else "channel"]
        found[key] = found.get(key, Decimal(0)) + Decimal(str(row["spend"]))
    assert found == exact_sums(ROWS, by)
    assert Decimal(str(body["meta"]["totals"]["spend"])) == exact_sums(ROWS, None)[None]
    at_most_two_decimals(response.content)


def test_report_counts_are_integers(api_client, auth, write_auth):
    imported(api_client, write_auth, ROWS)

    response = api_client.get(
        f"{REPORTS}?dimensions=channel&granularity=total&metrics=measurements,conversions"
        "&start_date=2021-01-04&end_date=2021-01-13&compare=previous_period",
        **auth,
    )

    body = orjson.loads(response.content)
    assert body["meta"]["totals"]["measurements"] == len(ROWS)
    assert type(body["meta"]["totals"]["measurements"]) is int
    assert type(body["meta"]["previous_totals"]["measurements"]) is int
    assert all(type(row["measurements"]) is int for row in body["data"])
    assert f'"measurements":{len(ROWS)}'.encode() in response.content


def test_roas_has_four_decimals_and_cpa_is_in_cents(api_client, auth, write_auth):
    imported(api_client, write_auth, ROWS)

    response = api_client.get(
        f"{REPORTS}?dimensions=channel&granularity=total&metrics=conversions,spend,roas,cpa",
        **auth,
    )

    for row in response.json()["data"]:
        mine = [r for r in ROWS if r[1] == row["channel"]]
        spend = sum((Decimal(r[4]) for r in mine), Decimal(0))
        conversions = sum(Decimal(r[3]) for r in mine)
        roas = (conversions / spend).quantize(Decimal("0.0001"), ROUND_HALF_EVEN)
        cpa = (spend / conversions).quantize(CENT, ROUND_HALF_EVEN)
        assert (row["spend"], row["roas"], row["cpa"]) == (float(spend), float(roas), float(cpa))
    at_most_two_decimals(response.content)
    for number in ROAS_NUMBER.findall(response.content):
        assert re.fullmatch(rb"[0-9]+(\.[0-9]{1,4})?", number), number


def test_the_measurements_list_gives_each_spend_as_the_file_wrote_it(api_client, auth, write_auth):
    imported(api_client, write_auth, ROWS)

    response = api_client.get(f"{MEASUREMENTS}?page_size=100", **auth)

    spends = {(row["channel"], row["date"]): row["spend"] for row in response.json()["data"]}
    assert spends == {(r[1], r[2]): float(r[4]) for r in ROWS}
    assert sorted(SPEND_NUMBER.findall(response.content)) == sorted(
        [b"1000.1", b"2000.2", b"957.67", b"0.01", b"5454.31"]
    )


def test_exports_write_spend_in_cents(api_client, auth, write_auth):
    imported(api_client, write_auth, ROWS)

    listed = api_client.get(f"{MEASUREMENTS}?format=csv", **auth)
    report = api_client.get(
        f"{REPORTS}?dimensions=channel&granularity=total&metrics=spend,cpa&format=csv", **auth
    )
    parquet = api_client.get(
        f"{REPORTS}?dimensions=channel&granularity=total&metrics=spend,cpa&format=parquet",
        **auth,
    )

    listed_cells = {
        (row["channel"], row["date"]): row["spend"]
        for row in csv.DictReader(io.StringIO(b"".join(listed.streaming_content).decode()))
    }
    assert listed_cells == {(r[1], r[2]): r[4] for r in ROWS}
    report_cells = {
        row["channel"]: row["spend"]
        for row in csv.DictReader(io.StringIO(b"".join(report.streaming_content).decode()))
    }
    assert report_cells == {key: f"{value:.2f}" for key, value in exact_sums(ROWS, 1).items()}
    table = pyarrow.parquet.read_table(io.BytesIO(b"".join(parquet.streaming_content)))
    assert dict(zip(table["channel"].to_pylist(), table["spend"].to_pylist(), strict=True)) == {
        key: float(value) for key, value in exact_sums(ROWS, 1).items()
    }
    assert str(table.schema.field("spend").type) == "double"


def test_measurements_parquet_export_holds_the_spend_in_cents(api_client, auth, write_auth):
    imported(api_client, write_auth, ROWS)

    parquet = api_client.get(f"{MEASUREMENTS}?format=parquet", **auth)

    table = pyarrow.parquet.read_table(io.BytesIO(b"".join(parquet.streaming_content)))
    assert sorted(table["spend"].to_pylist()) == sorted(float(r[4]) for r in ROWS)


@pytest.mark.parametrize(
    ("spend", "stored"), [("12.5", "12.50"), ("12.500", "12.50"), ("1e2", "100.00"), ("0", "0")]
)
def test_a_spend_in_whole_cents_is_stored_exactly(api_client, write_auth, spend, stored):
    imported(api_client, write_auth, [("spring", "tv", "2021-01-04", "1", spend)])

    assert Measurement.objects.get().spend == Decimal(stored)


@pytest.mark.parametrize("spend", ["12.345", "0.001", "3957.9700000000003"])
def test_a_spend_with_more_than_two_decimals_is_refused_naming_line_and_column(
    api_client, write_auth, spend
):
    body = HEADER + "cola,branding,spring,tv,2021-01-04,1,2\ncola,branding,spring,tv,2021-01-05,1,"
    response = api_client.post(
        MEASUREMENTS, data=f"{body}{spend}\n", content_type="text/csv", **write_auth
    )

    assert response.status_code == 422
    problems = response.json()["errors"]
    assert [(p["line"], p["column"], p["value"]) for p in problems] == [(3, "spend", spend)]
    assert "two decimals" in problems[0]["message"]
    assert not Measurement.objects.exists()


def test_a_json_spend_with_more_than_two_decimals_is_refused(api_client, write_auth):
    row = {
        "product": "cola",
        "campaign_type": "branding",
        "campaign": "spring",
        "channel": "tv",
        "date": "2021-01-04",
        "conversions": 1,
    }
    body = orjson.dumps([{**row, "spend": 0.1 + 0.2}, {**row, "date": "2021-01-05", "spend": 0.3}])

    response = api_client.post(
        MEASUREMENTS, data=body, content_type="application/json", **write_auth
    )

    assert response.status_code == 422
    assert [(p["line"], p["column"]) for p in response.json()["errors"]] == [(1, "spend")]


cents = st.integers(min_value=0, max_value=10**11)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(amounts=st.lists(cents, min_size=1, max_size=30))
def test_any_spends_in_cents_sum_to_their_exact_sum(api_client, auth, write_auth, amounts):
    """Hypothesis oracle: whatever cent amounts a file holds, every sum the API gives is the
    exact ``Decimal`` sum (in the total, per channel, per week)."""
    for model in (Measurement, DailyConversions, WeeklyConversions):
        model.objects.all().delete()
    rows = [
        ("spring", ("tv", "radio")[number % 2], f"2021-01-{1 + number:02d}", "1", text)
        for number, text in enumerate(str(Decimal(amount) / 100) for amount in amounts)
    ]
    body = HEADER + "".join(f"cola,branding,{','.join(row)}\n" for row in rows)
    response = api_client.post(MEASUREMENTS, data=body, content_type="text/csv", **write_auth)
    assert response.status_code == 200, response.content

    report = api_client.get(
        f"{REPORTS}?dimensions=channel&granularity=week&metrics=spend&fill=false"
        "&start_date=2021-01-01&end_date=2021-01-31&page_size=100",
        **auth,
    ).json()

    assert Decimal(str(report["meta"]["totals"]["spend"])) == sum(Decimal(a) / 100 for a in amounts)
    by_channel: dict[str, Decimal] = {}
    for row in report["data"]:
        by_channel[row["channel"]] = by_channel.get(row["channel"], Decimal(0)) + Decimal(
            str(row["spend"])
        )
    assert by_channel == exact_sums(rows, 1)
