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


def _rate_counter(token):
    from django.core.cache import cache

    from marketing_op.accounts import throttling
    from marketing_op.accounts.models import AccessToken

    access_token = AccessToken.objects.get()
    return int(cache.get(throttling._key("token-rate", str(access_token.pk))) or 0)


def test_a_worker_counts_a_tokens_requests_a_batch_at_a_time(api_client, auth, token, settings):
    from marketing_op.accounts import throttling

    settings.RATE_LIMIT_PER_MINUTE = 600
    batch = throttling.rate_batch(600)
    answers = [api_client.get(DATA_URL, **auth) for _ in range(2 * batch + 1)]

    assert {answer.status_code for answer in answers} == {200}
    assert batch == 10
    assert _rate_counter(token) == 3 * batch


def test_workers_together_never_let_more_than_the_limit_through(
    api_client, auth, settings, monkeypatch
):
    """Batches are granted only up to the limit: a batch that one worker leaves unused
    lets the others through less, never more."""
    from marketing_op.accounts import throttling

    settings.RATE_LIMIT_PER_MINUTE = 25
    monkeypatch.setattr(throttling, "rate_batch", lambda limit: 10)
    one_worker = [api_client.get(DATA_URL, **auth).status_code for _ in range(27)]
    assert one_worker == [200] * 25 + [429] * 2

    throttling.forget_allowances()
    from django.core.cache import cache

    cache.delete_pattern("*token-rate*") if hasattr(cache, "delete_pattern") else cache.clear()
    several = []
    for number in range(40):
        if number % 3 == 0:
            throttling.forget_allowances()  # the next request reaches another worker
        several.append(api_client.get(DATA_URL, **auth).status_code)
    assert several.count(200) <= 25
    assert several[-5:] == [429] * 5


def test_a_batch_of_counted_requests_ends_with_its_window(
    api_client, auth, token, settings, monkeypatch
):
    from marketing_op.accounts import throttling

    settings.RATE_LIMIT_PER_MINUTE = 600
    clock = [5_000.0]
    monkeypatch.setattr(throttling.time, "monotonic", lambda: clock[0])
    api_client.get(DATA_URL, **auth)
    assert _rate_counter(token) == 10

    clock[0] += throttling.RATE_WINDOW_SECONDS + 1
    api_client.get(DATA_URL, **auth)

    assert _rate_counter(token) == 20  # counted again: the batch's window had passed


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
