"""GET /metrics: who may read it, and what it counts, read as Prometheus reads it.

Metrics add up over the test process, so each test compares what /metrics says before and
after what it does. (tests/core/test_serve.py checks that a real server sums its workers.)
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

from marketing_op.accounts.services import token_issue
from marketing_op.core.caching import forget_worker_copies
from marketing_op.core.metrics import count_database_read
from tests.factories import TEST_PASSWORD, measurement

pytestmark = [pytest.mark.api, pytest.mark.django_db]

METRICS_TOKEN = "metrics-token-for-tests-0123456789"
SHARES = "/api/marketing/stats/channel-sales-percentages/"


def scrape(**headers: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of /metrics by name and labels."""
    response = Client().get("/metrics", **headers)
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_prometheus_text_and_open_in_development_without_a_token(settings):
    settings.METRICS_TOKEN = ""

    response = Client().get("/metrics")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "# TYPE marketing_op_http_requests_total counter" in response.content.decode()
    assert response["Cache-Control"] == "no-store"


def test_metrics_need_the_token_when_one_is_set(settings):
    settings.METRICS_TOKEN = METRICS_TOKEN

    missing = Client().get("/metrics")
    wrong = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer not-the-token")
    basic = Client().get("/metrics", HTTP_AUTHORIZATION=f"Basic {METRICS_TOKEN}")
    right = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")

    assert [missing.status_code, wrong.status_code, basic.status_code] == [401, 401, 401]
    assert missing.json() == {"detail": "Missing or wrong metrics token."}
    assert missing["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert right.status_code == 200


def test_production_without_a_token_does_not_serve_metrics(settings):
    settings.PRODUCTION = True
    settings.METRICS_TOKEN = ""

    response = Client().get("/metrics")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_production_with_a_token_serves_metrics_to_its_holder_only(settings):
    settings.PRODUCTION = True
    settings.METRICS_TOKEN = METRICS_TOKEN

    assert Client().get("/metrics").status_code == 401
    assert Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}").status_code == 200


def test_requests_are_counted_by_route_template_method_and_status(api_client, auth):
    before = scrape()

    api_client.get("/api/marketing/measurements/", **auth)
    api_client.get("/api/marketing/measurements/", {"channels": "tv"}, **auth)
    api_client.get("/api/marketing/measurements/")
    Client().get("/api/no-such-path/123/")
    Client().get("/api/no-such-path/456/")
    Client().get("/")

    after = scrape()
    measurements = {"endpoint": "/api/marketing/measurements/", "method": "GET"}
    assert value(after, "marketing_op_http_requests_total", **measurements, status="200") == (
        value(before, "marketing_op_http_requests_total", **measurements, status="200") + 2
    )
    assert value(after, "marketing_op_http_requests_total", **measurements, status="401") == (
        value(before, "marketing_op_http_requests_total", **measurements, status="401") + 1
    )
    unmatched = {"endpoint": "unmatched", "method": "GET", "status": "404"}
    assert value(after, "marketing_op_http_requests_total", **unmatched) == (
        value(before, "marketing_op_http_requests_total", **unmatched) + 2
    )
    overview = {"endpoint": "/", "method": "GET", "status": "302"}
    assert value(after, "marketing_op_http_requests_total", **overview) == (
        value(before, "marketing_op_http_requests_total", **overview) + 1
    )
    assert not any("no-such-path" in str(labels) for _, labels in after)
    assert value(after, "marketing_op_http_request_duration_seconds_count", **measurements) == (
        value(before, "marketing_op_http_request_duration_seconds_count", **measurements) + 3
    )


def test_answer_cache_hits_and_misses_are_counted(api_client, auth, organization):
    measurement(organization, channel="tv", conversions=10)
    before = scrape()

    api_client.get(SHARES, **auth)  # computed
    api_client.get(SHARES, **auth)  # this worker's copy
    forget_worker_copies()
    api_client.get(SHARES, **auth)  # the shared cache's entry

    after = scrape()
    for result in ("miss", "hit_worker", "hit_shared"):
        name = "marketing_op_answer_cache_lookups_total"
        assert value(after, name, result=result) == value(before, name, result=result) + 1, result


def test_rate_limit_refusals_are_counted(api_client, auth, settings):
    settings.RATE_LIMIT_PER_MINUTE = 2
    before = scrape()

    statuses = [api_client.get(SHARES, **auth).status_code for _ in range(4)]

    assert statuses == [200, 200, 429, 429]
    name = "marketing_op_throttle_rejections_total"
    assert (
        value(scrape(), name, reason="rate_limit") == value(before, name, reason="rate_limit") + 2
    )


def test_lock_outs_and_token_exchange_refusals_are_counted(api_client, user, settings):
    settings.TOKEN_EXCHANGES_PER_HOUR = 1
    before = scrape()

    assert (
        api_client.get("/api/auth/token/", **api_client.basic("ana", TEST_PASSWORD)).status_code
        == 200
    )
    assert (
        api_client.get("/api/auth/token/", **api_client.basic("ana", TEST_PASSWORD)).status_code
        == 429
    )
    for _ in range(5):
        api_client.get("/api/auth/token/", **api_client.basic("ana", "wrong"))
    locked = api_client.get("/api/auth/token/", **api_client.basic("ana", TEST_PASSWORD))

    assert locked.status_code == 429
    after = scrape()
    name = "marketing_op_throttle_rejections_total"
    assert value(after, name, reason="token_exchanges") == (
        value(before, name, reason="token_exchanges") + 1
    )
    assert value(after, name, reason="lockout") == value(before, name, reason="lockout") + 1


def test_imports_are_counted_by_result_with_their_rows_and_seconds(api_client, user):
    write = {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user, scopes='read write').token}"}
    header = "product,campaign_type,campaign,channel,date,conversions\n"
    good = header + "p,branding,c,tv,2021-01-04,12.5\np,branding,c,radio,2021-01-05,3\n"
    bad = header + "p,branding,c,tv,not a date,1\n"
    before = scrape()

    def post(body: str, **headers: str) -> int:
        return api_client.post(
            "/api/marketing/measurements/", data=body, content_type="text/csv", **write, **headers
        ).status_code

    assert post(good, HTTP_IDEMPOTENCY_KEY="run-1") == 200
    assert post(good, HTTP_IDEMPOTENCY_KEY="run-1") == 200
    assert post(bad) == 422

    after = scrape()
    for result in ("accepted", "replayed", "rejected"):
        for name in ("marketing_op_imports_total", "marketing_op_import_duration_seconds_count"):
            assert value(after, name, result=result) == value(before, name, result=result) + 1
    rows = "marketing_op_import_rows_total"
    assert value(after, rows) == value(before, rows) + 2


def test_database_reads_are_counted_by_database_alias():
    before = scrape()

    count_database_read("default")
    count_database_read("replica_1")
    count_database_read("replica_1")

    after = scrape()
    name = "marketing_op_database_reads_total"
    assert value(after, name, database="default") == value(before, name, database="default") + 1
    assert value(after, name, database="replica_1") == value(before, name, database="replica_1") + 2
