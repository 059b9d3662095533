"""Sign-in through the identity provider, the whole authorization code flow through
Django's test client against the test provider on loopback (tests/identity_provider.py):
what the browser is sent at each step, and who is signed in afterwards."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from marketing_op.accounts.models import User
from marketing_op.core.middleware import PAGE_CONTENT_SECURITY_POLICY
from tests.factories import TEST_PASSWORD, UserFactory, measurement

pytestmark = [pytest.mark.api, pytest.mark.django_db]

SUBJECT = "00u-ana-at-the-provider"
START = "/sign-in/provider/"
CALLBACK = "http://testserver/sign-in/provider/callback/"


@pytest.fixture
def sso_user(organization):
    measurement(organization, channel="tv", conversions=420.0)
    return UserFactory(organization=organization, username="ana.sso", oidc_subject=SUBJECT)


def start(client: Client, query: str = "") -> str:
    """Click "Sign in with ...": where the browser is sent (the provider's page)."""
    response = client.get(START + query)
    assert response.status_code == 302, response.content
    return response["Location"]


def come_back(client: Client, callback_url: str):
    """The provider's redirect back to the service."""
    answer = urlparse(callback_url)
    assert f"{answer.scheme}://{answer.netloc}{answer.path}" == CALLBACK
    return client.get(f"{answer.path}?{answer.query}")


def sign_in_through_provider(client: Client, provider, subject: str = SUBJECT, query: str = ""):
    return come_back(client, provider.approve(start(client, query), subject))


def signed_in_as(client: Client) -> str | None:
    response = client.get("/api/marketing/dimensions/")
    if response.status_code != 200:
        return None
    page = client.get("/")
    found = re.search(r'<form class="sign-out".*?<span>([^<]+)</span>', page.content.decode(), re.S)
    return found.group(1) if found else None


# --- the flow ---------------------------------------------------------------------------------


def test_the_sign_in_page_offers_the_provider_beside_the_password(
    client, identity_provider, settings
):
    settings.OIDC_PROVIDER_NAME = "Keycloak"

    page = client.get("/sign-in/?next=/imports/").content.decode()

    assert 'href="/sign-in/provider/?next=/imports/"' in page
    assert "Sign in with Keycloak" in page
    assert 'name="password"' in page


def test_without_a_provider_the_sign_in_page_offers_only_the_password(client):
    page = client.get("/sign-in/").content.decode()

    assert "/sign-in/provider/" not in page
    assert client.get(START).status_code == 404


def test_the_provider_is_asked_with_pkce_state_and_nonce(client, identity_provider, sso_user):
    location = start(client)

    url = urlparse(location)
    query = {name: values[0] for name, values in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{identity_provider.issuer}/authorize"
    assert query["response_type"] == "code"
    assert query["client_id"] == "marketing-op"
    assert query["redirect_uri"] == CALLBACK
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 20
    assert len(query["nonce"]) >= 20
    assert set(query["scope"].split()) >= {"openid"}


def test_the_whole_flow_signs_the_matching_user_in_and_goes_where_they_were_going(
    client, identity_provider, sso_user
):
    response = sign_in_through_provider(client, identity_provider, query="?next=/imports/")

    assert response.status_code == 302
    assert response["Location"] == "/imports/"
    cookie = client.cookies["sessionid"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert signed_in_as(client) == "ana.sso"
    token_request = identity_provider.token_requests[-1]
    assert token_request["grant_type"] == "authorization_code"
    assert len(token_request["code_verifier"]) >= 43


def test_the_signed_in_session_reads_the_users_own_data(client, identity_provider, sso_user):
    sign_in_through_provider(client, identity_provider)

    response = client.get("/api/marketing/measurements/")

    assert [row["conversions"] for row in response.json()["data"]] == [420.0]


def test_a_next_address_on_another_site_is_not_followed(client, identity_provider, sso_user):
    response = sign_in_through_provider(
        client, identity_provider, query="?next=https://evil.example/"
    )

    assert response["Location"] == "/"


# --- refusals ---------------------------------------------------------------------------------


def refused(response, status: int, words: str) -> str:
    page = response.content.decode()
    assert response.status_code == status, page
    assert words in page
    assert response["Content-Security-Policy"] == PAGE_CONTENT_SECURITY_POLICY
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>|<style|\sstyle=", page) is None
    return page


def test_a_subject_no_user_holds_gets_a_page_saying_why_and_no_session(
    client, identity_provider, sso_user
):
    response = sign_in_through_provider(client, identity_provider, subject="a-stranger")

    page = refused(response, 403, "no user of Marketing OP has that subject")
    assert "a-stranger" in page
    assert signed_in_as(client) is None
    assert User.objects.filter(oidc_subject="a-stranger").count() == 0


def test_a_deactivated_user_is_not_signed_in(client, identity_provider, sso_user):
    sso_user.is_active = False
    sso_user.save()

    refused(sign_in_through_provider(client, identity_provider), 403, "no user")
    assert signed_in_as(client) is None


def test_an_organisation_claim_naming_another_organisation_is_refused(
    client, identity_provider, sso_user, settings
):
    settings.OIDC_ORGANIZATION_CLAIM = "organization"
    identity_provider.claims_of[SUBJECT] = {"organization": "globex"}

    refused(sign_in_through_provider(client, identity_provider), 403, "another organisation")
    assert signed_in_as(client) is None

    identity_provider.claims_of[SUBJECT] = {"organization": "acme"}
    assert sign_in_through_provider(client, identity_provider).status_code == 302
    assert signed_in_as(client) == "ana.sso"


def test_an_answer_for_a_sign_in_started_in_another_browser_is_refused(
    client, identity_provider, sso_user
):
    """Login CSRF: the state lives in the session of the browser that started."""
    callback_url = identity_provider.approve(start(client), SUBJECT)

    stranger = Client()
    refused(come_back(stranger, callback_url), 400, "does not belong to a sign-in")
    assert signed_in_as(stranger) is None


def test_a_forged_state_is_refused(client, identity_provider, sso_user):
    callback_url = identity_provider.approve(start(client), SUBJECT)
    forged = re.sub(r"state=[^&]+", "state=forged", callback_url)

    refused(come_back(client, forged), 400, "does not belong to a sign-in")
    assert signed_in_as(client) is None


def test_an_answer_used_twice_is_refused_the_second_time(client, identity_provider, sso_user):
    callback_url = identity_provider.approve(start(client), SUBJECT)
    assert come_back(client, callback_url).status_code == 302
    client.post("/sign-out/")

    refused(come_back(client, callback_url), 400, "Start again")
    assert signed_in_as(client) is None


def test_an_id_token_with_another_nonce_is_refused(client, identity_provider, sso_user):
    identity_provider.claims_of[SUBJECT] = {"nonce": "a-nonce-of-another-sign-in"}

    refused(sign_in_through_provider(client, identity_provider), 400, "could not be verified")
    assert signed_in_as(client) is None


def test_the_provider_refusing_the_visitor_is_said(client, identity_provider, sso_user):
    state = parse_qs(urlparse(start(client)).query)["state"][0]

    response = client.get(f"/sign-in/provider/callback/?error=access_denied&state={state}")

    refused(response, 400, "did not sign you in")


def test_a_provider_that_does_not_answer_gets_a_page_not_an_error(
    client, identity_provider, sso_user
):
    identity_provider.down = True

    refused(client.get(START), 503, "cannot be reached")


def test_refusals_count_against_the_lock_out_of_the_address(client, identity_provider, sso_user):
    for _ in range(20):
        sign_in_through_provider(client, identity_provider, subject="a-stranger")

    response = client.get(START)

    refused(response, 429, "Too many failed sign-in attempts")
    assert int(response["Retry-After"]) > 0


# --- password sign-in switched off ----------------------------------------------------------


def test_with_password_login_off_the_page_offers_only_the_provider(
    client, identity_provider, user, settings
):
    settings.PASSWORD_LOGIN = False

    page = client.get("/sign-in/").content.decode()

    assert "/sign-in/provider/" in page
    assert 'name="password"' not in page


def test_with_password_login_off_the_right_password_opens_no_session(
    client, identity_provider, user, settings
):
    settings.PASSWORD_LOGIN = False

    response = client.post("/sign-in/", {"username": "ana", "password": TEST_PASSWORD})

    assert response.status_code == 403
    assert "Password sign-in is switched off" in response.content.decode()
    assert signed_in_as(client) is None


# --- creating users who sign in through the provider ----------------------------------------


def test_create_user_with_an_openid_subject_creates_a_user_without_a_password(organization, capsys):
    call_command(
        "create_user", organization="acme", username="bo", oidc_subject="00u-bo", stdout=None
    )

    created = User.objects.get(username="bo")
    assert created.oidc_subject == "00u-bo"
    assert created.organization == organization
    assert not created.has_usable_password()
    assert "Created user 'bo'" in capsys.readouterr().out


def test_an_openid_subject_belongs_to_one_user_only(organization, sso_user):
    with pytest.raises(CommandError, match="Another user has the OpenID subject"):
        call_command("create_user", organization="acme", username="bo", oidc_subject=SUBJECT)
