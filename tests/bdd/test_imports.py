"""Steps of imports.feature: uploads with and without spend, as the analyst sees them."""

from __future__ import annotations

import pytest
from django.test import Client
from pytest_bdd import given, parsers, scenarios, then, when

from marketing_op.accounts.services import token_issue
from tests.bdd.conftest import REPORT_PATHS, Conversation, analyst_of, number, table_records

pytestmark = [pytest.mark.api, pytest.mark.django_db]

scenarios("imports.feature")

UPLOADS = REPORT_PATHS["measurements"]


@given(parsers.parse('I am signed in as an analyst of "{organization_name}" who may import'))
def signed_in_to_import(organization_name: str, conversation: Conversation) -> None:
    user = analyst_of(organization_name)
    token = token_issue(user=user, scopes="read write").token
    conversation.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def upload(
    http_client: Client, conversation: Conversation, body: str, content_type: str = "text/csv"
) -> None:
    conversation.response = http_client.post(
        UPLOADS, data=body.encode(), content_type=content_type, **conversation.headers
    )


@given("I uploaded this CSV file:")
def uploaded_csv(docstring: str, http_client: Client, conversation: Conversation) -> None:
    upload(http_client, conversation, docstring + "\n")
    assert conversation.response.status_code == 200, conversation.response.content


@when("I upload this CSV file:")
def upload_csv(docstring: str, http_client: Client, conversation: Conversation) -> None:
    upload(http_client, conversation, docstring + "\n")


@when("I upload this JSON list:")
def upload_json(docstring: str, http_client: Client, conversation: Conversation) -> None:
    upload(http_client, conversation, docstring, content_type="application/json")


@when(parsers.parse('I upload a CSV file whose third line has the spend "{spend}"'))
def upload_bad_spend(spend: str, http_client: Client, conversation: Conversation) -> None:
    body = (
        "product,campaign_type,campaign,channel,date,conversions,spend\n"
        "cola,performance,summer sale,tv,2021-01-04,100,41\n"
        f"cola,performance,summer sale,tv,2021-01-05,90,{spend}\n"
    )
    upload(http_client, conversation, body)


@then(
    parsers.parse(
        "the import is accepted with {inserted:d} rows inserted, {updated:d} updated "
        "and {unchanged:d} unchanged"
    )
)
def accepted(inserted: int, updated: int, unchanged: int, conversation: Conversation) -> None:
    assert conversation.response.status_code == 200, conversation.response.content
    summary = conversation.body["data"]
    assert (summary["inserted"], summary["updated"], summary["unchanged"]) == (
        inserted,
        updated,
        unchanged,
    )


@then(
    parsers.parse(
        'the import is rejected for line {line:d}, column "{column}", value "{value}": "{message}"'
    )
)
def rejected(line: int, column: str, value: str, message: str, conversation: Conversation) -> None:
    assert conversation.response.status_code == 422, conversation.response.content
    assert conversation.body["errors"] == [
        {"line": line, "column": column, "value": value, "message": message}
    ]


@then("the measurements are:")
def measurements_are(
    datatable: list[list[str]], http_client: Client, conversation: Conversation
) -> None:
    response = http_client.get(UPLOADS, {"page_size": 100}, **conversation.headers)
    assert response.status_code == 200, response.content
    expected = [
        {
            "channel": record["channel"],
            "date": record["date"],
            "conversions": number(record["conversions"]),
            "spend": None if record["spend"] == "null" else number(record["spend"]),
        }
        for record in table_records(datatable)
    ]
    assert [
        {column: row[column] for column in ("channel", "date", "conversions", "spend")}
        for row in response.json()["data"]
    ] == expected
