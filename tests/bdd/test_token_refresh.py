"""Steps of token_refresh.feature: a refresh token in, a new pair out, reuse caught."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone
from pytest_bdd import given, parsers, scenarios, then, when

from marketing_op.accounts.models import RefreshToken
from marketing_op.accounts.tokens import token_digest
from tests.bdd.conftest import Conversation, analyst_of
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.api, pytest.mark.django_db]

scenarios("token_refresh.feature")

REFRESH_URL = "/api/auth/token/refresh/"
MEASUREMENTS = "/api/marketing/measurements/"


@pytest.fixture
def pairs() -> list[dict[str, str]]:
    """Every pair the analyst received, the exchange's first."""
    return []


def post_refresh(http_client: Client, refresh_token: str) -> object:
    return http_client.post(
        REFRESH_URL, {"refresh_token": refresh_token}, content_type="application/json"
    )


@given(parsers.parse('"{username}" is an analyst of "{organization_name}"'))
def analyst_exists(username: str, organization_name: str) -> None:
    analyst_of(organization_name, username)


@given(
    parsers.parse('I have exchanged the username "{username}" and the right password for a token')
)
def token_exchanged(username: str, http_client: Client, pairs: list[dict[str, str]]) -> None:
    response = http_client.get(
        "/api/auth/token/",
        **http_client.basic(username, TEST_PASSWORD),  # type: ignore[attr-defined]
    )
    assert response.status_code == 200, response.content
    pairs.append(response.json()["data"])


@given("I have refreshed with my refresh token")
@when("I refresh with my refresh token")
def refresh_with_latest(
    http_client: Client, conversation: Conversation, pairs: list[dict[str, str]]
) -> None:
    latest = pairs[-1]
    conversation.response = post_refresh(http_client, latest["refresh_token"])
    if conversation.response.status_code == 200:
        pairs.append(conversation.response.json()["data"])


@when("I refresh with my first refresh token again")
def refresh_with_first(
    http_client: Client, conversation: Conversation, pairs: list[dict[str, str]]
) -> None:
    conversation.response = post_refresh(http_client, pairs[0]["refresh_token"])


@when(parsers.parse('I refresh with the refresh token "{refresh_token}"'))
def refresh_with(refresh_token: str, http_client: Client, conversation: Conversation) -> None:
    conversation.response = post_refresh(http_client, refresh_token)


@when("I revoke my token")
def revoke_token(http_client: Client, pairs: list[dict[str, str]]) -> None:
    token = pairs[-1]["token"]
    response = http_client.delete("/api/auth/token/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 204, response.content


@given(parsers.re(r"my refresh token has been (?P<what>expired|revoked)"))
def refresh_token_ended(what: str, pairs: list[dict[str, str]]) -> None:
    latest = pairs[-1]
    stored = RefreshToken.objects.get(digest=token_digest(latest["refresh_token"]))
    past = timezone.now() - datetime.timedelta(seconds=1)
    if what == "expired":
        stored.expires_at = past
    else:
        stored.revoked_at = past
    stored.save()


@then("I receive a new token and a new refresh token")
def new_pair_received(conversation: Conversation, pairs: list[dict[str, str]]) -> None:
    assert conversation.response.status_code == 200, conversation.response.content
    first, latest = pairs[0], pairs[-1]
    assert latest["token"] != first["token"]
    assert latest["refresh_token"] != first["refresh_token"]
    assert latest["scopes"] == first["scopes"]


@then("the new token opens the measurements")
def new_token_opens(http_client: Client, pairs: list[dict[str, str]]) -> None:
    response = http_client.get(MEASUREMENTS, HTTP_AUTHORIZATION=f"Bearer {pairs[-1]['token']}")
    assert response.status_code == 200, response.content
    assert [row["conversions"] for row in response.json()["data"]] == [420]


@then("neither my first nor my new token opens the measurements")
def no_token_opens(http_client: Client, pairs: list[dict[str, str]]) -> None:
    for pair in (pairs[0], pairs[-1]):
        response = http_client.get(MEASUREMENTS, HTTP_AUTHORIZATION=f"Bearer {pair['token']}")
        assert response.status_code == 401, response.content


@then("my new refresh token is refused too")
def new_refresh_refused(http_client: Client, pairs: list[dict[str, str]]) -> None:
    assert post_refresh(http_client, pairs[-1]["refresh_token"]).status_code == 401
