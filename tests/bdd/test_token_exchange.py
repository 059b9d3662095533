"""Steps of token_exchange.feature: Basic credentials in, a bearer token out."""

from __future__ import annotations

import base64
import datetime

import pytest
from django.test import Client
from django.utils import timezone
from pytest_bdd import given, parsers, scenarios, then, when

from marketing_op.accounts.models import AccessToken
from marketing_op.accounts.tokens import token_digest
from tests.bdd.conftest import REPORT, REPORT_PATHS, Conversation, analyst_of
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.api, pytest.mark.django_db]

scenarios("token_exchange.feature")

WRONG_PASSWORD = "not the password"


def basic(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def password(which: str) -> str:
    return {"right": TEST_PASSWORD, "wrong": WRONG_PASSWORD}[which]


def send(http_client: Client, method: str, path: str, headers: dict[str, str]) -> object:
    return getattr(http_client, method.lower())(path, **headers)


@given(parsers.parse('"{username}" is an analyst of "{organization_name}"'))
def analyst_exists(username: str, organization_name: str) -> None:
    analyst_of(organization_name, username)


@given(
    parsers.parse('I have exchanged the username "{username}" and the right password for a token')
)
def token_exchanged(username: str, http_client: Client, conversation: Conversation) -> None:
    response = http_client.get(
        "/api/auth/token/", HTTP_AUTHORIZATION=basic(username, TEST_PASSWORD)
    )
    assert response.status_code == 200, response.content
    conversation.token = response.json()["data"]["token"]


@given(parsers.re(r"that token has been (?P<what>expired|revoked)"))
def token_ended(what: str, conversation: Conversation) -> None:
    assert conversation.token is not None
    access_token = AccessToken.objects.get(digest=token_digest(conversation.token))
    past = timezone.now() - datetime.timedelta(seconds=1)
    if what == "expired":
        access_token.expires_at = past
    else:
        access_token.revoked_at = past
    access_token.save()


@when(
    parsers.re(
        r'I (?P<method>GET|POST) "(?P<path>[^"]+)" with the username "(?P<username>[^"]*)"'
        r" and the (?P<which>right|wrong) password"
    )
)
def exchange_credentials(
    method: str,
    path: str,
    username: str,
    which: str,
    http_client: Client,
    conversation: Conversation,
) -> None:
    headers = {"HTTP_AUTHORIZATION": basic(username, password(which))}
    conversation.response = send(http_client, method, path, headers)


@when(parsers.parse('I GET "{path}" with the Authorization header "{header}"'))
def exchange_with_header(
    path: str, header: str, http_client: Client, conversation: Conversation
) -> None:
    conversation.response = http_client.get(path, HTTP_AUTHORIZATION=header)


@when(parsers.re(r'I (?P<method>GET|POST) "(?P<path>[^"]+)" without an Authorization header'))
def exchange_without_header(
    method: str, path: str, http_client: Client, conversation: Conversation
) -> None:
    conversation.response = send(http_client, method, path, {})


@when(parsers.re(rf"I ask for the {REPORT} with that token"))
def ask_with_token(report: str, http_client: Client, conversation: Conversation) -> None:
    conversation.response = http_client.get(
        REPORT_PATHS[report], HTTP_AUTHORIZATION=f"Bearer {conversation.token}"
    )


@when(parsers.re(rf'I ask for the {REPORT} with the Authorization header "(?P<header>[^"]*)"'))
def ask_with_header(
    report: str, header: str, http_client: Client, conversation: Conversation
) -> None:
    conversation.response = http_client.get(REPORT_PATHS[report], HTTP_AUTHORIZATION=header)


@when(parsers.re(rf"I ask for the {REPORT} without an Authorization header"))
def ask_without_header(report: str, http_client: Client, conversation: Conversation) -> None:
    conversation.response = http_client.get(REPORT_PATHS[report])


@when(
    parsers.re(
        rf'I ask for the {REPORT} with the username "(?P<username>[^"]*)" and the right password'
    )
)
def ask_with_basic(
    report: str, username: str, http_client: Client, conversation: Conversation
) -> None:
    conversation.response = http_client.get(
        REPORT_PATHS[report], HTTP_AUTHORIZATION=basic(username, TEST_PASSWORD)
    )


@then("I receive a token")
def token_received(conversation: Conversation) -> None:
    assert conversation.response.status_code == 200, conversation.response.content
    token = conversation.body["data"]["token"]
    assert isinstance(token, str)
    assert token.strip()
    assert TEST_PASSWORD not in token


@then(parsers.parse('I see rows for the channels "{channels}"'))
def rows_for_channels(channels: str, conversation: Conversation) -> None:
    assert [row["channel"] for row in conversation.rows] == channels.split(", ")
