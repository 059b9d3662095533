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


def test_successful_sign_ins_are_not_counted_as_failures(api_client, user):
    """Each attempt is counted before its password is checked; a right one is taken back."""
    for _ in range(4):
        exchange(api_client, "ana", "wrong")
    successes = [exchange(api_client, "ana", TEST_PASSWORD).status_code for _ in range(6)]

    assert successes == [200] * 6
    assert exchange(api_client, "ana", "wrong").status_code == 401
    assert exchange(api_client, "ana", TEST_PASSWORD).status_code == 429


def test_while_redis_is_down_the_lock_out_still_holds_in_each_worker(
    api_client, user, unreachable_cache
):
    failed = [exchange(api_client, "ana", "wrong").status_code for _ in range(7)]

    assert failed == [401] * 5 + [429] * 2
    assert exchange(api_client, "ana", TEST_PASSWORD).status_code == 429


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
        cache.delete(key)


def test_data_requests_beyond_the_rate_limit_get_429(api_client, auth, settings):
    settings.RATE_LIMIT_PER_MINUTE = 3
    answers = [api_client.get(DATA_URL, **auth) for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert 0 < int(answers[-1]["Retry-After"]) <= 60


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
    # Each worker lets 3 requests of its batch through before the next takes over: batches
    # of 10, 10 and the 5 left are granted (25 counted, 9 let through); then none.
    assert several == [200] * 9 + [429] * 31


def test_a_refused_token_is_let_through_again_when_its_window_ends(
    api_client, auth, settings, monkeypatch
):
    from django.core.cache import cache

    from marketing_op.accounts import throttling

    monkeypatch.setattr(throttling, "rate_batch", lambda limit: 10)
    clock = [5_000.0]
    monkeypatch.setattr(throttling.time, "monotonic", lambda: clock[0])
    settings.RATE_LIMIT_PER_MINUTE = 10
    spent = [api_client.get(DATA_URL, **auth).status_code for _ in range(11)]

    clock[0] += throttling.RATE_WINDOW_SECONDS + 1
    # Stand in for the cache's expiry of the counters at the end of the window.
    cache.delete_pattern("*rate*") if hasattr(cache, "delete_pattern") else cache.clear()
    again = api_client.get(DATA_URL, **auth)

    assert spent == [200] * 10 + [429]
    assert again.status_code == 200


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


def test_a_user_gets_429_past_the_token_exchanges_of_an_hour(api_client, user, settings):
    settings.TOKEN_EXCHANGES_PER_HOUR = 2
    from tests.factories import UserFactory

    UserFactory(organization=user.organization, username="bea")
    answers = [exchange(api_client, "ana", TEST_PASSWORD) for _ in range(3)]
    other_user = exchange(api_client, "bea", TEST_PASSWORD)

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert 0 < int(answers[-1]["Retry-After"]) <= 3600
    assert answers[-1]["Content-Type"].startswith("application/json")
    assert other_user.status_code == 200


def test_a_fresh_token_does_not_give_a_fresh_budget(api_client, user, auth, settings):
    from marketing_op.accounts.services import token_issue

    settings.RATE_LIMIT_PER_MINUTE = 3
    settings.USER_RATE_LIMIT_PER_MINUTE = 3
    spent = [api_client.get(DATA_URL, **auth).status_code for _ in range(3)]
    fresh = {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user).token}"}

    refused = api_client.get(DATA_URL, **fresh)

    assert spent == [200, 200, 200]
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60


def test_a_user_may_spread_a_larger_budget_over_tokens_each_held_to_its_own(
    api_client, user, auth, settings
):
    from marketing_op.accounts.services import token_issue

    settings.RATE_LIMIT_PER_MINUTE = 2
    settings.USER_RATE_LIMIT_PER_MINUTE = 3
    first = [api_client.get(DATA_URL, **auth).status_code for _ in range(2)]
    second = {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user).token}"}
    then = [api_client.get(DATA_URL, **second).status_code for _ in range(2)]
    first_again = api_client.get(DATA_URL, **auth).status_code

    assert first == [200, 200]
    assert then == [200, 429]
    assert first_again == 429


def test_without_trusted_proxies_x_forwarded_for_is_ignored(api_client, user):
    for number in range(20):
        api_client.get(
            "/api/auth/token/",
            REMOTE_ADDR="10.9.9.9",
            HTTP_X_FORWARDED_FOR=f"192.0.2.{number}",
            **api_client.basic(f"guess{number}", "wrong"),
        )

    locked = api_client.get(
        "/api/auth/token/",
        REMOTE_ADDR="10.9.9.9",
        HTTP_X_FORWARDED_FOR="192.0.2.200",
        **api_client.basic("ana", TEST_PASSWORD),
    )

    assert locked.status_code == 429


def behind_proxy(client, username, password, forwarded_for):
    return client.get(
        "/api/auth/token/",
        REMOTE_ADDR="10.0.0.254",
        HTTP_X_FORWARDED_FOR=forwarded_for,
        **client.basic(username, password),
    )


def test_behind_a_trusted_proxy_one_client_locks_only_itself(api_client, user, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for number in range(20):
        behind_proxy(api_client, f"guess{number}", "wrong", "198.51.100.7")

    attacker = behind_proxy(api_client, "ana", TEST_PASSWORD, "198.51.100.7")
    # A client cannot escape by sending its own header: the proxy appends the address.
    spoofing = behind_proxy(api_client, "ana", TEST_PASSWORD, "203.0.113.5, 198.51.100.7")
    someone_else = behind_proxy(api_client, "ana", TEST_PASSWORD, "203.0.113.5")

    assert attacker.status_code == 429
    assert spoofing.status_code == 429
    assert someone_else.status_code == 200


def test_with_two_trusted_proxies_the_client_is_second_from_the_right(api_client, user, settings):
    settings.TRUSTED_PROXY_COUNT = 2
    for number in range(20):
        forwarded_for = f"192.0.2.{number}, 2001:db8::7, 10.1.1.1"
        behind_proxy(api_client, f"guess{number}", "wrong", forwarded_for)

    same_client = behind_proxy(api_client, "ana", TEST_PASSWORD, "2001:db8::7, 10.1.1.2")
    other_client = behind_proxy(api_client, "ana", TEST_PASSWORD, "2001:db8::8, 10.1.1.1")

    assert same_client.status_code == 429
    assert other_client.status_code == 200


@pytest.mark.parametrize("forwarded_for", ["not-an-address", "", "10.0.0.1, ", "1.2.3.4.5"])
def test_a_malformed_x_forwarded_for_counts_the_proxy_address(
    api_client, user, settings, forwarded_for
):
    settings.TRUSTED_PROXY_COUNT = 1
    for number in range(20):
        behind_proxy(api_client, f"guess{number}", "wrong", forwarded_for)

    through_the_same_proxy = behind_proxy(api_client, "ana", TEST_PASSWORD, "garbage")

    assert through_the_same_proxy.status_code == 429
