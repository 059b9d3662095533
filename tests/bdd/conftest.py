"""Steps shared by every feature: who is signed in, what data exists, what came back.

The steps speak the analyst's language; the step modules next to this file hold the steps
of one feature each.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client
from pytest_bdd import given, parsers, then, when

from marketing_op.accounts.models import Organization, User
from marketing_op.accounts.services import token_issue
from tests.contract import OPENAPI_PATH, ContractClient
from tests.factories import OrganizationFactory, UserFactory, measurement

REPORT_PATHS = {
    "measurements": "/api/marketing/measurements/",
    "channel sales percentages": "/api/marketing/stats/channel-sales-percentages/",
    "channel weekly sales": "/api/marketing/stats/channel-weekly-sales/",
}
REPORT = r"(?P<report>measurements|channel sales percentages|channel weekly sales)"

MEASUREMENT_DEFAULTS = {
    "product": "energy drink",
    "campaign_type": "performance",
    "campaign": "summer sale",
    "channel": "tv",
    "date": "2021-01-04",
    "conversions": "100",
}


@dataclass
class Conversation:
    """What the analyst did and what the API answered, carried from step to step."""

    headers: dict[str, str] = field(default_factory=dict)
    response: Any = None
    token: str | None = None
    seen: list[dict[str, Any]] = field(default_factory=list)
    expected: list[dict[str, Any]] = field(default_factory=list)

    @property
    def body(self) -> Any:
        return self.response.json()

    @property
    def rows(self) -> list[dict[str, Any]]:
        assert self.response.status_code == 200, self.response.content
        return self.body["data"]


@pytest.fixture
def http_client(api_client: ContractClient) -> Client:
    """The client of every scenario: checks each response against docs/openapi.yaml."""
    assert OPENAPI_PATH.exists(), f"{OPENAPI_PATH} is missing; the contract cannot be checked"
    return api_client


@pytest.fixture
def conversation() -> Conversation:
    return Conversation()


def organization_named(name: str) -> Organization:
    return OrganizationFactory(name=name)


def analyst_of(organization_name: str, username: str | None = None) -> User:
    organization = organization_named(organization_name)
    return UserFactory(
        username=username or f"analyst of {organization_name}", organization=organization
    )


def query_string(query: str) -> str:
    """``channels=tv&campaign_types=always on`` as it goes on the wire (values encoded)."""
    pairs = [part.partition("=")[::2] for part in query.split("&") if part]
    return urlencode(pairs)


def url(path: str, query: str = "") -> str:
    encoded = query_string(query)
    return f"{path}?{encoded}" if encoded else path


def table_records(datatable: list[list[str]]) -> list[dict[str, str]]:
    header, *rows = datatable
    return [dict(zip(header, (cell.strip() for cell in row), strict=True)) for row in rows]


def number(text: str) -> float:
    return float(text)


def create_measurements(organization_name: str, datatable: list[list[str]]) -> None:
    organization = organization_named(organization_name)
    for record in table_records(datatable):
        fields = {**MEASUREMENT_DEFAULTS, **record}
        measurement(
            organization,
            product=fields["product"],
            campaign_type=fields["campaign_type"],
            campaign=fields["campaign"],
            channel=fields["channel"],
            date=datetime.date.fromisoformat(fields["date"]),
            conversions=number(fields["conversions"]),
            spend=number(fields["spend"]) if fields.get("spend") else None,
        )


# --- Given -------------------------------------------------------------------------------


@given(parsers.parse('I am signed in as an analyst of "{organization_name}"'))
def signed_in(organization_name: str, conversation: Conversation) -> None:
    user = analyst_of(organization_name)
    conversation.headers = {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user).token}"}


@given(parsers.parse('"{organization_name}" has these measurements:'))
def organization_has_measurements(organization_name: str, datatable: list[list[str]]) -> None:
    create_measurements(organization_name, datatable)


# --- When --------------------------------------------------------------------------------


def ask(http_client: Client, conversation: Conversation, path: str, query: str = "") -> None:
    conversation.response = http_client.get(url(path, query), **conversation.headers)


@when(parsers.re(rf"I ask for the {REPORT}"))
def ask_for_report(report: str, http_client: Client, conversation: Conversation) -> None:
    ask(http_client, conversation, REPORT_PATHS[report])


@when(parsers.re(rf'I ask for the {REPORT} with "(?P<query>[^"]*)"'))
def ask_for_report_with(
    report: str, query: str, http_client: Client, conversation: Conversation
) -> None:
    ask(http_client, conversation, REPORT_PATHS[report], query)


# --- Then --------------------------------------------------------------------------------


@then(parsers.parse("the answer has status {status:d}"))
def answer_has_status(status: int, conversation: Conversation) -> None:
    assert conversation.response.status_code == status, conversation.response.content


@then(parsers.parse('I am refused with status {status:d} and the message "{message}"'))
def refused_with_message(status: int, message: str, conversation: Conversation) -> None:
    assert conversation.response.status_code == status, conversation.response.content
    assert conversation.body == {"detail": message}


@then("I am refused as not signed in")
def refused_unauthenticated(conversation: Conversation) -> None:
    assert conversation.response.status_code == 401, conversation.response.content
    detail = conversation.body["detail"]
    assert isinstance(detail, str)
    assert detail.strip()


@then(parsers.parse('I am told that the parameter "{parameter}" is invalid'))
def told_parameter_invalid(parameter: str, conversation: Conversation) -> None:
    assert conversation.response.status_code == 422, conversation.response.content
    problems = conversation.body["detail"]
    assert isinstance(problems, list)
    assert problems
    named = [problem for problem in problems if parameter in problem.get("loc", [])]
    assert named, problems
    assert all(problem.get("msg") for problem in named)


@then("I see no rows")
def no_rows(conversation: Conversation) -> None:
    assert conversation.rows == []
