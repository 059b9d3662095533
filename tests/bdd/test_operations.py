"""Steps of operations.feature: readiness, metrics and request ids, as an operator's tools
meet them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families
from pytest_bdd import given, parsers, scenarios, then, when

from tests.bdd.conftest import REPORT_PATHS, Conversation

pytestmark = [pytest.mark.api, pytest.mark.django_db]

scenarios("operations.feature")


@given(parsers.parse('the metrics token is "{token}"'))
def metrics_token(token: str, settings: Any) -> None:
    settings.METRICS_TOKEN = token


@given("the service runs in production without a metrics token")
def production_without_metrics_token(settings: Any) -> None:
    settings.PRODUCTION = True
    settings.METRICS_TOKEN = ""


@when("my load balancer asks whether the service is ready")
def ask_ready(http_client: Client, conversation: Conversation) -> None:
    conversation.response = http_client.get("/api/ready/")


@given(parsers.parse('my Prometheus has scraped the metrics with the token "{token}"'))
def scraped_metrics(token: str, conversation: Conversation) -> None:
    scraped = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert scraped.status_code == 200
    conversation.seen.append({"metrics": scraped.content.decode()})


@when(parsers.parse('my Prometheus scrapes the metrics with the token "{token}"'))
def scrape_metrics(token: str, conversation: Conversation) -> None:
    conversation.response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")


@when(parsers.parse('I ask for the {report} with the request id "{request_id}"'))
def ask_with_request_id(
    report: str, request_id: str, http_client: Client, conversation: Conversation
) -> None:
    conversation.response = http_client.get(
        REPORT_PATHS[report], HTTP_X_REQUEST_ID=request_id, **conversation.headers
    )


@then(parsers.parse('it is told "{status}" with status {code:d}'))
def told_status(status: str, code: int, conversation: Conversation) -> None:
    assert conversation.response.status_code == code
    assert conversation.body == {"status": status}


def answers_counted(metrics: str, endpoint: str, status: int) -> float:
    """``marketing_op_http_requests_total`` of GET ``endpoint`` answered ``status``."""
    counted = [
        sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "marketing_op_http_requests_total"
        and sample.labels == {"endpoint": endpoint, "method": "GET", "status": str(status)}
    ]
    assert len(counted) <= 1, counted
    return counted[0] if counted else 0.0


@then(parsers.parse('the metrics count one more answer of "{endpoint}" with status {status:d}'))
def metrics_count(endpoint: str, status: int, conversation: Conversation) -> None:
    """The counters live as long as the process: the scrape before the request is the
    reference, and the request adds exactly one."""
    assert conversation.response.status_code == 200
    before = [seen["metrics"] for seen in conversation.seen if "metrics" in seen]
    assert len(before) == 1
    now = answers_counted(conversation.response.content.decode(), endpoint, status)

    assert now - answers_counted(before[0], endpoint, status) == 1


@then(parsers.parse('the answer carries the request id "{request_id}"'))
def carries_request_id(request_id: str, conversation: Conversation) -> None:
    assert conversation.response["X-Request-ID"] == request_id


@then("the answer carries a request id of 32 hexadecimal digits")
def carries_made_up_request_id(conversation: Conversation) -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", conversation.response["X-Request-ID"])
