"""Steps of identity_provider_sign_in.feature: the dashboard's sign-in and the API's
access tokens through the test identity provider on loopback."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import urlparse

import pytest
from django.test import Client
from joserfc.jwk import RSAKey
from pytest_bdd import given, parsers, scenarios, then, when

from tests.bdd.conftest import Conversation, analyst_of
from tests.factories import TEST_PASSWORD
from tests.identity_provider import IdentityProvider

pytestmark = [pytest.mark.api, pytest.mark.django_db]

scenarios("identity_provider_sign_in.feature")

MEASUREMENTS = "/api/marketing/measurements/"


@pytest.fixture
def browser() -> Client:
    """The analyst's browser: keeps its cookies from step to step."""
    return Client()


@given("the service signs in with the company's identity provider")
def service_with_provider(identity_provider: IdentityProvider) -> None:
    assert identity_provider.issuer


@given(parsers.parse('"{username}" of "{organization_name}" signs in with the subject "{subject}"'))
def user_with_subject(username: str, organization_name: str, subject: str) -> None:
    user = analyst_of(organization_name, username)
    user.oidc_subject = subject
    user.save()


@given(parsers.parse('the organisation claim is "{claim}"'))
def organization_claim(claim: str, settings: object) -> None:
    settings.OIDC_ORGANIZATION_CLAIM = claim  # type: ignore[attr-defined]


@given(parsers.parse('the provider says that "{subject}" belongs to "{organization_name}"'))
def provider_claims_organization(
    subject: str, organization_name: str, identity_provider: IdentityProvider, settings: object
) -> None:
    claim = settings.OIDC_ORGANIZATION_CLAIM  # type: ignore[attr-defined]
    identity_provider.claims_of[subject] = {claim: organization_name}


@given("password sign-in is switched off")
def password_login_off(settings: object) -> None:
    settings.PASSWORD_LOGIN = False  # type: ignore[attr-defined]


@when(parsers.parse('I sign in to the dashboard through the provider as "{subject}"'))
def sign_in_through_provider(
    subject: str, browser: Client, identity_provider: IdentityProvider, conversation: Conversation
) -> None:
    started = browser.get("/sign-in/provider/")
    assert started.status_code == 302, started.content
    back = urlparse(identity_provider.approve(started["Location"], subject))
    conversation.response = browser.get(f"{back.path}?{back.query}")


@when("I sign in to the dashboard with a username and password")
def sign_in_with_password(browser: Client, conversation: Conversation) -> None:
    conversation.response = browser.post(
        "/sign-in/", {"username": "ana", "password": TEST_PASSWORD}
    )


def provider_token(provider: IdentityProvider, subject: str, breaks: str = "") -> str:
    if breaks == "has expired":
        return provider.access_token(subject, exp=int(time.time()) - 3600)
    if breaks == "is for another audience":
        return provider.access_token(subject, aud="another-api")
    if breaks == "comes from another issuer":
        return provider.access_token(subject, iss="https://another-provider.example")
    if breaks == "is signed by an unknown key":
        return provider.access_token(
            subject, key=RSAKey.generate_key(2048, parameters={"kid": "unknown"})
        )
    if breaks == "is not signed":
        header, claims = {"alg": "none"}, provider.claims(subject)
        parts = [
            base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
            for part in (header, claims)
        ]
        return ".".join(parts) + "."
    return provider.access_token(subject)


@when(
    parsers.parse('I ask for the measurements with an access token of the provider for "{subject}"')
)
def ask_with_provider_token(
    subject: str,
    http_client: Client,
    identity_provider: IdentityProvider,
    conversation: Conversation,
) -> None:
    token = provider_token(identity_provider, subject)
    conversation.response = http_client.get(MEASUREMENTS, HTTP_AUTHORIZATION=f"Bearer {token}")


@when(
    parsers.parse('I ask for the measurements with a provider token for "{subject}" that {breaks}')
)
def ask_with_broken_provider_token(
    subject: str,
    breaks: str,
    http_client: Client,
    identity_provider: IdentityProvider,
    conversation: Conversation,
) -> None:
    token = provider_token(identity_provider, subject, breaks)
    conversation.response = http_client.get(MEASUREMENTS, HTTP_AUTHORIZATION=f"Bearer {token}")


@then(parsers.parse('I am signed in to the dashboard as "{username}"'))
def signed_in_as(username: str, browser: Client, conversation: Conversation) -> None:
    assert conversation.response.status_code == 302, conversation.response.content
    page = browser.get("/")
    assert page.status_code == 200
    assert f"<span>{username}</span>" in page.content.decode()


@then(parsers.parse('the dashboard\'s session reads the measurements of "{organization_name}"'))
def session_reads(organization_name: str, browser: Client) -> None:
    response = browser.get(MEASUREMENTS)
    assert response.status_code == 200, response.content
    assert [row["conversions"] for row in response.json()["data"]] == [420]


@then(parsers.parse('I see a page saying "{words}"'))
def page_says(words: str, conversation: Conversation) -> None:
    assert conversation.response.status_code in {400, 403}, conversation.response.content
    assert words in conversation.response.content.decode()


@then("I am not signed in to the dashboard")
def not_signed_in(browser: Client) -> None:
    assert browser.get(MEASUREMENTS).status_code == 401
    assert browser.get("/")["Location"].startswith("/sign-in/")
