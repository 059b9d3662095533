"""Refresh tokens: issued with every exchange, traded once for a new pair (rotation), a second
use revokes the whole sign-in (reuse detection), revoked with the user's tokens."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from marketing_op.accounts.models import RefreshToken
from marketing_op.accounts.selectors import refresh_token_get
from marketing_op.accounts.services import token_refresh
from marketing_op.accounts.tokens import REFRESH_TOKEN_PREFIX, token_digest
from marketing_op.core.exceptions import NotAuthenticated
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.api, pytest.mark.django_db]

DATA_URL = "/api/marketing/measurements/"
REFRESH_URL = "/api/auth/token/refresh/"


def exchange(client, scope="read"):
    response = client.get(f"/api/auth/token/?scope={scope}", **client.basic("ana", TEST_PASSWORD))
    assert response.status_code == 200, response.content
    return response.json()["data"]


def refresh(client, refresh_token, **extra):
    return client.post(
        REFRESH_URL, {"refresh_token": refresh_token}, content_type="application/json", **extra
    )


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_the_exchange_also_returns_a_refresh_token_stored_as_a_digest(api_client, user, settings):
    settings.REFRESH_TOKEN_TTL_SECONDS = 3600
    before = timezone.now()

    data = exchange(api_client)

    assert set(data) == {"token", "expires_at", "scopes", "refresh_token", "refresh_expires_at"}
    assert data["refresh_token"].startswith(REFRESH_TOKEN_PREFIX)
    refresh_expires_at = datetime.datetime.fromisoformat(data["refresh_expires_at"])
    assert before + datetime.timedelta(seconds=3599) < refresh_expires_at
    assert refresh_expires_at <= timezone.now() + datetime.timedelta(seconds=3600)
    stored = RefreshToken.objects.get(user=user)
    assert stored.digest == token_digest(data["refresh_token"])
    assert data["refresh_token"] not in {
        str(getattr(stored, field.attname)) for field in RefreshToken._meta.fields
    }


def test_the_refresh_token_lives_thirty_days_by_default(api_client, user):
    data = exchange(api_client)

    lifetime = datetime.datetime.fromisoformat(data["refresh_expires_at"]) - timezone.now()
    assert datetime.timedelta(days=29, hours=23) < lifetime <= datetime.timedelta(days=30)


def test_a_refresh_answers_like_the_exchange_with_a_new_pair_of_the_same_scopes(api_client, user):
    first = exchange(api_client, scope="read write")

    response = refresh(api_client, first["refresh_token"])

    assert response.status_code == 200, response.content
    assert response["Cache-Control"] == "no-store"
    second = response.json()["data"]
    assert second["scopes"] == "read write"
    assert second["token"] != first["token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert api_client.get(DATA_URL, **bearer(second["token"])).status_code == 200
    assert api_client.get(DATA_URL, **bearer(first["token"])).status_code == 200


def test_a_refresh_token_is_not_a_bearer_token(api_client, user):
    data = exchange(api_client)

    assert api_client.get(DATA_URL, **bearer(data["refresh_token"])).status_code == 401
    assert refresh(api_client, data["token"]).status_code == 401


def test_a_rotated_refresh_token_used_again_revokes_the_whole_sign_in(api_client, user):
    first = exchange(api_client)
    second = refresh(api_client, first["refresh_token"]).json()["data"]
    other_sign_in = exchange(api_client)

    reused = refresh(api_client, first["refresh_token"])

    assert reused.status_code == 401
    assert "used already" in reused.json()["detail"]
    assert reused["WWW-Authenticate"].startswith("Bearer")
    for token in (first["token"], second["token"]):
        assert api_client.get(DATA_URL, **bearer(token)).status_code == 401
    assert refresh(api_client, second["refresh_token"]).status_code == 401
    assert api_client.get(DATA_URL, **bearer(other_sign_in["token"])).status_code == 200
    assert refresh(api_client, other_sign_in["refresh_token"]).status_code == 200


def test_an_expired_refresh_token_is_refused(api_client, user):
    data = exchange(api_client)
    RefreshToken.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))

    response = refresh(api_client, data["refresh_token"])

    assert response.status_code == 401
    assert response.json() == {"detail": "This refresh token has expired."}


def test_revoking_the_users_tokens_revokes_the_refresh_tokens_too(api_client, user, capsys):
    data = exchange(api_client)

    call_command("revoke_tokens", username="ana")

    assert "Revoked 1 token(s) and 1 refresh token(s)" in capsys.readouterr().out
    assert refresh(api_client, data["refresh_token"]).json() == {
        "detail": "This refresh token is revoked."
    }


def test_revoking_a_token_signs_out_its_refresh_tokens_too(api_client, user):
    first = exchange(api_client)
    second = refresh(api_client, first["refresh_token"]).json()["data"]

    assert api_client.delete("/api/auth/token/", **bearer(second["token"])).status_code == 204

    assert api_client.get(DATA_URL, **bearer(first["token"])).status_code == 401
    assert refresh(api_client, second["refresh_token"]).status_code == 401


def test_a_deactivated_user_cannot_refresh(api_client, user):
    data = exchange(api_client)
    user.is_active = False
    user.save()

    response = refresh(api_client, data["refresh_token"])

    assert response.status_code == 401


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"refresh_token": "mopr_never-issued"}, 401),
        ({"refresh_token": ""}, 401),
        ({"refresh_token": "mopr_\x00"}, 401),
        ({"refresh_token": "mopr_" + "a" * 300}, 422),
        ({"refresh_token": 12}, 422),
        ({}, 422),
        ([], 422),
    ],
)
def test_a_refresh_with_a_bad_body_is_refused_not_an_error(api_client, user, body, status):
    response = api_client.post(REFRESH_URL, body, content_type="application/json")

    assert response.status_code == status, response.content


def test_a_refresh_that_is_not_json_is_refused(api_client, user):
    response = api_client.post(REFRESH_URL, b"refresh_token=x", content_type="text/plain")

    assert 400 <= response.status_code < 500


def test_unknown_refresh_tokens_lock_the_client_address_out(api_client, user):
    data = exchange(api_client)
    for attempt in range(20):
        refresh(api_client, f"mopr_guess-{attempt}")

    locked = refresh(api_client, data["refresh_token"])

    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0


def test_refreshes_count_with_the_token_exchanges_of_the_hour(api_client, user, settings):
    settings.TOKEN_EXCHANGES_PER_HOUR = 2
    data = exchange(api_client)
    second = refresh(api_client, data["refresh_token"])

    third = refresh(api_client, second.json()["data"]["refresh_token"])

    assert second.status_code == 200
    assert third.status_code == 429


def test_with_password_login_off_refresh_is_refused(api_client, user, settings):
    data = exchange(api_client)
    settings.PASSWORD_LOGIN = False

    response = refresh(api_client, data["refresh_token"])

    assert response.status_code == 403
    assert "Password sign-in is switched off" in response.json()["detail"]


def test_with_password_login_off_the_exchange_is_refused(api_client, user, settings):
    settings.PASSWORD_LOGIN = False

    response = api_client.get("/api/auth/token/", **api_client.basic("ana", TEST_PASSWORD))

    assert response.status_code == 403
    assert "Password sign-in is switched off" in response.json()["detail"]


def test_two_refreshes_racing_with_one_token_count_as_a_reuse(api_client, user):
    """Both requests read the token before either used it; the second to write loses and
    revokes the family, the pair the first one got included."""
    data = exchange(api_client)
    seen_by_first = refresh_token_get(token=data["refresh_token"])
    seen_by_second = refresh_token_get(token=data["refresh_token"])

    winner = token_refresh(refresh_token=seen_by_first)
    with pytest.raises(NotAuthenticated, match="used already"):
        token_refresh(refresh_token=seen_by_second)

    assert api_client.get(DATA_URL, **bearer(winner.token)).status_code == 401
    assert refresh(api_client, winner.refresh_token).status_code == 401
