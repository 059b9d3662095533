"""GET /api/marketing/reports/: every parameter as a client sees it, and each refusal."""

import datetime
import re

import pytest

from marketing_op.measurements.reads.reports import report
from tests.factories import measurement

pytestmark = [pytest.mark.api, pytest.mark.django_db]

REPORTS = "/api/marketing/reports/"
SHARES = "/api/marketing/stats/channel-sales-percentages/"
D = datetime.date


@pytest.fixture
def sales(organization):
    """January to March 2021 and January 2020: cola on tv and radio (campaign "wave"),
    lemonade on tv (campaign "fizz", branding)."""
    for day, product, campaign_type, campaign, channel, conversions in [
        (D(2020, 1, 15), "cola", "performance", "wave", "tv", 8.0),
        (D(2021, 1, 4), "cola", "performance", "wave", "tv", 10.0),
        (D(2021, 1, 4), "cola", "performance", "wave", "radio", 5.0),
        (D(2021, 1, 20), "lemonade", "branding", "fizz", "tv", 2.5),
        (D(2021, 2, 1), "cola", "performance", "wave", "tv", 20.0),
        (D(2021, 3, 31), "lemonade", "branding", "fizz", "tv", 4.0),
    ]:
        measurement(
            organization,
            product=product,
            campaign_type=campaign_type,
            campaign=campaign,
            channel=channel,
            date=day,
            conversions=conversions,
        )


def get(api_client, auth, query, status=200):
    response = api_client.get(f"{REPORTS}?{query}", **auth)
    assert response.status_code == status, response.content
    return response


def links(response):
    return {
        rel: url for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', response.get("Link", ""))
    }


def test_without_parameters_one_row_holds_the_sum_of_everything(api_client, auth, sales):
    body = get(api_client, auth, "").json()

    assert body["data"] == [{"period_start": "2020-01-15", "conversions": 49.5}]
    assert body["meta"] == {
        "offset": 0,
        "page_size": 100,
        "total": 1,
        "totals": {"conversions": 49.5},
        "previous_totals": None,
    }


def test_conversions_per_product_per_month_with_filled_months(api_client, auth, sales):
    body = get(
        api_client,
        auth,
        "dimensions=product&granularity=month&start_date=2021-01-01&end_date=2021-03-31",
    ).json()

    assert [(r["period"], r["product"], r["conversions"]) for r in body["data"]] == [
        ("2021-01", "cola", 15.0),
        ("2021-01", "lemonade", 2.5),
        ("2021-02", "cola", 20.0),
        ("2021-02", "lemonade", 0.0),
        ("2021-03", "cola", 0.0),
        ("2021-03", "lemonade", 4.0),
    ]
    assert body["data"][0]["period_start"] == "2021-01-01"
    assert body["meta"]["totals"] == {"conversions": 41.5}


def test_fill_false_lists_only_periods_with_data(api_client, auth, sales):
    body = get(
        api_client,
        auth,
        "dimensions=product&granularity=month&fill=false&start_date=2021-01-01&end_date=2021-03-31",
    ).json()

    assert [(r["period"], r["product"]) for r in body["data"]] == [
        ("2021-01", "cola"),
        ("2021-01", "lemonade"),
        ("2021-02", "cola"),
        ("2021-03", "lemonade"),
    ]


@pytest.mark.parametrize(
    ("granularity", "periods"),
    [
        ("day", ["2021-01-04", "2021-01-05"]),
        ("week", ["2020-W53", "2021-W01"]),
        ("month", ["2021-01"]),
        ("quarter", ["2021-Q1"]),
        ("year", ["2021"]),
    ],
)
def test_every_granularity_labels_its_periods(api_client, auth, sales, granularity, periods):
    body = get(
        api_client, auth, f"granularity={granularity}&start_date=2021-01-03&end_date=2021-01-05"
    ).json()

    assert [r["period"] for r in body["data"]][-2:] == periods[-2:]
    assert body["meta"]["totals"]["conversions"] == 15.0


def test_week_rows_start_on_monday(api_client, auth, sales):
    body = get(api_client, auth, "granularity=week&start_date=2021-01-01&end_date=2021-01-10")

    assert [(r["period"], r["period_start"]) for r in body.json()["data"]] == [
        ("2020-W53", "2020-12-28"),
        ("2021-W01", "2021-01-04"),
    ]


def test_metrics_comma_separated_or_repeated(api_client, auth, sales):
    one = get(api_client, auth, "dimensions=channel&metrics=conversions,measurements,share")
    other = get(
        api_client,
        auth,
        "dimensions=channel&metrics=conversions&metrics=measurements&metrics=share",
    )

    assert one.json() == other.json()
    assert one.json()["data"] == [
        {"channel": "radio", "period_start": "2020-01-15", "conversions": 5.0,
         "measurements": 1, "share": 5.0 / 49.5},
        {"channel": "tv", "period_start": "2020-01-15", "conversions": 44.5,
         "measurements": 5, "share": 44.5 / 49.5},
    ]  # fmt: skip


def test_share_per_channel_equals_the_shares_endpoint(api_client, auth, sales):
    query = "channels=radio&products=cola&start_date=2021-01-01&end_date=2021-12-31"
    report = get(api_client, auth, f"dimensions=channel&metrics=share&{query}").json()
    shares = api_client.get(f"{SHARES}?{query}", **auth).json()

    assert [r["channel"] for r in report["data"]] == ["radio"]
    assert f"{100 * report['data'][0]['share']:.2f}" == shares["data"][0]["percentage"]
    assert report["data"][0]["share"] == 5.0 / 35.0


def test_share_keeps_the_filters_on_other_dimensions(api_client, auth, sales):
    body = get(
        api_client, auth, "dimensions=product&metrics=share&channels=tv&products=lemonade"
    ).json()

    # Without dates the range is that of the denominator: tv of every product.
    assert body["data"] == [
        {"product": "lemonade", "period_start": "2020-01-15", "share": 6.5 / 44.5}
    ]


def test_campaign_dimension_and_filter_read_the_measurements(api_client, auth, sales):
    body = get(
        api_client, auth, "dimensions=campaign,campaign_type&campaigns=wave&metrics=measurements"
    ).json()

    assert body["data"] == [
        {"campaign": "wave", "campaign_type": "performance", "period_start": "2020-01-15",
         "measurements": 4},
    ]  # fmt: skip


def test_this_quarter_against_the_previous_one(api_client, auth, sales):
    body = get(
        api_client,
        auth,
        "granularity=quarter&start_date=2021-01-01&end_date=2021-03-31&compare=previous_year",
    ).json()

    assert body["data"] == [
        {
            "period": "2021-Q1",
            "period_start": "2021-01-01",
            "conversions": 41.5,
            "previous": {"conversions": 8.0},
            "change": {"conversions": (41.5 - 8.0) / 8.0},
            "partial": False,
        }
    ]
    assert body["meta"]["previous_totals"] == {"conversions": 8.0}


def test_previous_period_compares_each_period_with_the_days_59_days_before(api_client, auth, sales):
    body = get(
        api_client,
        auth,
        "granularity=month&start_date=2021-02-01&end_date=2021-03-31&compare=previous_period",
    ).json()

    # 59 days before: February with 4 to 31 December (nothing measured), March with January.
    assert [(r["period"], r["conversions"], r["previous"], r["change"]) for r in body["data"]] == [
        ("2021-02", 20.0, None, None),
        ("2021-03", 4.0, {"conversions": 17.5}, {"conversions": (4.0 - 17.5) / 17.5}),
    ]
    assert body["meta"]["previous_totals"] == {"conversions": 17.5}


def test_a_comparison_range_of_ones_choice(api_client, auth, sales):
    body = get(
        api_client,
        auth,
        "dimensions=product&start_date=2021-01-01&end_date=2021-01-31"
        "&compare_start_date=2021-02-01&compare_end_date=2021-03-03",
    ).json()

    assert [(r["product"], r["conversions"], r["previous"]) for r in body["data"]] == [
        ("cola", 15.0, {"conversions": 20.0}),
        ("lemonade", 2.5, None),
    ]


def test_order_by_a_metric_descending_gives_the_campaigns_that_sold_most(api_client, auth, sales):
    body = get(api_client, auth, "dimensions=campaign&order_by=-conversions&page_size=1").json()

    assert body["data"] == [{"campaign": "wave", "period_start": "2020-01-15", "conversions": 43.0}]
    assert body["meta"]["total"] == 2


def test_order_by_a_dimension_descending_then_period(api_client, auth, sales):
    body = get(
        api_client, auth, "dimensions=product&granularity=year&order_by=-product&fill=false"
    ).json()

    assert [(r["product"], r["period"]) for r in body["data"]] == [
        ("lemonade", "2021"),
        ("cola", "2020"),
        ("cola", "2021"),
    ]


def test_pages_have_links_and_the_whole_results_totals(api_client, auth, sales):
    first = get(api_client, auth, "dimensions=channel,product&page_size=2")
    second = api_client.get(links(first)["next"], **auth)

    assert first.json()["meta"]["total"] == 3
    assert first.json()["meta"]["totals"] == second.json()["meta"]["totals"]
    assert len(first.json()["data"]) == 2
    assert len(second.json()["data"]) == 1
    assert set(links(second)) == {"prev"}


def test_pages_of_a_long_report_read_from_the_shared_cache_equal_the_whole_report(
    api_client, auth, sales, settings, monkeypatch
):
    """A long report is kept in chunks of rows (here 2) and no worker keeps it: pages that
    start and end anywhere in the chunks, asked again once it is stored, equal its slices."""
    settings.ANSWER_CACHE_SECONDS = 0
    monkeypatch.setattr(report, "REPORT_CHUNK_ROWS", 2)
    monkeypatch.setattr(report, "WORKER_REPORT_ROWS", 0)
    query = "dimensions=channel&granularity=month&start_date=2021-01-01&end_date=2021-03-31"
    whole = get(api_client, auth, f"{query}&page_size=100").json()

    assert whole["meta"]["total"] == 6
    for offset in range(8):
        for page_size in (1, 2, 3, 5):
            body = get(api_client, auth, f"{query}&offset={offset}&page_size={page_size}").json()
            assert body["data"] == whole["data"][offset : offset + page_size]
            assert body["meta"]["totals"] == whole["meta"]["totals"]
            assert body["meta"]["total"] == 6


def test_etag_gives_304(api_client, auth, sales):
    first = get(api_client, auth, "dimensions=channel")

    again = api_client.get(
        f"{REPORTS}?dimensions=channel", HTTP_IF_NONE_MATCH=first["ETag"], **auth
    )

    assert again.status_code == 304


def test_an_organisation_without_data_gets_no_rows(api_client, auth):
    body = get(api_client, auth, "dimensions=product&granularity=month").json()

    assert body["data"] == []
    assert body["meta"]["totals"] == {"conversions": 0.0}


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("dimensions=colour", "dimensions"),
        ("dimensions=product,colour", "dimensions"),
        ("metrics=revenue", "metrics"),
        ("metrics=conversions,roi", "metrics"),
        ("metrics=spend&order_by=-roas", "order_by"),
        ("granularity=hour", "granularity"),
        ("order_by=colour", "order_by"),
        ("order_by=product", "order_by"),
        ("order_by=-share", "order_by"),
        ("compare=previous_week&start_date=2021-01-01&end_date=2021-01-31", "compare"),
        ("compare=previous_period", "compare"),
        ("compare=previous_year&start_date=2021-01-01", "compare"),
        ("compare_start_date=2020-01-01&compare_end_date=2020-01-31", "compare_start_date"),
        ("compare_start_date=2020-01-01&start_date=2021-01-01&end_date=2021-01-31",
         "compare_end_date"),
        ("compare_start_date=2020-01-01&compare_end_date=2020-01-30&start_date=2021-01-01"
         "&end_date=2021-01-31", "compare_end_date"),
        ("compare_start_date=2020-01-31&compare_end_date=2020-01-01&start_date=2021-01-01"
         "&end_date=2021-01-31", "compare_end_date"),
        ("compare=previous_year&compare_start_date=2020-01-01&compare_end_date=2020-01-31"
         "&start_date=2021-01-01&end_date=2021-01-31", "compare"),
        ("compare_start_date=2020-02-30", "compare_start_date"),
        ("fill=perhaps", "fill"),
        ("page_size=0", "page_size"),
        ("page_size=10001", "page_size"),
        ("offset=-1", "offset"),
    ],
)  # fmt: skip
def test_each_refusal_is_a_422_naming_the_parameter(api_client, auth, sales, query, parameter):
    response = get(api_client, auth, query, status=422)

    assert [problem["loc"][-1] for problem in response.json()["detail"]] == [parameter]


def test_page_size_up_to_ten_thousand(api_client, auth, sales):
    body = get(api_client, auth, "page_size=10000").json()

    assert body["meta"]["page_size"] == 10000


def test_dates_out_of_order_get_the_contracts_400(api_client, auth, sales):
    response = get(api_client, auth, "start_date=2021-03-02&end_date=2021-03-01", status=400)

    assert response.json() == {"detail": "End date should be greater than start date"}


def test_a_report_of_too_many_rows_is_refused_before_it_is_built(api_client, auth, sales):
    response = get(
        api_client, auth, "granularity=day&start_date=1900-01-01&end_date=2999-12-31", status=400
    )

    assert "100,000 rows" in response.json()["detail"]
    assert get(api_client, auth, "granularity=day&fill=false&start_date=1900-01-01"
               "&end_date=2999-12-31").json()["meta"]["total"] == 5  # fmt: skip


def test_a_report_needs_a_token(api_client, sales):
    response = api_client.get(REPORTS)

    assert response.status_code == 401
    assert response.json() == {"detail": "Missing, invalid or expired credentials."}


def test_a_new_import_changes_the_report_and_its_etag(api_client, auth, organization, sales):
    before = get(api_client, auth, "dimensions=channel&metrics=conversions,measurements")

    measurement(organization, channel="radio", date=D(2021, 5, 3), conversions=1.5)
    after = get(api_client, auth, "dimensions=channel&metrics=conversions,measurements")

    assert after["ETag"] != before["ETag"]
    assert before.json()["data"][0] == {
        "channel": "radio", "period_start": "2020-01-15", "conversions": 5.0, "measurements": 1
    }  # fmt: skip
    assert after.json()["data"][0] == {
        "channel": "radio", "period_start": "2020-01-15", "conversions": 6.5, "measurements": 2
    }  # fmt: skip


def test_another_organisations_data_is_never_in_a_report(
    api_client, auth, other_organization, sales
):
    measurement(other_organization, product="cola", channel="radio", conversions=1000.0)

    body = get(api_client, auth, "dimensions=product").json()

    assert body["meta"]["totals"] == {"conversions": 49.5}


# --- spend, ROAS and CPA -----------------------------------------------------------------------


@pytest.fixture
def spent(organization):
    """January 2021 per channel: tv 120 conversions for 60 spent (over two days), search 80
    for 10, ooh 0 for 20, print 5 for 0, radio 30 with its spend unknown; tv in January 2020:
    50 for 50."""
    for day, channel, conversions, spend in [
        (D(2020, 1, 6), "tv", 50.0, 50.0),
        (D(2021, 1, 4), "tv", 100.0, 50.0),
        (D(2021, 1, 5), "tv", 20.0, 10.0),
        (D(2021, 1, 4), "search", 80.0, 10.0),
        (D(2021, 1, 4), "radio", 30.0, None),
        (D(2021, 1, 6), "ooh", 0.0, 20.0),
        (D(2021, 1, 7), "print", 5.0, 0.0),
    ]:
        measurement(organization, channel=channel, date=day, conversions=conversions, spend=spend)


JANUARY_2021 = "start_date=2021-01-01&end_date=2021-01-31"


def test_where_each_euro_of_spend_returned_the_most_unknown_returns_last(api_client, auth, spent):
    query = f"dimensions=channel&metrics=spend,roas,cpa&order_by=-roas&{JANUARY_2021}"

    body = get(api_client, auth, query).json()

    assert [(r["channel"], r["spend"], r["roas"], r["cpa"]) for r in body["data"]] == [
        ("search", 10.0, 8.0, 0.12),  # CPA in cents: 0.125, a tie, to even
        ("tv", 60.0, 2.0, 0.5),
        ("ooh", 20.0, 0.0, None),
        ("print", 0.0, None, 0.0),
        ("radio", None, None, None),
    ]
    assert body["meta"]["totals"] == {
        "spend": 90.0,
        "roas": round(235.0 / 90.0, 4),
        "cpa": round(90.0 / 235.0, 2),
    }


def test_an_unknown_roas_sorts_last_ascending_too(api_client, auth, spent):
    body = get(api_client, auth, f"dimensions=channel&metrics=roas&order_by=roas&{JANUARY_2021}")

    assert [r["channel"] for r in body.json()["data"]] == ["ooh", "tv", "search", "print", "radio"]


def test_a_period_without_measurements_has_no_known_spend(api_client, auth, spent):
    body = get(
        api_client,
        auth,
        "channels=tv&metrics=conversions,spend,roas&granularity=day"
        "&start_date=2021-01-05&end_date=2021-01-06",
    ).json()

    assert body["data"] == [
        {"period": "2021-01-05", "period_start": "2021-01-05", "conversions": 20.0,
         "spend": 10.0, "roas": 2.0, "partial": False},
        {"period": "2021-01-06", "period_start": "2021-01-06", "conversions": 0.0,
         "spend": None, "roas": None, "partial": False},
    ]  # fmt: skip


def test_spend_and_roas_against_a_year_ago(api_client, auth, spent):
    body = get(
        api_client,
        auth,
        "dimensions=channel&channels=tv&channels=radio&metrics=spend,roas&compare=previous_year"
        f"&{JANUARY_2021}",
    ).json()

    assert body["data"] == [
        {"channel": "radio", "period_start": "2021-01-01", "spend": None, "roas": None,
         "previous": None, "change": None, "partial": False},
        {"channel": "tv", "period_start": "2021-01-01", "spend": 60.0, "roas": 2.0,
         "previous": {"spend": 50.0, "roas": 1.0}, "change": {"spend": 0.2, "roas": 1.0},
         "partial": False},
    ]  # fmt: skip
    assert body["meta"]["previous_totals"] == {"spend": 50.0, "roas": 1.0}


def test_campaign_reports_sum_spend_from_the_measurements(api_client, auth, spent):
    body = get(api_client, auth, f"dimensions=campaign&metrics=spend,cpa&{JANUARY_2021}").json()

    assert body["data"] == [
        {"campaign": "summer sale", "period_start": "2021-01-01", "spend": 90.0,
         "cpa": round(90.0 / 235.0, 2)},
    ]  # fmt: skip
