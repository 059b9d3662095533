import datetime
import math
import re

import pytest

from tests.factories import measurements_bulk

pytestmark = [pytest.mark.api, pytest.mark.django_db]

MEASUREMENTS = "/api/marketing/measurements/"
SHARES = "/api/marketing/stats/channel-sales-percentages/"
WEEKLY = "/api/marketing/stats/channel-weekly-sales/"
DATA_ENDPOINTS = [MEASUREMENTS, SHARES, "/api/marketing/stats/channels-sales-percentages/", WEEKLY]


@pytest.fixture
def month(organization):
    """45 rows: 3 channels a day, 15 days from 2021-02-22, two products."""
    measurements_bulk(
        organization,
        [
            {
                "product": "cola" if number else "lemonade",
                "campaign": f"wave {offset % 2}",
                "channel": channel,
                "date": datetime.date(2021, 2, 22) + datetime.timedelta(offset),
                "conversions": round(10.0 * (offset + 1) + number / 3, 6),
            }
            for offset in range(15)
            for number, channel in enumerate(["tv", "radio", "facebook"])
        ],
    )


def links(response):
    return {
        rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.get("Link", ""))
    }


def test_walking_every_page_sees_every_row_once_in_the_documented_order(api_client, auth, month):
    seen, url, pages = [], MEASUREMENTS + "?page_size=7", 0
    while url:
        response = api_client.get(url, **auth)
        body = response.json()
        assert body["meta"]["total"] == 45
        seen += [tuple(row.values()) for row in body["data"]]
        url = links(response).get("next")
        pages += 1

    assert pages == 7
    assert len(seen) == len(set(seen)) == 45
    assert seen == sorted(seen, key=lambda row: (row[4], row[0], row[1], row[2], row[3]))


def test_pages_carry_meta_and_link_headers(api_client, auth, month):
    response = api_client.get(MEASUREMENTS + "?offset=5&page_size=5&channels=tv", **auth)

    body = response.json()
    assert {key: body["meta"][key] for key in ("offset", "page_size", "total")} == {
        "offset": 5,
        "page_size": 5,
        "total": 15,
    }
    assert [row["date"] for row in body["data"]] == [
        (datetime.date(2021, 2, 27) + datetime.timedelta(n)).isoformat() for n in range(5)
    ]
    assert links(response) == {
        "next": "/api/marketing/measurements/?channels=tv&page_size=5&offset=10",
        "prev": "/api/marketing/measurements/?channels=tv&page_size=5&offset=0",
    }


def test_the_last_page_has_no_next_link_and_the_first_no_prev(api_client, auth, month):
    first = api_client.get(MEASUREMENTS + "?page_size=40", **auth)
    last = api_client.get(MEASUREMENTS + "?page_size=40&offset=40", **auth)
    beyond = api_client.get(MEASUREMENTS + "?offset=1000", **auth)

    assert set(links(first)) == {"next"}
    assert set(links(last)) == {"prev"}
    assert len(last.json()["data"]) == 5
    assert beyond.json()["data"] == []
    assert beyond.json()["meta"]["total"] == 45


def test_repeated_filters_match_any_value_and_the_products_filter_works(api_client, auth, month):
    body = api_client.get(MEASUREMENTS + "?channels=tv&channels=radio&page_size=100", **auth).json()
    cola = api_client.get(MEASUREMENTS + "?products=cola&page_size=100", **auth).json()

    assert {row["channel"] for row in body["data"]} == {"tv", "radio"}
    assert body["meta"]["total"] == 30
    assert {row["product"] for row in cola["data"]} == {"cola"}
    assert cola["meta"]["total"] == 30


def test_dates_are_inclusive_and_an_equal_start_and_end_is_one_day(api_client, auth, month):
    day = api_client.get(MEASUREMENTS + "?start_date=2021-03-01&end_date=2021-03-01", **auth).json()
    span = api_client.get(
        MEASUREMENTS + "?start_date=2021-03-01&end_date=2021-03-03", **auth
    ).json()

    assert {row["date"] for row in day["data"]} == {"2021-03-01"}
    assert day["meta"]["total"] == 3
    assert span["meta"]["total"] == 9


@pytest.mark.parametrize("endpoint", DATA_ENDPOINTS)
def test_start_after_end_gets_the_contracts_400(api_client, auth, endpoint):
    response = api_client.get(endpoint + "?start_date=2021-03-02&end_date=2021-03-01", **auth)

    assert response.status_code == 400
    assert response.json() == {"detail": "End date should be greater than start date"}


@pytest.mark.parametrize("endpoint", DATA_ENDPOINTS)
@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("page_size=0", "page_size"),
        ("page_size=101", "page_size"),
        ("page_size=ten", "page_size"),
        ("offset=-1", "offset"),
        ("offset=1.5", "offset"),
        ("start_date=2021-02-30", "start_date"),
        ("end_date=yesterday", "end_date"),
    ],
)
def test_malformed_values_get_422_naming_the_parameter(
    api_client, auth, endpoint, query, parameter
):
    response = api_client.get(f"{endpoint}?{query}", **auth)

    assert response.status_code == 422
    assert [problem["loc"][-1] for problem in response.json()["detail"]] == [parameter]


@pytest.mark.parametrize("endpoint", [*DATA_ENDPOINTS, "/api/marketing/dimensions/"])
@pytest.mark.parametrize("header", [None, "Bearer", "Bearer abc", "Token abc", "Basic YTpi"])
def test_data_endpoints_need_a_valid_bearer_token(api_client, user, endpoint, header):
    response = api_client.get(endpoint, **({"HTTP_AUTHORIZATION": header} if header else {}))

    assert response.status_code == 401
    assert response.json() == {"detail": "Missing, invalid or expired credentials."}


def test_the_old_share_path_answers_like_the_new_one(api_client, auth, month):
    new = api_client.get(SHARES + "?products=cola", **auth)
    old = api_client.get("/api/marketing/stats/channels-sales-percentages/?products=cola", **auth)

    assert old.json() == new.json()
    assert [row["channel"] for row in new.json()["data"]] == ["facebook", "radio"]


def test_a_channels_measurements_add_up_to_its_weekly_sales(api_client, auth, month):
    rows = api_client.get(MEASUREMENTS + "?channels=radio&page_size=100", **auth).json()["data"]
    weeks = api_client.get(WEEKLY + "?channels=radio", **auth).json()

    assert [(row["year"], row["week"]) for row in weeks["data"]] == [
        (2021, 8),
        (2021, 9),
        (2021, 10),
    ]
    assert math.isclose(
        math.fsum(row["sales"] for row in weeks["data"]),
        math.fsum(row["conversions"] for row in rows),
        rel_tol=1e-12,
    )


def test_an_unknown_filter_value_gives_an_empty_list(api_client, auth, month):
    for endpoint in DATA_ENDPOINTS:
        body = api_client.get(endpoint + "?channels=carrier%20pigeon", **auth).json()
        assert body["data"] == []
        assert body["meta"]["total"] == 0


def test_dimensions_give_the_dashboard_its_drop_downs(api_client, auth, month):
    data = api_client.get("/api/marketing/dimensions/", **auth).json()["data"]

    assert data["products"] == ["cola", "lemonade"]
    assert data["channels"] == ["facebook", "radio", "tv"]
    assert data["campaign_types"] == ["performance"]
    assert {(c["name"], c["product"]) for c in data["campaigns"]} == {
        ("wave 0", "cola"),
        ("wave 1", "cola"),
        ("wave 0", "lemonade"),
        ("wave 1", "lemonade"),
    }
    assert (data["first_date"], data["last_date"]) == ("2021-02-22", "2021-03-08")


def test_an_organisation_without_data_gets_empty_dimensions(api_client, auth):
    data = api_client.get("/api/marketing/dimensions/", **auth).json()["data"]

    assert data == {
        "products": [],
        "campaigns": [],
        "campaign_types": [],
        "channels": [],
        "first_date": None,
        "last_date": None,
    }


def test_walking_with_the_cursor_sees_every_row_once_and_ends(api_client, auth, month):
    seen, url = [], MEASUREMENTS + "?page_size=8&channels=tv&channels=radio"
    cursors = []
    while url:
        response = api_client.get(url, **auth)
        body = response.json()
        assert body["meta"]["total"] == 30
        seen += [tuple(row.values()) for row in body["data"]]
        cursors.append(body["meta"]["next_cursor"])
        url = links(response).get("next")

    offset_walk = api_client.get(
        MEASUREMENTS + "?page_size=100&channels=tv&channels=radio", **auth
    ).json()["data"]
    assert seen == [tuple(row.values()) for row in offset_walk]
    assert len(cursors) == 4
    assert cursors[-1] is None


def test_an_offset_page_offers_the_cursor_of_the_next_page(api_client, auth, month):
    first = api_client.get(MEASUREMENTS + "?page_size=5", **auth).json()
    by_cursor = api_client.get(
        MEASUREMENTS + f"?page_size=5&cursor={first['meta']['next_cursor']}", **auth
    ).json()
    by_offset = api_client.get(MEASUREMENTS + "?page_size=5&offset=5", **auth).json()

    assert by_cursor["data"] == by_offset["data"]


FORGED_CURSORS = [
    "not-a-cursor",
    "W10",  # []
    "WyJhIl0",  # ["a"]
    "bnVsbA",  # null
    "WyIyMDIxLTEzLTQ1IiwgImEiLCAiYiIsICJjIiwgImQiXQ",  # ["2021-13-45", "a", "b", "c", "d"]
    "WzEsIDIsIDMsIDQsIDVd",  # [1, 2, 3, 4, 5]
]


@pytest.mark.parametrize("cursor", FORGED_CURSORS)
def test_a_cursor_the_list_did_not_give_out_gets_400(api_client, auth, month, cursor):
    response = api_client.get(MEASUREMENTS + f"?cursor={cursor}", **auth)

    assert response.status_code == 400
    assert response.json() == {"detail": "The cursor is not one that this list gave out."}


def test_cursor_and_offset_together_get_400(api_client, auth, month):
    cursor = api_client.get(MEASUREMENTS + "?page_size=5", **auth).json()["meta"]["next_cursor"]

    response = api_client.get(MEASUREMENTS + f"?cursor={cursor}&offset=5", **auth)

    assert response.status_code == 400
    assert "not both" in response.json()["detail"]


@pytest.mark.parametrize("offset", [0, 2, 3, 50])
def test_aggregated_pages_count_every_group_at_any_offset(api_client, auth, month, offset):
    body = api_client.get(WEEKLY + f"?page_size=2&offset={offset}", **auth).json()

    assert body["meta"]["total"] == 9  # three channels in three ISO weeks
    assert len(body["data"]) == max(0, min(2, 9 - offset))


# --- dates at the ends of the calendar (issue 12, item 4) ---------------------------------------


@pytest.mark.parametrize("endpoint", DATA_ENDPOINTS)
@pytest.mark.parametrize(
    ("query", "everything"),
    [
        ("end_date=9999-12-31", True),
        ("start_date=0001-01-01", True),
        ("start_date=0001-01-01&end_date=9999-12-31", True),
        ("start_date=9999-12-26", False),
        ("start_date=9999-12-31&end_date=9999-12-31", False),
        ("end_date=0001-01-06", False),
        ("start_date=0001-01-01&end_date=0001-01-01", False),
        ("start_date=3000-01-01", False),
        ("end_date=1899-12-31", False),
    ],
)
def test_any_iso_date_filters_without_error(api_client, auth, month, endpoint, query, everything):
    """A date beyond the calendar's bounds selects what it would if the calendar went on:
    a range that reaches past them selects every day inside, one wholly outside nothing."""
    unfiltered = api_client.get(f"{endpoint}?page_size=100", **auth).json()

    response = api_client.get(f"{endpoint}?page_size=100&{query}", **auth)

    assert response.status_code == 200
    if everything:
        assert response.json() == unfiltered
    else:
        assert response.json()["data"] == []
        assert response.json()["meta"]["total"] == 0


@pytest.mark.parametrize("endpoint", DATA_ENDPOINTS)
def test_dates_out_of_order_beyond_the_calendar_get_the_contracts_400(api_client, auth, endpoint):
    response = api_client.get(endpoint + "?start_date=9999-12-31&end_date=9999-12-30", **auth)

    assert response.status_code == 400
    assert response.json() == {"detail": "End date should be greater than start date"}


# --- links that no client can poison (issue 12, item 7) -----------------------------------------


@pytest.mark.parametrize("endpoint", [MEASUREMENTS, WEEKLY])
def test_a_cached_link_header_does_not_carry_another_clients_host(
    api_client, auth, month, settings, endpoint
):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    url = f"{endpoint}?page_size=2&offset=2"
    api_client.get(url, HTTP_HOST="localhost:6666", HTTP_X_FORWARDED_PROTO="https", **auth)

    response = api_client.get(url, **auth)

    assert links(response) == {
        "next": f"{endpoint}?page_size=2&offset=4",
        "prev": f"{endpoint}?page_size=2&offset=0",
    }


@pytest.mark.parametrize("endpoint", [MEASUREMENTS, WEEKLY])
def test_a_cached_link_header_does_not_carry_another_clients_unknown_parameters(
    api_client, auth, month, endpoint
):
    query = "channels=tv&channels=radio&offset=2&page_size=2"
    api_client.get(f"{endpoint}?{query}&junk=%3Cscript%3E", **auth)

    response = api_client.get(f"{endpoint}?{query}", **auth)

    assert links(response) == {
        "next": f"{endpoint}?channels=tv&channels=radio&page_size=2&offset=4",
        "prev": f"{endpoint}?channels=tv&channels=radio&page_size=2&offset=0",
    }


# --- If-None-Match: * only for a valid request (issue 12, item 12) ------------------------------


@pytest.mark.parametrize("endpoint", DATA_ENDPOINTS)
def test_if_none_match_star_does_not_hide_a_bad_request(api_client, auth, month, endpoint):
    response = api_client.get(
        endpoint + "?start_date=2021-03-02&end_date=2021-03-01", HTTP_IF_NONE_MATCH="*", **auth
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "End date should be greater than start date"}


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("cursor=bnVsbA", "The cursor is not one that this list gave out."),
        ("cursor=WyJhIl0&offset=5", "Give either offset or cursor, not both."),
    ],
)
def test_if_none_match_star_does_not_hide_a_bad_cursor(api_client, auth, month, query, detail):
    response = api_client.get(f"{MEASUREMENTS}?{query}", HTTP_IF_NONE_MATCH="*", **auth)

    assert response.status_code == 400
    assert response.json() == {"detail": detail}


def test_if_none_match_star_gets_304_for_a_valid_request(api_client, auth, month):
    response = api_client.get(MEASUREMENTS + "?page_size=2", HTTP_IF_NONE_MATCH="*", **auth)

    assert response.status_code == 304
    assert response.content == b""
