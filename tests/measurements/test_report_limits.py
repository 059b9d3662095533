"""The work one report request may cause (issue 24, item 3): a report too large is refused
by an estimate before anything is summed, and refused again from memory; a user's reports
beyond ``REPORTS_PER_USER`` wait, then get 429 with ``Retry-After``; Redis down refuses
nothing for want of Redis."""

import datetime
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketing_op.accounts.services import token_issue
from marketing_op.core.running_limits import running_slot
from tests.factories import UserFactory, measurement

pytestmark = [pytest.mark.api, pytest.mark.django_db]

REPORTS = "/api/marketing/reports/"
D = datetime.date
# Every day of two centuries for each of the two channels: 146,098 rows, more than 100,000.
TOO_LARGE = "dimensions=channel&granularity=day&start_date=1900-01-01&end_date=2099-12-31"


@pytest.fixture
def sales(organization):
    for day, channel in [(D(2021, 1, 4), "tv"), (D(2021, 1, 5), "radio"), (D(2021, 2, 1), "tv")]:
        measurement(organization, channel=channel, date=day, conversions=10.0)


@pytest.fixture
def other_auth(organization):
    other = UserFactory(organization=organization, username="bea")
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=other).token}"}


def sums_read(queries) -> list[str]:
    """The queries that summed measurements for a report's rows."""
    return [query["sql"] for query in queries if "report_conversions" in query["sql"]]


def test_a_report_too_large_is_refused_before_anything_is_summed(api_client, auth, sales):
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(f"{REPORTS}?{TOO_LARGE}", **auth)

    assert response.status_code == 400
    assert "100,000 rows" in response.json()["detail"]
    assert sums_read(queries.captured_queries) == []


def test_a_refused_report_asked_again_is_refused_from_memory(api_client, auth, sales):
    first = api_client.get(f"{REPORTS}?{TOO_LARGE}&fill=true", **auth)

    with CaptureQueriesContext(connection) as queries:
        again = api_client.get(f"{REPORTS}?{TOO_LARGE}&fill=true", **auth)

    assert (
        (again.status_code, again.json())
        == (first.status_code, first.json())
        == (
            400,
            first.json(),
        )
    )
    touched = [q["sql"] for q in queries.captured_queries if "measurements_" in q["sql"]]
    assert touched == []


def test_an_unfilled_report_over_two_centuries_is_estimated_by_its_measurements(
    api_client, auth, sales
):
    """Periods times groups is no estimate of a report that lists only what has data."""
    response = api_client.get(f"{REPORTS}?{TOO_LARGE}&fill=false", **auth)

    assert response.status_code == 200
    assert response.json()["meta"]["total"] == 3


def test_an_open_range_is_clamped_to_the_days_with_data(api_client, auth, sales):
    """From 1900 to the last day with data would be 44,000 days times two channels; from
    the first day with data it is 29 days."""
    response = api_client.get(f"{REPORTS}?dimensions=channel&granularity=day", **auth)

    assert response.status_code == 200
    assert response.json()["meta"]["total"] == 29 * 2


@pytest.mark.parametrize(
    "order_by",
    [
        "order_by=conversions&order_by=-conversions",
        "order_by=-period,period",
        "order_by=-channel,channel",
    ],
)
def test_each_field_orders_a_report_once(api_client, auth, sales, order_by):
    response = api_client.get(f"{REPORTS}?dimensions=channel&{order_by}", **auth)

    assert response.status_code == 422
    assert [problem["loc"] for problem in response.json()["detail"]] == [["query", "order_by"]]


def test_a_users_reports_beyond_the_limit_wait_then_get_429(
    api_client, auth, other_auth, user, sales, settings, tmp_path
):
    settings.VAR_DIR = tmp_path
    settings.REPORTS_PER_USER = 1
    settings.REPORT_WAIT_SECONDS = 1
    query = "dimensions=channel&granularity=month"

    # One report of the user is being computed (by another request, on any worker).
    with running_slot(kind="report", holder=str(user.pk), limit=1, wait_seconds=0):
        started = time.monotonic()
        refused = api_client.get(f"{REPORTS}?{query}", **auth)
        waited = time.monotonic() - started
        another_user = api_client.get(f"{REPORTS}?{query}", **other_auth)

    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"
    assert waited >= 1.0
    assert another_user.status_code == 200
    assert api_client.get(f"{REPORTS}?{query}&fill=false", **auth).status_code == 200


def test_an_answer_already_computed_needs_no_slot(
    api_client, auth, user, sales, settings, tmp_path
):
    settings.VAR_DIR = tmp_path
    settings.REPORTS_PER_USER = 1
    settings.REPORT_WAIT_SECONDS = 0
    settings.ANSWER_CACHE_SECONDS = 0
    query = f"{REPORTS}?dimensions=channel&granularity=week"
    computed = api_client.get(query, **auth)

    with running_slot(kind="report", holder=str(user.pk), limit=1, wait_seconds=0):
        again = api_client.get(query, **auth)

    assert again.status_code == computed.status_code == 200
    assert again.json() == computed.json()


def test_with_redis_down_reports_are_computed_and_limited_per_process(
    api_client, auth, user, sales, settings, unreachable_cache
):
    settings.REPORTS_PER_USER = 1
    settings.REPORT_WAIT_SECONDS = 0

    answered = api_client.get(f"{REPORTS}?dimensions=channel&granularity=month", **auth)
    with running_slot(kind="report", holder=str(user.pk), limit=1, wait_seconds=0):
        refused = api_client.get(f"{REPORTS}?dimensions=channel&granularity=year", **auth)

    assert answered.status_code == 200
    assert refused.status_code == 429
