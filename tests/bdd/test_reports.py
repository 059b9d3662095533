"""Steps of reports.feature: the analyst's questions of the report endpoint."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from pytest_bdd import given, parsers, scenarios, then, when

from tests.bdd.conftest import Conversation, organization_named, table_records, url
from tests.factories import measurement

pytestmark = [pytest.mark.api, pytest.mark.django_db]

scenarios("reports.feature")

REPORTS = "/api/marketing/reports/"
NUMBERS = {"conversions", "share", "spend", "roas", "cpa"}
COMPARED = {"previous", "change"}
"""Columns of a table that hold the comparison of conversions."""


@given(
    parsers.parse(
        '"{organization_name}" ran campaigns "{prefix} 1" to "{prefix_again} {last:d}", '
        "campaign n selling n times {amount:d}"
    )
)
def ran_campaigns(
    organization_name: str, prefix: str, prefix_again: str, last: int, amount: int
) -> None:
    organization = organization_named(organization_name)
    for n in range(1, last + 1):
        measurement(
            organization,
            campaign=f"{prefix} {n}",
            date=datetime.date(2021, 9, 1),
            conversions=float(n * amount),
        )


@when(parsers.re(r'I ask for a report with "(?P<query>[^"]*)"'))
def ask_for_a_report(query: str, http_client: Client, conversation: Conversation) -> None:
    conversation.response = http_client.get(url(REPORTS, query), **conversation.headers)
    conversation.seen = conversation.rows if conversation.response.status_code == 200 else []


def _cell(column: str, row: dict) -> object:
    if column in COMPARED:
        # A row whose comparison period holds no measurement has no `previous` at all.
        return None if row[column] is None else row[column]["conversions"]
    return row[column]


def _expected(column: str, text: str) -> object:
    if text == "null":
        return None
    if column in NUMBERS | COMPARED:
        return pytest.approx(float(text), abs=5e-5)
    return text


@then("the report rows are:")
def report_rows_are(datatable: list[list[str]], conversation: Conversation) -> None:
    expected = table_records(datatable)
    found = [{column: _cell(column, row) for column in expected[0]} for row in conversation.rows]
    assert found == [
        {column: _expected(column, text) for column, text in row.items()} for row in expected
    ]


@then(parsers.parse("the report's total conversions are {total:g}"))
def total_conversions(total: float, conversation: Conversation) -> None:
    assert conversation.body["meta"]["totals"]["conversions"] == total


@then(parsers.parse("the report's total {metric} is {total:g}"))
def total_of_metric(metric: str, total: float, conversation: Conversation) -> None:
    assert conversation.body["meta"]["totals"][metric] == pytest.approx(total)


@then(parsers.parse('the report lists the campaigns "{names}"'))
def lists_campaigns(names: str, conversation: Conversation) -> None:
    assert [row["campaign"] for row in conversation.rows] == names.split(", ")


@then(parsers.parse("the report has {total:d} rows in all"))
def rows_in_all(total: int, conversation: Conversation) -> None:
    assert conversation.body["meta"]["total"] == total


@then("each channel's share in the report is its percentage of the channel shares")
def shares_agree(conversation: Conversation) -> None:
    percentages = {row["channel"]: row["percentage"] for row in conversation.rows}
    report = {row["channel"]: f"{100 * row['share']:.2f}" for row in conversation.seen}
    assert report
    assert report == percentages
