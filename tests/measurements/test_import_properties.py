"""Properties of the import: any valid file (with or without spend) round-trips exactly
through the API (names quoted against spreadsheet formulas as exports write them); any file
with one bad line changes nothing."""

from __future__ import annotations

import csv
import datetime
import io
import unicodedata
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketing_op.accounts.models import User
from marketing_op.accounts.services import token_issue
from marketing_op.measurements.imports import CSV_COLUMNS
from marketing_op.measurements.imports.formats import formula_quoted
from marketing_op.measurements.models import (
    MAX_CONVERSIONS,
    MAX_SPEND,
    DailyConversions,
    ImportRecord,
    Measurement,
    WeeklyConversions,
)
from tests.factories import OrganizationFactory, UserFactory

pytestmark = [pytest.mark.api, pytest.mark.django_db]

URL = "/api/marketing/measurements/"

names = st.text(
    # Names as an import stores them: no invisible or control characters (refused), in
    # Unicode's composed form (NFC) (see measurements.names).
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Cf", "Zs", "Zl", "Zp")),
    min_size=1,
    max_size=12,
).map(lambda name: unicodedata.normalize("NFC", name)) | st.sampled_from(
    ["tv", "dv360 - prospecting", "a, b", 'say "hi"', "café", "=SUM(A1)", "'abc", "-x", "''"]
)
names = names.filter(lambda name: name == name.strip() and 0 < len(name) <= 200)
days = st.dates(min_value=datetime.date(1990, 1, 1), max_value=datetime.date(2100, 12, 31))
conversions = st.floats(
    min_value=0, max_value=MAX_CONVERSIONS, allow_nan=False, allow_infinity=False
).map(abs)
spends = st.none() | st.integers(min_value=0, max_value=int(MAX_SPEND) * 100).map(
    lambda cents: Decimal(cents) / 100
)
"""Amounts in whole cents (an import refuses more decimals)."""
rows = st.tuples(
    names,
    st.sampled_from(["always on", "branding", "performance"]),
    names,
    names,
    days,
    conversions,
    spends,
)
files = st.lists(rows, min_size=1, max_size=30, unique_by=lambda row: row[:5])


def as_csv(rows: list[tuple[Any, ...]], *, spend: bool = False) -> str:
    """The rows as CSV; with ``spend``, with the spend column (empty where it is None)."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, "spend"] if spend else CSV_COLUMNS)
    for row in rows:
        values = [*map(formula_quoted, row[:4]), row[4].isoformat(), repr(row[5])]
        if spend:
            values.append("" if row[6] is None else str(row[6]))
        writer.writerow(values)
    return stream.getvalue()


def read_back(client: Client, auth: dict[str, str]) -> set[tuple[Any, ...]]:
    found: list[dict[str, Any]] = []
    while True:
        page = client.get(URL, {"offset": len(found), "page_size": 100}, **auth).json()
        found.extend(page["data"])
        if len(found) >= page["meta"]["total"]:
            break
    return {
        (
            row["product"],
            row["campaign_type"],
            row["campaign"],
            row["channel"],
            datetime.date.fromisoformat(row["date"]),
            row["conversions"],
            row["spend"],
        )
        for row in found
    }


def fresh_auth() -> dict[str, str]:
    for model in (Measurement, DailyConversions, WeeklyConversions, ImportRecord):
        model.objects.all().delete()
    user = User.objects.filter(username="ana").first() or UserFactory(
        organization=OrganizationFactory(name="acme"), username="ana"
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user, scopes='read write').token}"}


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(file_rows=files, spend=st.booleans())
def test_any_valid_file_round_trips_exactly_through_the_api(import_chunks, file_rows, spend):
    client = Client()
    auth = fresh_auth()
    body = as_csv(file_rows, spend=spend)

    response = client.post(URL, data=body, content_type="text/csv", **auth)

    assert response.status_code == 200, response.content
    assert response.json()["data"]["inserted"] == len(file_rows)
    assert read_back(client, auth) == {
        (*row[:5], row[5] + 0.0, float(row[6]) if spend and row[6] is not None else None)
        for row in file_rows
    }


bad_lines = st.sampled_from(
    [
        ",t,c,tv,2021-01-04,1",
        "p,t,c,,2021-01-04,1",
        "p,t,c,tv,2021-02-29,1",
        "p,t,c,tv,01/04/2021,1",
        "p,t,c,tv,2021-01-04,-0.5",
        "p,t,c,tv,2021-01-04,nan",
        "p,t,c,tv,2021-01-04,1e999",
        "p,t,c,tv,2021-01-04,ten",
        "p,t,c,tv,2021-01-04",
        "p,t,c,tv,2021-01-04,1,extra",
        f"{'x' * 201},t,c,tv,2021-01-04,1",
        "\ufeffp,t,c,tv,2021-01-04,1",
        "p\u200b,t,c,tv,2021-01-04,1",
        "p\u202egnp.exe,t,c,tv,2021-01-04,1",
        'p,t,"line\nbreak",tv,2021-01-04,1',
    ]
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    file_rows=files,
    bad=bad_lines,
    position=st.integers(min_value=0, max_value=30),
    duplicate=st.booleans(),
)
def test_any_file_with_one_bad_line_changes_nothing(
    import_chunks, file_rows, bad, position, duplicate
):
    client = Client()
    auth = fresh_auth()
    client.post(URL, data=as_csv(file_rows[:3]), content_type="text/csv", **auth)
    before = read_back(client, auth)
    records = [as_csv([]), *(as_csv([row]).split("\n", 1)[1] for row in file_rows)]
    if duplicate:
        bad = records[1].rstrip("\n")
    records.insert(1 + position % len(records), bad + "\n")

    response = client.post(URL, data="".join(records), content_type="text/csv", **auth)

    assert response.status_code == 422, response.content
    assert response.json()["error_count"] == 1  # the one bad line
    assert read_back(client, auth) == before
