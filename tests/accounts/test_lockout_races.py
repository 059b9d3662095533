"""The sign-in lock-out under requests that arrive at once, against real servers: two
``marketing-op serve`` processes (four workers) sharing their counters, once through the
file cache of one machine and once through Redis. However many wrong passwords arrive
together, at most the limit's number of them are checked: every other answer is the
lock-out's 429, never "wrong credentials"."""

from __future__ import annotations

import base64
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
import redis
from django.db import connection

from marketing_op.accounts.throttling import MAX_FAILED_LOGINS_PER_USERNAME
from tests.factories import TEST_PASSWORD, UserFactory
from tests.servers import call, database_url, server_environment, start_server, stop_server

pytestmark = pytest.mark.django_db(transaction=True)

REDIS = ("127.0.0.1", 6379)
AT_ONCE = 16


def redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="module", params=["file cache", "redis"])
def servers(request, django_db_setup, tmp_path_factory) -> Iterator[list[str]]:
    """Two servers on one database whose workers share their counters: the file cache in
    one folder (as the workers of one machine do), or one Redis (as machines do)."""
    if connection.vendor != "postgresql":
        pytest.skip("needs the test run's PostgreSQL server (make test's first run)")
    shared = {"SECRET_KEY": uuid.uuid4().hex * 2}
    prefix = f"lockout-races-{uuid.uuid4().hex[:12]}"
    if request.param == "redis":
        if not redis_answers():
            pytest.skip("needs Redis at 127.0.0.1:6379")
        shared |= {"REDIS_URL": f"redis://{REDIS[0]}:{REDIS[1]}/0", "CACHE_KEY_PREFIX": prefix}
    else:
        shared["CACHE_LOCATION"] = str(tmp_path_factory.mktemp("shared-cache"))
    url = database_url(connection.settings_dict)
    environments = [
        server_environment(tmp_path_factory.mktemp(name), url) | shared
        for name in ("first", "second")
    ]
    with ThreadPoolExecutor(max_workers=2) as starting:  # started side by side: half the wait
        started = list(starting.map(start_server, environments))
    try:
        yield [base for base, _, _ in started]
    finally:
        for _, _, process in started:
            stop_server(process)
        if request.param == "redis":
            client = redis.Redis(host=REDIS[0], port=REDIS[1])
            for key in client.scan_iter(match=f"{prefix}:*", count=1000):
                client.delete(key)


@pytest.fixture
def slow_hash_user(organization, settings):
    """A user whose password hash takes the production hasher's time to check, so that
    wrong passwords sent at once are being checked at the same time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    return UserFactory(organization=organization, username=f"dan-{uuid.uuid4().hex[:6]}")


def at_once(send, count: int = AT_ONCE) -> list[int]:
    """``count`` requests started together (``send(number)`` gives a status)."""
    start = threading.Barrier(count)
    statuses: list[int] = [0] * count

    def one(number: int) -> None:
        start.wait()
        statuses[number] = send(number)

    threads = [threading.Thread(target=one, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return statuses


def basic(username: str, password: str) -> dict[str, str]:
    credentials = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {credentials}"}


def test_wrong_passwords_sent_at_once_to_the_token_exchange_are_checked_at_most_limit_times(
    servers, slow_hash_user
):
    username = slow_hash_user.username

    statuses = at_once(
        lambda number: call(
            servers[number % 2], "/api/auth/token/", headers=basic(username, f"wrong {number}")
        )[0]
    )
    right_password = call(servers[0], "/api/auth/token/", headers=basic(username, TEST_PASSWORD))

    checked = statuses.count(401)
    assert checked + statuses.count(429) == AT_ONCE, statuses
    assert checked == MAX_FAILED_LOGINS_PER_USERNAME, statuses
    assert right_password[0] == 429


def cookies(headers) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for header in headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def test_wrong_passwords_sent_at_once_to_the_sign_in_page_are_checked_at_most_limit_times(
    servers, slow_hash_user
):
    _, form_headers, form = call(servers[0], "/sign-in/")
    csrf = cookies(form_headers)["csrftoken"]
    hidden = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.decode()).group(1)

    def sign_in(number: int, password: str) -> int:
        fields = {
            "username": slow_hash_user.username,
            "password": password,
            "csrfmiddlewaretoken": hidden,
        }
        status, _, page = call(
            servers[number % 2],
            "/sign-in/",
            method="POST",
            data=urlencode(fields).encode(),
            headers={
                "Cookie": f"csrftoken={csrf}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        if status == 200:
            assert "correct username and password" in page.decode()
        return status

    statuses = at_once(lambda number: sign_in(number, f"wrong {number}"))
    right_password = sign_in(0, TEST_PASSWORD)

    checked = statuses.count(200)
    assert checked + statuses.count(429) == AT_ONCE, statuses
    assert checked == MAX_FAILED_LOGINS_PER_USERNAME, statuses
    assert right_password == 429
