"""Steps of exports.feature: the whole result of a question as a CSV or Parquet file."""

from __future__ import annotations

import csv
import datetime
import io
from typing import Any

import pyarrow.parquet as pq
import pytest
from django.test import Client
from pytest_bdd import parsers, scenarios, then, when

from marketing_op.accounts.services import token_issue
from marketing_op.measurements.imports.formats import formula_quoted
from tests.bdd.conftest import Conversation, analyst_of, table_records, url
from tests.factories import stored_measurements

pytestmark = [pytest.mark.api, pytest.mark.django_db]

scenarios("exports.feature")

PATHS = {"measurements": "/api/marketing/measurements/", "reports": "/api/marketing/reports/"}


@pytest.fixture
def exported() -> dict[str, bytes]:
    """The bytes of the file that the last export gave."""
    return {}


def _export(
    path: str,
    query: str,
    client: Client,
    conversation: Conversation,
    exported: dict,
    **headers: str,
) -> None:
    conversation.response = client.get(url(path, query), **conversation.headers, **headers)
    if conversation.response.status_code == 200 and conversation.response.streaming:
        exported["file"] = b"".join(conversation.response.streaming_content)


@when(parsers.re(r'I export the (?P<what>measurements|reports) with "(?P<query>[^"]*)"'))
def export_with(
    what: str, query: str, http_client: Client, conversation: Conversation, exported: dict
) -> None:
    _export(PATHS[what], query, http_client, conversation, exported)


@when(parsers.parse('I export the measurements accepting "{media_type}"'))
def export_accepting(
    media_type: str, http_client: Client, conversation: Conversation, exported: dict
) -> None:
    _export(PATHS["measurements"], "", http_client, conversation, exported, HTTP_ACCEPT=media_type)


@when(parsers.parse('an analyst of "{organization_name}" imports the exported file'))
def import_exported(organization_name: str, http_client: Client, exported: dict) -> None:
    user = analyst_of(organization_name)
    token = token_issue(user=user, scopes="read write").token
    response = http_client.post(
        PATHS["measurements"],
        data=exported["file"],
        content_type="text/csv",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content


@then(parsers.parse('I get the file "{name}" of type "{media_type}"'))
def file_of_type(name: str, media_type: str, conversation: Conversation, exported: dict) -> None:
    response = conversation.response
    assert response.status_code == 200, response.content
    assert response["Content-Type"].split(";")[0] == media_type
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert exported["file"]


def _csv(exported: dict) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(exported["file"].decode(), newline="")))


@then("the CSV file holds every row of the measurements list")
def csv_holds_the_list(http_client: Client, conversation: Conversation, exported: dict) -> None:
    listed = http_client.get(PATHS["measurements"], {"page_size": 100}, **conversation.headers)
    rows = listed.json()["data"]
    assert len(rows) == listed.json()["meta"]["total"]
    names = ("product", "campaign_type", "campaign", "channel")
    assert _csv(exported) == [
        {
            **row,
            **{name: formula_quoted(row[name]) for name in names},
            "conversions": repr(row["conversions"]),
            "spend": "" if row["spend"] is None else f"{row['spend']:.2f}",  # cents
        }
        for row in rows
    ]
    assert any(row["campaign"] == "'=cheap" for row in _csv(exported))


@then("the CSV file reads:")
def csv_reads(docstring: str, exported: dict) -> None:
    assert exported["file"].decode() == docstring.strip() + "\n"


@then(parsers.parse('"{copy}" has the same measurements as "{original}"'))
def same_measurements(copy: str, original: str) -> None:
    stored = stored_measurements()
    copied = sorted(row[1:] for row in stored if row[0] == copy)
    assert copied
    assert copied == sorted(row[1:] for row in stored if row[0] == original)


def _typed(column: str, text: str) -> Any:
    if column == "conversions":
        return float(text)
    if column in {"date", "period_start"}:
        return datetime.date.fromisoformat(text)
    return text


@then("the Parquet file's rows are:")
def parquet_rows(datatable: list[list[str]], exported: dict) -> None:
    expected = [
        {column: _typed(column, text) for column, text in row.items()}
        for row in table_records(datatable)
    ]
    assert pq.read_table(io.BytesIO(exported["file"])).to_pylist() == expected
