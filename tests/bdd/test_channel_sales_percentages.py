"""Steps of channel_sales_percentages.feature: each channel's share of the net sales."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from pytest_bdd import given, parsers, scenarios, then, when

from tests.bdd.conftest import Conversation, number, organization_named, table_records, url
from tests.factories import measurement

pytestmark = [pytest.mark.api, pytest.mark.django_db]

scenarios("channel_sales_percentages.feature")

OLD_PATH = "/api/marketing/stats/channels-sales-percentages/"


def shares(text: str) -> list[dict[str, str]]:
    """``tv 67.74, radio 32.26`` as rows; a channel name may hold spaces."""
    rows = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        channel, _, percentage = item.rpartition(" ")
        rows.append({"channel": channel, "percentage": percentage})
    return rows


def assert_shares(conversation: Conversation, expected: list[dict[str, str]]) -> None:
    rows = conversation.rows
    assert all(isinstance(row["percentage"], str) for row in rows), rows
    assert [{"channel": row["channel"], "percentage": row["percentage"]} for row in rows] == (
        expected
    )


@given(
    parsers.parse('"{organization_name}" sold {radio} on radio and {tv} on tv'),
)
def sold_on_radio_and_tv(organization_name: str, radio: str, tv: str) -> None:
    organization = organization_named(organization_name)
    day = datetime.date(2021, 1, 4)
    measurement(organization, channel="radio", date=day, conversions=number(radio))
    measurement(organization, channel="tv", date=day, conversions=number(tv))


@when(
    parsers.re(
        r"I ask for the channel sales percentages by their old address"
        r' with "(?P<filters>[^"]*)"'
    )
)
def ask_old_address(filters: str, http_client: Client, conversation: Conversation) -> None:
    conversation.response = http_client.get(url(OLD_PATH, filters), **conversation.headers)


@then("I see these channel shares:")
def see_share_table(datatable: list[list[str]], conversation: Conversation) -> None:
    assert_shares(conversation, table_records(datatable))


@then(parsers.re(r'I see the channel shares "(?P<expected>[^"]*)"'))
def see_shares(expected: str, conversation: Conversation) -> None:
    assert_shares(conversation, shares(expected))
