"""A user of one organisation never sees, counts or infers another organisation's data."""

import datetime

import pytest

from marketing_op.accounts.services import token_issue
from tests.factories import UserFactory, measurement

pytestmark = [pytest.mark.api, pytest.mark.django_db]

ENDPOINTS = [
    "/api/marketing/measurements/",
    "/api/marketing/stats/channel-sales-percentages/",
    "/api/marketing/stats/channels-sales-percentages/",
    "/api/marketing/stats/channel-weekly-sales/",
]
FILTERS = [
    "",
    "?products=secret%20cola",
    "?campaigns=secret%20launch",
    "?campaign_types=branding",
    "?channels=tv",
    "?channels=radio",
    "?start_date=2019-01-01&end_date=2030-12-31",
]


@pytest.fixture
def two_tenants(organization, other_organization, user):
    day = datetime.date(2022, 3, 7)
    measurement(
        organization, product="cola", campaign="spring", channel="tv", date=day, conversions=100.0
    )
    for channel, conversions in [("tv", 5000.0), ("radio", 3000.0)]:
        measurement(
            other_organization,
            product="secret cola",
            campaign_type="branding",
            campaign="secret launch",
            channel=channel,
            date=day - datetime.timedelta(days=400),
            conversions=conversions,
        )
    outsider = UserFactory(organization=other_organization, username="olga")
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user).token}"}, outsider


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("query", FILTERS)
def test_no_rows_totals_or_shares_of_another_organisation(api_client, two_tenants, endpoint, query):
    auth, _ = two_tenants

    body = api_client.get(endpoint + query, **auth).json()

    text = str(body)
    assert "secret" not in text
    assert "radio" not in text
    for row in body["data"]:
        assert row.get("channel") == "tv"
        assert row.get("conversions", 100.0) == 100.0
        assert row.get("sales", 100.0) == 100.0
        assert row.get("percentage", "100.00") == "100.00"
    assert body["meta"]["total"] == (1 if query in {"", "?channels=tv", FILTERS[-1]} else 0)


def test_dimensions_name_only_the_callers_data_and_dates(api_client, two_tenants):
    auth, _ = two_tenants

    data = api_client.get("/api/marketing/dimensions/", **auth).json()["data"]

    assert data == {
        "products": ["cola"],
        "campaigns": [{"name": "spring", "product": "cola", "campaign_type": "performance"}],
        "campaign_types": ["performance"],
        "channels": ["tv"],
        "first_date": "2022-03-07",
        "last_date": "2022-03-07",
    }


def test_the_other_organisation_sees_only_its_own(api_client, two_tenants):
    _, outsider = two_tenants
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=outsider).token}"}

    shares = api_client.get("/api/marketing/stats/channel-sales-percentages/", **auth).json()

    assert shares["data"] == [
        {"channel": "tv", "percentage": "62.50"},
        {"channel": "radio", "percentage": "37.50"},
    ]
