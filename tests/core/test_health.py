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
