"""Query parameters that an endpoint does not know (issue 24, item 7): a 422 naming them and
the known ones on every endpoint that the old contract does not cover; on the contract's
endpoints the answer is as before, with the ignored names in a ``Warning`` header."""

import datetime

import pytest

from marketing_op.accounts.services import token_issue
from tests.factories import TEST_PASSWORD, measurement

pytestmark = [pytest.mark.api, pytest.mark.django_db]


@pytest.fixture
def month(organization):
    for day in (1, 2, 3):
        measurement(organization, channel="tv", date=datetime.date(2021, 1, day), conversions=1.0)


@pytest.fixture
def write_auth(user):
    return {"HTTP_AUTHORIZATION": f"Bearer {token_issue(user=user, scopes='read write').token}"}


def refused_names(response):
    assert response.status_code == 422, response.content
    return [(problem["loc"], problem["msg"]) for problem in response.json()["detail"]]


@pytest.mark.parametrize(
    ("path", "known"),
    [
        ("/api/marketing/reports/", "dimensions"),
        ("/api/marketing/dimensions/", "none"),
        ("/api/marketing/imports/", "page_size"),
    ],
)
def test_a_typo_on_a_new_endpoint_is_a_422_naming_it_and_the_known_names(
    api_client, auth, month, path, known
):
    """``reports/?dimension=channel`` answered 200 with one grand total."""
    response = api_client.get(f"{path}?dimension=channel", **auth)

    [(loc, message)] = refused_names(response)
    assert loc == ["query", "dimension"]
    assert known in message.removeprefix("unknown query parameter; this endpoint takes: ")


def test_every_unknown_name_is_named(api_client, auth, month):
    response = api_client.get("/api/marketing/reports/?dimensions=channel&foo=1&bar=2", **auth)

    assert [loc for loc, _ in refused_names(response)] == [["query", "foo"], ["query", "bar"]]


def test_an_import_with_an_unknown_parameter_imports_nothing(api_client, write_auth, month):
    response = api_client.post(
        "/api/marketing/measurements/?replace=false&replce=true",
        data=b"product,campaign_type,campaign,channel,date,conversions\n"
        b"cola,branding,wave,radio,2021-01-05,3\n",
        content_type="text/csv",
        **write_auth,
    )

    assert [loc for loc, _ in refused_names(response)] == [["query", "replce"]]
    listed = api_client.get("/api/marketing/measurements/?channels=radio", **write_auth)
    assert listed.json()["data"] == []


def test_an_export_of_a_contract_endpoint_refuses_unknown_names(api_client, auth, month):
    response = api_client.get("/api/marketing/measurements/?format=csv&chanels=tv", **auth)

    assert [loc for loc, _ in refused_names(response)] == [["query", "chanels"]]


@pytest.mark.parametrize(
    "path",
    [
        "/api/marketing/measurements/",
        "/api/marketing/stats/channel-sales-percentages/",
        "/api/marketing/stats/channels-sales-percentages/",
        "/api/marketing/stats/channel-weekly-sales/",
    ],
)
def test_the_contracts_endpoints_answer_as_before_and_say_what_they_ignored(
    api_client, auth, month, path
):
    plain = api_client.get(f"{path}?channels=tv", **auth)
    response = api_client.get(f"{path}?channels=tv&chanels=radio&x%22y=1", **auth)

    assert response.status_code == 200
    assert response.json() == plain.json()
    assert response["Warning"] == '299 - "unknown query parameters ignored: chanels, x%22y"'
    assert "Warning" not in plain


def test_the_token_exchange_says_what_it_ignored(api_client, user):
    response = api_client.get(
        "/api/auth/token/?scope=read&grant_type=password", **api_client.basic("ana", TEST_PASSWORD)
    )

    assert response.status_code == 200
    assert response["Warning"] == '299 - "unknown query parameters ignored: grant_type"'


def test_a_health_probe_with_a_cache_buster_is_healthy(api_client, db):
    response = api_client.get("/api/health/?_=1700000000")

    assert response.status_code == 200
    assert response["Warning"] == '299 - "unknown query parameters ignored: _"'


def test_without_credentials_the_answer_is_401_not_the_list_of_names(api_client, month):
    assert api_client.get("/api/marketing/reports/?dimension=channel").status_code == 401


def test_a_thousand_unknown_names_give_a_short_answer(api_client, auth, month):
    query = "&".join(f"n{number}=1" for number in range(900))

    response = api_client.get(f"/api/marketing/measurements/?{query}", **auth)

    assert response.status_code == 200
    assert response["Warning"].endswith('n9, and 890 more"')
    refused = api_client.get(f"/api/marketing/reports/?{query}", **auth)
    assert len(refused_names(refused)) == 10
