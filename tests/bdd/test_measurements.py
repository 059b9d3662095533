"""Steps of measurements.feature: the daily measurement list, its filters and its pages."""

from __future__ import annotations

import datetime
import itertools
from typing import Any

import pytest
from django.test import Client
from pytest_bdd import given, parsers, scenarios, then, when

from tests.bdd.conftest import (
    REPORT_PATHS,
    Conversation,
    number,
    organization_named,
    table_records,
    url,
)
from tests.factories import measurement

pytestmark = [pytest.mark.api, pytest.mark.django_db]

scenarios("measurements.feature")

LIST_FILTERS = {
    "products": "product",
    "campaigns": "campaign",
    "campaign_types": "campaign_type",
    "channels": "channel",
}


def days(first: str, last: str) -> list[datetime.date]:
    start, end = datetime.date.fromisoformat(first), datetime.date.fromisoformat(last)
    return [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]


def names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def matches(row: dict[str, Any], filters: str) -> bool:
    """Whether a measurement row passes the filters as the contract describes them."""
    chosen: dict[str, list[str]] = {}
    for part in filter(None, filters.split("&")):
        key, _, value = part.partition("=")
        chosen.setdefault(key, []).append(value)
    for key, values in chosen.items():
        if key in LIST_FILTERS and row[LIST_FILTERS[key]] not in values:
            return False
        if key == "start_date" and row["date"] < values[0]:
            return False
        if key == "end_date" and row["date"] > values[0]:
            return False
    return True


def in_documented_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(
        rows,
        key=lambda row: (
            row["date"],
            row["product"],
            row["campaign_type"],
            row["campaign"],
            row["channel"],
        ),
    )


@given(
    parsers.parse('"{organization_name}" has one measurement on every day from {first} to {last}')
)
def one_measurement_a_day(organization_name: str, first: str, last: str) -> None:
    organization = organization_named(organization_name)
    for day in days(first, last):
        measurement(organization, date=day, conversions=float(day.day))


@given(
    parsers.re(
        r'"(?P<organization_name>[^"]+)" runs the campaigns "(?P<first_campaign>[^"]+)"'
        r" \((?P<first_type>[^)]+)\) and \"(?P<second_campaign>[^\"]+)\" \((?P<second_type>[^)]+)\)"
        r' for the products "(?P<products>[^"]+)" on the channels "(?P<channels>[^"]+)"'
        r" every day from (?P<first>\S+) to (?P<last>\S+)"
    ),
)
def campaigns_every_day(
    organization_name: str,
    first_campaign: str,
    first_type: str,
    second_campaign: str,
    second_type: str,
    products: str,
    channels: str,
    first: str,
    last: str,
    conversation: Conversation,
) -> None:
    organization = organization_named(organization_name)
    campaigns = [(first_campaign, first_type), (second_campaign, second_type)]
    combinations = itertools.product(days(first, last), names(products), campaigns, names(channels))
    for serial, (day, product, (campaign, campaign_type), channel) in enumerate(
        combinations, start=1
    ):
        row = {
            "product": product,
            "campaign_type": campaign_type,
            "campaign": campaign,
            "channel": channel,
            "date": day.isoformat(),
            "conversions": serial + 0.5,
            "spend": float(serial) if serial % 3 else None,
        }
        measurement(organization, **{**row, "date": day})
        conversation.expected.append(row)


@when(
    parsers.re(
        r"I walk through the measurements (?P<page_size>\d+) at a time"
        r' with "(?P<filters>[^"]*)"'
    ),
    converters={"page_size": int},
)
def walk_pages(
    page_size: int, filters: str, http_client: Client, conversation: Conversation
) -> None:
    conversation.expected = in_documented_order(
        [row for row in conversation.expected if matches(row, filters)]
    )
    offset = 0
    for _ in range(len(conversation.expected) + 2):
        query = f"{filters}&page_size={page_size}&offset={offset}"
        conversation.response = http_client.get(
            url(REPORT_PATHS["measurements"], query), **conversation.headers
        )
        page = conversation.rows
        assert len(page) <= page_size
        if not page:
            return
        conversation.seen.extend(page)
        offset += page_size
    pytest.fail("the pages never ended")


@then("I see these measurements:")
def see_measurements(datatable: list[list[str]], conversation: Conversation) -> None:
    expected = [
        {
            **record,
            "conversions": number(record["conversions"]),
            "spend": number(record["spend"]) if record.get("spend") else None,
        }
        for record in table_records(datatable)
    ]
    assert conversation.rows == expected


@then(parsers.re(r'I see the measurements with conversions "(?P<conversions>[^"]*)"'))
def see_conversions(conversions: str, conversation: Conversation) -> None:
    assert [row["conversions"] for row in conversation.rows] == [
        number(value) for value in names(conversions)
    ]


@then(parsers.parse("I see the measurements of every day from {first} to {last}"))
def see_days(first: str, last: str, conversation: Conversation) -> None:
    assert [row["date"] for row in conversation.rows] == [
        day.isoformat() for day in days(first, last)
    ]
    assert [row["conversions"] for row in conversation.rows] == [
        float(day.day) for day in days(first, last)
    ]


@then(
    "I have seen every matching measurement exactly once, "
    "in date, product, campaign type, campaign and channel order"
)
def seen_every_measurement_once(conversation: Conversation) -> None:
    assert conversation.expected, "the filters should match some measurements"
    assert conversation.seen == conversation.expected
