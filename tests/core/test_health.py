from unittest import mock

import pytest
from django.db import DatabaseError

pytestmark = [pytest.mark.api, pytest.mark.django_db]


def test_health_answers_ok_with_the_database_reachable(client):
    response = client.get("/api/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_health_answers_503_without_details_when_the_database_fails(client):
    with mock.patch("marketing_op.core.api.connection.cursor", side_effect=DatabaseError("boom")):
        response = client.get("/api/health/")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}
    assert "boom" not in response.content.decode()


def test_unknown_paths_and_wrong_methods_get_json_errors(client):
    missing = client.get("/api/nothing-here/")
    wrong_method = client.put("/api/auth/token/")

    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not found."}
    assert wrong_method.status_code == 405
    assert wrong_method.json() == {"detail": "Method not allowed."}
    assert "GET" in wrong_method["Allow"]


def test_every_api_answer_carries_the_security_headers(client):
    response = client.get("/api/health/")

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response["Referrer-Policy"] == "no-referrer"


def test_a_body_above_the_limit_gets_413_before_it_is_read(client, settings):
    settings.MAX_UPLOAD_BYTES = 10

    response = client.post("/api/auth/token/", data="x" * 11, content_type="text/plain")

    assert response.status_code == 413
    assert "10 bytes" in response.json()["detail"]


def test_cors_allows_only_the_configured_origins(client, settings):
    settings.CORS_ALLOWED_ORIGINS = ["https://dashboard.example.com"]

    allowed = client.get("/api/health/", HTTP_ORIGIN="https://dashboard.example.com")
    refused = client.get("/api/health/", HTTP_ORIGIN="https://evil.example.com")

    assert allowed["Access-Control-Allow-Origin"] == "https://dashboard.example.com"
    assert "Access-Control-Allow-Origin" not in refused


def test_health_says_degraded_with_200_while_the_cache_is_unreachable(
    api_client, unreachable_cache
):
    response = api_client.get("/api/health/")

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "cache": "unreachable"}
