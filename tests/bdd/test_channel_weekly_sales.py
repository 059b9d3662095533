"""Steps of channel_weekly_sales.feature: net sales per channel per ISO week."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from pytest_bdd import given, parsers, scenarios, then

from tests.bdd.conftest import Conversation, number, organization_named, table_records
from tests.factories import measurement

pytestmark = [pytest.mark.api, pytest.mark.django_db]

scenarios("channel_weekly_sales.feature")


def weekly_row(channel: str, year: str, week: str, sales: str) -> dict[str, Any]:
    return {"channel": channel, "year": int(year), "week": int(week), "sales": number(sales)}


def weekly_rows(text: str) -> list[dict[str, Any]]:
    """``tv 2021 1 10.5, radio 2021 2 1.75``: channel, ISO year, ISO week, sales."""
    rows = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        channel, year, week, sales = item.rsplit(" ", 3)
        rows.append(weekly_row(channel, year, week, sales))
    return rows


def assert_weekly_sales(conversation: Conversation, expected: list[dict[str, Any]]) -> None:
    rows = conversation.rows
    assert all(isinstance(row["sales"], int | float) for row in rows), rows
    assert [
        {key: row[key] for key in ("channel", "year", "week", "sales")} for row in rows
    ] == expected


@given(parsers.parse('"{organization_name}" sold {amount} on {channel} on {date}'))
def sold_on_a_day(organization_name: str, amount: str, channel: str, date: str) -> None:
    measurement(
        organization_named(organization_name),
        channel=channel,
        date=datetime.date.fromisoformat(date),
        conversions=number(amount),
    )


@given(
    parsers.parse(
        '"{organization_name}" sold {amount} on {channel} every day from {first} to {last}'
    )
)
def sold_every_day(
    organization_name: str, amount: str, channel: str, first: str, last: str
) -> None:
    organization = organization_named(organization_name)
    day, end = datetime.date.fromisoformat(first), datetime.date.fromisoformat(last)
    while day <= end:
        measurement(organization, channel=channel, date=day, conversions=number(amount))
        day += datetime.timedelta(days=1)


@then("I see these weekly sales:")
def see_weekly_sales_table(datatable: list[list[str]], conversation: Conversation) -> None:
    expected = [weekly_row(**record) for record in table_records(datatable)]
    assert_weekly_sales(conversation, expected)


@then(parsers.re(r'I see the weekly sales "(?P<expected>[^"]*)"'))
def see_weekly_sales(expected: str, conversation: Conversation) -> None:
    assert_weekly_sales(conversation, weekly_rows(expected))


@then(parsers.parse("I see the weekly sales of {channel} in year {year}, week {week} as {sales}"))
def see_one_week(
    channel: str, year: str, week: str, sales: str, conversation: Conversation
) -> None:
    assert_weekly_sales(conversation, [weekly_row(channel, year, week, sales)])
