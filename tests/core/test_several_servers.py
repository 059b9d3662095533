"""Two ``marketing-op serve`` processes, as two machines behind a load balancer would run
them: on two ports, sharing the test run's PostgreSQL database and one Redis (under a key
prefix of their own), each with its own home (nothing on local disk is shared). A client
that goes from one to the other meets the same rate limits, lock-outs, answers and token
revocations."""

from __future__ import annotations

import base64
import json
import os
import re
import uuid
from collections.abc import Iterator
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
import redis
from django.db import connection

from marketing_op.accounts.services import token_issue
from tests.factories import TEST_PASSWORD, UserFactory, measurement
from tests.servers import call, database_url, metric, server_environment, start_server, stop_server

REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
"""The test run's Redis: ``make test`` starts a throwaway one where none answers."""
RATE_LIMIT = 20
SHARES = "/api/marketing/stats/channel-sales-percentages/"
CACHE_LOOKUPS = "marketing_op_answer_cache_lookups_total"

pytestmark = pytest.mark.django_db(transaction=True)


def redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(scope="module")
def servers(django_db_setup, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """The two servers' addresses. Both have the production's shared settings: the same
    database, Redis and SECRET_KEY; their Redis keys are removed afterwards."""
    if not redis_answers():
        pytest.fail(
            f"No Redis at {REDIS_URL} for the servers to share: run the tests as make test does"
            " (scripts/test_database.py starts a throwaway Redis), or set REDIS_URL."
        )
    if connection.vendor != "postgresql":
        pytest.skip("needs the test run's PostgreSQL server (make test's first run)")
    url = database_url(connection.settings_dict)
    prefix = f"several-servers-{uuid.uuid4().hex[:12]}"
    shared = {
        "REDIS_URL": REDIS_URL,
        "CACHE_KEY_PREFIX": prefix,
        "SECRET_KEY": uuid.uuid4().hex * 2,
        "RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT),
    }
    processes = []
    try:
        bases = []
        for name in ("first", "second"):
            environment = server_environment(tmp_path_factory.mktemp(name), url) | shared
            base, _, process = start_server(environment)
            processes.append(process)
            bases.append(base)
        yield bases[0], bases[1]
    finally:
        for process in processes:
            stop_server(process)
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            client.delete(key)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def basic(username: str, password: str) -> dict[str, str]:
    credentials = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {credentials}"}


def test_a_rate_limit_counts_the_requests_to_both_servers(servers, user):
    first, second = servers
    token = token_issue(user=user).token

    statuses = [call(base, SHARES, headers=bearer(token))[0] for base in [first, second] * 10]
    past_the_limit = [call(base, SHARES, headers=bearer(token)) for base in (first, second)]

    assert statuses == [200] * RATE_LIMIT
    assert [status for status, _, _ in past_the_limit] == [429, 429]
    assert all(int(headers["Retry-After"]) >= 1 for _, headers, _ in past_the_limit)


def test_failed_sign_ins_on_both_servers_lock_the_username_on_both(servers, organization):
    """A user of its own: the lock-out lasts 15 minutes in the servers' shared Redis."""
    first, second = servers
    UserFactory(organization=organization, username="bea")
    failed = [
        call(base, "/api/auth/token/", headers=basic("bea", "wrong password"))[0]
        for base in [first, second, first, second, first]
    ]

    locked = [
        call(base, "/api/auth/token/", headers=basic("bea", "wrong again"))[0]
        for base in (first, second)
    ]

    assert failed == [401] * 5
    assert locked == [429, 429]


def test_an_answer_computed_by_one_server_is_reused_by_the_other_until_an_import(
    servers, organization, user
):
    first, second = servers
    measurement(organization, channel="tv", conversions=300)
    measurement(organization, channel="radio", conversions=100)
    reader = bearer(token_issue(user=user).token)
    writer = bearer(token_issue(user=user, scopes="read write").token)
    computed_before = metric(second, CACHE_LOOKUPS, result="miss")
    shared_before = metric(second, CACHE_LOOKUPS, result="hit_shared")

    status, computed_headers, computed = call(first, SHARES, headers=reader)
    _, reused_headers, reused = call(second, SHARES, headers=reader)

    assert status == 200
    assert json.loads(computed)["data"] == [
        {"channel": "tv", "percentage": "75.00"},
        {"channel": "radio", "percentage": "25.00"},
    ]
    assert reused == computed
    assert reused_headers["ETag"] == computed_headers["ETag"]
    assert metric(second, CACHE_LOOKUPS, result="hit_shared") == shared_before + 1
    assert metric(second, CACHE_LOOKUPS, result="miss") == computed_before

    upload = b"product,campaign_type,campaign,channel,date,conversions\n" + (
        b"energy drink,performance,spring,ooh,2021-02-01,400\n"
    )
    imported, _, _ = call(
        second,
        "/api/marketing/measurements/",
        method="POST",
        data=upload,
        headers={**writer, "Content-Type": "text/csv"},
    )
    _, after_headers, after = call(first, SHARES, headers=reader)

    assert imported == 200
    assert json.loads(after)["data"] == [
        {"channel": "ooh", "percentage": "50.00"},
        {"channel": "tv", "percentage": "37.50"},
        {"channel": "radio", "percentage": "12.50"},
    ]
    assert after_headers["ETag"] != computed_headers["ETag"]


def test_a_token_revoked_on_one_server_is_refused_by_the_other(servers, user):
    first, second = servers
    token = token_issue(user=user).token
    assert call(first, SHARES, headers=bearer(token))[0] == 200
    assert call(second, SHARES, headers=bearer(token))[0] == 200

    revoked, _, _ = call(first, "/api/auth/token/", method="DELETE", headers=bearer(token))

    assert revoked == 204
    assert call(second, SHARES, headers=bearer(token))[0] == 401
    assert call(first, SHARES, headers=bearer(token))[0] == 401


def cookies(headers) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for header in headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def test_a_dashboard_session_opened_on_one_server_holds_on_the_other(servers, user, settings):
    """Sessions live in the database and are checked with the shared SECRET_KEY: nothing of
    a sign-in is on the disk of the server that opened it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    user.set_password(TEST_PASSWORD)
    user.save()
    first, second = servers
    _, form_headers, form = call(first, "/sign-in/")
    csrf = cookies(form_headers)["csrftoken"]
    hidden = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.decode()).group(1)
    fields = {"username": "ana", "password": TEST_PASSWORD, "csrfmiddlewaretoken": hidden}

    signed_in, headers, _ = call(
        first,
        "/sign-in/",
        method="POST",
        data=urlencode(fields).encode(),
        headers={
            "Cookie": f"csrftoken={csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    session = {"Cookie": f"sessionid={cookies(headers)['sessionid']}"}

    assert signed_in == 302
    assert call(second, SHARES, headers=session)[0] == 200
    assert call(second, "/", headers=session)[0] == 200
    assert call(first, "/", headers=session)[0] == 200
