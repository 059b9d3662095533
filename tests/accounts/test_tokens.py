import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from marketing_op.accounts.models import AccessToken
from marketing_op.accounts.tokens import TOKEN_PREFIX, token_digest
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.api, pytest.mark.django_db]

DATA_URL = "/api/marketing/measurements/"


def exchange(client, username="ana", password=TEST_PASSWORD, method="get", path="/api/auth/token/"):
    return getattr(client, method)(path, **client.basic(username, password))


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "/api/auth/token/"), ("post", "/api/auth/token/"), ("get", "/api/token/")],
)
def test_exchange_issues_a_new_prefixed_token_that_opens_the_data(api_client, user, method, path):
    first = exchange(api_client, method=method, path=path)
    second = exchange(api_client, method=method, path=path)

    assert first.status_code == 200
    token = first.json()["data"]["token"]
    assert token.startswith(TOKEN_PREFIX)
    assert len(token) >= len(TOKEN_PREFIX) + 43  # 32 random bytes, base64
    assert token != second.json()["data"]["token"]
    assert api_client.get(DATA_URL, **bearer(token)).status_code == 200


def test_only_the_digest_of_a_token_is_stored(api_client, user):
    token = exchange(api_client).json()["data"]["token"]

    stored = AccessToken.objects.get(user=user)
    assert stored.digest == token_digest(token)
    assert token not in {getattr(stored, field.attname) for field in AccessToken._meta.fields}


def test_expires_at_follows_the_configured_lifetime(api_client, user, settings):
    settings.TOKEN_TTL_SECONDS = 120
    before = timezone.now()

    data = exchange(api_client).json()["data"]

    expires_at = datetime.datetime.fromisoformat(data["expires_at"])
    assert expires_at.utcoffset() == datetime.timedelta(0)
    assert before + datetime.timedelta(seconds=119) < expires_at
    assert expires_at <= timezone.now() + datetime.timedelta(seconds=120)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Basic",
        "Basic !!!not-base64",
        "Basic YW5h",  # "ana" without a colon
        "Bearer something",
    ],
)
def test_malformed_or_missing_credentials_get_401_with_a_challenge(api_client, user, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}

    response = api_client.get("/api/auth/token/", **extra)

    assert response.status_code == 401
    assert response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize(("username", "password"), [("ana", "wrong"), ("nobody", TEST_PASSWORD)])
def test_wrong_password_and_unknown_user_get_the_same_401(api_client, user, username, password):
    response = exchange(api_client, username, password)

    assert response.status_code == 401
    assert response.json() == {"detail": "Missing, invalid or expired credentials."}


@pytest.mark.parametrize(
    "value", ["abc", "", "mop_", "mop_" + "x" * 5000, "00000000-0000-0000-0000-000000000000"]
)
def test_unknown_or_malformed_bearer_values_get_401_not_500(api_client, user, value):
    response = api_client.get(DATA_URL, HTTP_AUTHORIZATION=f"Bearer {value}".strip())

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_an_expired_token_gets_401_on_its_next_request(api_client, user, token):
    assert api_client.get(DATA_URL, **bearer(token)).status_code == 200
    AccessToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    assert api_client.get(DATA_URL, **bearer(token)).status_code == 401


def test_delete_revokes_the_token_of_the_request(api_client, user):
    token = exchange(api_client).json()["data"]["token"]
    other = exchange(api_client).json()["data"]["token"]

    assert api_client.delete("/api/auth/token/", **bearer(token)).status_code == 204

    assert api_client.get(DATA_URL, **bearer(token)).status_code == 401
    assert api_client.get(DATA_URL, **bearer(other)).status_code == 200


def test_revoke_tokens_command_revokes_every_token_of_the_user(api_client, user, capsys):
    tokens = [exchange(api_client).json()["data"]["token"] for _ in range(3)]
    other_user = UserFactory(organization=user.organization, username="ben")
    kept = exchange(api_client, username="ben").json()["data"]["token"]

    call_command("revoke_tokens", username="ana")

    assert "Revoked 3 token(s)" in capsys.readouterr().out
    assert all(api_client.get(DATA_URL, **bearer(t)).status_code == 401 for t in tokens)
    assert api_client.get(DATA_URL, **bearer(kept)).status_code == 200
    assert other_user.is_active


def test_deactivating_a_user_invalidates_its_tokens(api_client, user, token):
    user.is_active = False
    user.save()

    assert api_client.get(DATA_URL, **bearer(token)).status_code == 401
    assert exchange(api_client).status_code == 401


def test_last_used_at_is_written_at_most_once_a_minute(
    api_client, user, token, django_assert_num_queries
):
    api_client.get(DATA_URL, **bearer(token))
    first_use = AccessToken.objects.get().last_used_at
    assert first_use is not None

    api_client.get(DATA_URL, **bearer(token))

    assert AccessToken.objects.get().last_used_at == first_use


def test_a_user_without_organisation_gets_no_token(api_client, db):
    UserFactory(username="loner", organization=None)

    response = exchange(api_client, username="loner")

    assert response.status_code == 401
    assert response.json() == {
        "detail": "Missing, invalid or expired credentials."
    }  # as for a wrong password


def test_scope_read_write_is_granted_on_request_and_unknown_scopes_are_refused(api_client, user):
    response = api_client.get(
        "/api/auth/token/?scope=read%20write", **api_client.basic("ana", TEST_PASSWORD)
    )
    refused = api_client.get(
        "/api/auth/token/?scope=admin", **api_client.basic("ana", TEST_PASSWORD)
    )

    assert response.json()["data"]["scopes"] == "read write"
    assert AccessToken.objects.get().scope_set == {"read", "write"}
    assert refused.status_code == 400
    assert "admin" in refused.json()["detail"]
