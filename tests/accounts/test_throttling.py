import pytest

from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.api, pytest.mark.django_db]

DATA_URL = "/api/marketing/measurements/"


def exchange(client, username, password, address="10.0.0.1"):
    return client.get("/api/auth/token/", REMOTE_ADDR=address, **client.basic(username, password))


def test_five_failures_for_a_username_lock_it_even_for_the_right_password(api_client, user):
    for _ in range(5):
        assert exchange(api_client, "ana", "wrong").status_code == 401

    locked = exchange(api_client, "ana", TEST_PASSWORD)

    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= 15 * 60
    assert "try again" in locked.json()["detail"]


def test_four_failures_still_let_the_right_password_in(api_client, user):
    for _ in range(4):
        exchange(api_client, "ana", "wrong")

    assert exchange(api_client, "ana", TEST_PASSWORD).status_code == 200


def test_twenty_failures_from_one_address_lock_that_address_only(api_client, user):
    for number in range(20):
        assert (
            exchange(api_client, f"guess{number}", "wrong", address="10.9.9.9").status_code == 401
        )

    assert exchange(api_client, "ana", TEST_PASSWORD, address="10.9.9.9").status_code == 429
    assert exchange(api_client, "ana", TEST_PASSWORD, address="10.0.0.2").status_code == 200


def test_the_lock_ends_when_the_window_passes(api_client, user, monkeypatch):
    import marketing_op.accounts.throttling as throttling

    now = [1_000_000.0]
    monkeypatch.setattr(throttling.time, "time", lambda: now[0])
    for _ in range(5):
        exchange(api_client, "ana", "wrong")
    assert exchange(api_client, "ana", TEST_PASSWORD).status_code == 429

    api_client_cache_expire(throttling)

    assert exchange(api_client, "ana", TEST_PASSWORD).status_code == 200


def api_client_cache_expire(throttling):
    """Stand in for the cache's expiry at the end of the window."""
    from django.core.cache import cache

    for key in [
        throttling._key("login-user", "ana"),
        throttling._key("login-address", "10.0.0.1"),
    ]:
        cache.delete_many([key, f"{key}:start"])


def test_data_requests_beyond_the_rate_limit_get_429(api_client, auth, settings):
    settings.RATE_LIMIT_PER_MINUTE = 3
    answers = [api_client.get(DATA_URL, **auth) for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert 0 < int(answers[-1]["Retry-After"]) <= 60


@pytest.mark.parametrize(("username", "password"), [("ana", "wrong"), ("nobody", "wrong")])
def test_a_failed_exchange_hashes_once_whether_or_not_the_user_exists(
    api_client, user, monkeypatch, username, password
):
    """The same work, so the same time: an unknown user costs a password hash too."""
    from django.contrib.auth.hashers import MD5PasswordHasher

    calls = []
    original = MD5PasswordHasher.encode
    monkeypatch.setattr(
        MD5PasswordHasher, "encode", lambda self, *args: calls.append(1) or original(self, *args)
    )

    assert exchange(api_client, username, password).status_code == 401
    assert len(calls) == 1
