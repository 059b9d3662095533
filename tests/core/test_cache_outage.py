"""Redis unreachable: the cache is not the source of truth, so every answer stays right."""

import datetime
import logging

import pytest

from tests.factories import TEST_PASSWORD, measurement

pytestmark = [pytest.mark.api, pytest.mark.django_db]

DATA_URLS = [
    "/api/marketing/measurements/",
    "/api/marketing/stats/channel-sales-percentages/",
    "/api/marketing/stats/channel-weekly-sales/",
    "/api/marketing/dimensions/",
    "/api/marketing/imports/",
]


def test_without_the_cache_every_endpoint_answers_as_with_it(
    api_client, auth, user, organization, settings
):
    measurement(organization, channel="tv", date=datetime.date(2021, 3, 1), conversions=5.0)
    with_cache = {url: api_client.get(url, **auth).json() for url in DATA_URLS}
    settings.CACHES = {"default": _unreachable(settings)}

    exchanged = api_client.get("/api/auth/token/", **api_client.basic("ana", TEST_PASSWORD))
    fresh = {"HTTP_AUTHORIZATION": f"Bearer {exchanged.json()['data']['token']}"}
    without_cache = {url: api_client.get(url, **fresh) for url in DATA_URLS}

    assert exchanged.status_code == 200
    assert {url: answer.status_code for url, answer in without_cache.items()} == dict.fromkeys(
        DATA_URLS, 200
    )
    assert {url: answer.json() for url, answer in without_cache.items()} == with_cache


def _unreachable(settings):
    """Same as the ``unreachable_cache`` fixture, after the first answers were cached."""
    import socket

    from marketing_op.config.settings import redis_cache

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return redis_cache(f"redis://127.0.0.1:{port}/0")


@pytest.fixture(autouse=True)
def _outage_forgotten(settings):
    """The reachable cache back, before the test's cache entries are deleted."""
    from marketing_op.core import shared_cache

    reachable = settings.CACHES
    yield
    settings.CACHES = reachable
    shared_cache.forget_outage()


def test_imports_go_through_without_the_cache(api_client, user, unreachable_cache):
    from marketing_op.accounts.services import token_issue

    write = {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user, scopes='read write').token}"}
    body = (
        "product,campaign_type,campaign,channel,date,conversions\n"
        "cola,branding,spring,tv,2021-03-01,5\n"
    )

    imported = api_client.post(
        "/api/marketing/measurements/", data=body, content_type="text/csv", **write
    )
    listed = api_client.get("/api/marketing/measurements/", **write)

    assert imported.status_code == 200
    assert imported.json()["data"]["inserted"] == 1
    assert [row["conversions"] for row in listed.json()["data"]] == [5.0]


def test_without_the_cache_the_rate_limit_holds_per_process(
    api_client, auth, settings, unreachable_cache
):
    settings.RATE_LIMIT_PER_MINUTE = 3
    answers = [api_client.get(DATA_URLS[1], **auth) for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert 0 < int(answers[-1]["Retry-After"]) <= 60


def test_without_the_cache_failed_sign_ins_still_lock(api_client, user, unreachable_cache):
    for _ in range(5):
        assert (
            api_client.get("/api/auth/token/", **api_client.basic("ana", "wrong")).status_code
            == 401
        )

    locked = api_client.get("/api/auth/token/", **api_client.basic("ana", TEST_PASSWORD))

    assert locked.status_code == 429


def test_an_unreachable_cache_is_logged_once_not_on_every_request(
    api_client, auth, unreachable_cache, caplog
):
    with caplog.at_level(logging.WARNING):
        answers = [api_client.get(url, **auth).status_code for url in DATA_URLS * 3]

    warnings = [record for record in caplog.records if "cache" in record.getMessage().lower()]
    assert answers == [200] * len(answers)
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
