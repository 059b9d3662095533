"""Logs: one JSON object per line with the request's id and organisation, X-Request-ID taken
or made up and sent back, and never a token, a password or a row of data."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from unittest import mock

import orjson
import pytest
from django.test import Client

from marketing_op.accounts.services import token_issue
from marketing_op.core.logs import JsonFormatter, PlainFormatter
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.api, pytest.mark.django_db]

SHARES = "/api/marketing/stats/channel-sales-percentages/"


def captured(formatter: logging.Formatter) -> Iterator[io.StringIO]:
    lines = io.StringIO()
    handler = logging.StreamHandler(lines)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lines
    finally:
        root.removeHandler(handler)


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """What the service logs meanwhile, as LOG_FORMAT=json writes it."""
    yield from captured(JsonFormatter())


@pytest.fixture
def plain_log() -> Iterator[io.StringIO]:
    """What the service logs meanwhile, as LOG_FORMAT=plain writes it."""
    yield from captured(PlainFormatter())


def records(lines: io.StringIO) -> list[dict]:
    return [orjson.loads(line) for line in lines.getvalue().splitlines()]


def test_each_request_is_one_json_line_with_its_id_and_organisation(
    api_client, auth, organization, json_log
):
    response = api_client.get(SHARES, {"channels": "tv"}, HTTP_X_REQUEST_ID="req-42.a:b_c", **auth)

    assert response["X-Request-ID"] == "req-42.a:b_c"
    [line] = [entry for entry in records(json_log) if entry["logger"] == "marketing_op.access"]
    assert set(line) == {
        "time",
        "level",
        "logger",
        "message",
        "request_id",
        "organization",
        "method",
        "path",
        "status",
        "duration_ms",
    }
    assert line["level"] == "INFO"
    assert line["request_id"] == "req-42.a:b_c"
    assert line["organization"] == organization.pk
    assert (line["method"], line["path"], line["status"]) == ("GET", SHARES, 200)
    assert line["message"] == f"GET {SHARES} 200"
    assert line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00")


@pytest.mark.parametrize(
    "sent",
    [None, "", "a" * 129, "two words", "id\twith-tab", "<script>", "café"],
    ids=["none", "empty", "too long", "space", "tab", "markup", "not ascii"],
)
def test_a_request_id_that_is_missing_or_not_acceptable_is_replaced(api_client, json_log, sent):
    headers = {} if sent is None else {"HTTP_X_REQUEST_ID": sent}

    response = api_client.get("/api/health/", **headers)

    made_up = response["X-Request-ID"]
    assert made_up != sent
    assert len(made_up) == 32
    assert int(made_up, 16) >= 0
    [line] = [entry for entry in records(json_log) if entry["logger"] == "marketing_op.access"]
    assert line["request_id"] == made_up


def test_every_answer_and_every_line_about_it_carry_its_request_id(json_log):
    """Django's own warnings about refused requests included, which it writes after the
    middleware returned."""
    answers = [
        Client().get("/api/nothing-here/"),
        Client().get("/api/marketing/measurements/"),
        Client().put("/api/auth/token/"),
    ]

    ids = [answer["X-Request-ID"] for answer in answers]
    assert [answer.status_code for answer in answers] == [404, 401, 405]
    assert len(set(ids)) == 3
    lines = records(json_log)
    assert [line["request_id"] for line in lines if "status" in line] == ids
    warnings = [line for line in lines if line["logger"] == "django.request"]
    assert [line["request_id"] for line in warnings] == ids
    assert [line["path"] for line in warnings] == [
        "/api/nothing-here/",
        "/api/marketing/measurements/",
        "/api/auth/token/",
    ]


def test_no_token_password_or_row_of_data_reaches_the_logs(api_client, user, json_log, plain_log):
    """Every way a secret or a row passes through the service, and an unexpected error whose
    message holds a token: the logs, JSON and plain alike, hold none of them."""
    wrong_password = "wrong-password-that-must-not-be-logged"
    exchanged = api_client.get("/api/auth/token/", **api_client.basic("ana", TEST_PASSWORD))
    token = exchanged.json()["data"]["token"]
    api_client.get("/api/auth/token/", **api_client.basic("ana", wrong_password))
    api_client.get(SHARES, HTTP_AUTHORIZATION=f"Bearer {token}")
    guessed = "mop_guessed-token-that-must-not-be-logged"
    api_client.get(SHARES, HTTP_AUTHORIZATION=f"Bearer {guessed}")
    write = token_issue(user=user, scopes="read write").token
    header = "product,campaign_type,campaign,channel,date,conversions\n"
    rows = [
        "secret product,branding,secret campaign,tv,2021-01-04,4242.4242",
        "secret product,branding,secret campaign,tv,not-a-date,31337.31337",
    ]
    for body in (header + rows[0] + "\n", header + "\n".join(rows) + "\n"):
        api_client.post(
            "/api/marketing/measurements/",
            data=body,
            content_type="text/csv",
            HTTP_AUTHORIZATION=f"Bearer {write}",
        )
    with mock.patch(
        "marketing_op.core.api.service_readiness", side_effect=RuntimeError(f"leak {token}")
    ):
        failed = Client().get("/api/ready/", HTTP_AUTHORIZATION=f"Bearer {token}")
    api_client.delete("/api/auth/token/", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert failed.status_code == 500
    logged = json_log.getvalue() + plain_log.getvalue()
    assert '"exception":"RuntimeError"' in json_log.getvalue()
    assert "RuntimeError (message not logged)" in plain_log.getvalue()
    assert "Unhandled error on GET /api/ready/" in plain_log.getvalue()
    assert "Traceback" in plain_log.getvalue()
    secrets = [TEST_PASSWORD, wrong_password, token, write, guessed, token.removeprefix("mop_")]
    data = ["secret product", "secret campaign", "4242.4242", "31337.31337", "not-a-date"]
    for secret in secrets + data:
        assert secret not in logged


def settings_of(**environment: str) -> str:
    env = {key: value for key, value in os.environ.items() if key != "LOG_FORMAT"}
    env.update({"DATABASE_URL": "sqlite:///:memory:", **environment})
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "marketing_op",
            "shell",
            "-c",
            "from django.conf import "
            "settings; print(settings.LOG_FORMAT, settings.LOGGING['handlers']['console'])",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.stdout + result.stderr


def test_logs_are_json_in_production_and_plain_in_development_by_default():
    production = settings_of(
        MARKETING_OP_ENV="production", SECRET_KEY="k" * 60, ALLOWED_HOSTS="api.example.com"
    )
    development = settings_of(MARKETING_OP_ENV="development")
    chosen = settings_of(MARKETING_OP_ENV="development", LOG_FORMAT="json")
    refused = settings_of(LOG_FORMAT="xml")

    assert "json {'class': 'logging.StreamHandler', 'formatter': 'json'}" in production
    assert "plain {'class': 'logging.StreamHandler', 'formatter': 'plain'}" in development
    assert "json {" in chosen
    assert "LOG_FORMAT must be 'json' or 'plain'" in refused
