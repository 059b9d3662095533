"""Comparisons of a report (issue 24, item 2), the issue's three examples and the edges of the
calendar, against sums of the raw rows that the test uploaded: ``meta.previous_totals`` is
the whole comparison range, each row's ``previous`` its own calendar period shifted."""

import datetime
import random

import pytest

from marketing_op.accounts.services import token_issue

pytestmark = [pytest.mark.api, pytest.mark.django_db]

D = datetime.date
ONE_DAY = datetime.timedelta(days=1)
REPORTS = "/api/marketing/reports/"
FIRST, LAST = D(2019, 2, 1), D(2021, 5, 31)


@pytest.fixture
def raw_rows(api_client, user):
    """tv every day from February 2019 to May 2021 (29 February 2020 included), radio on
    about half of the days; uploaded as a client would."""
    chooser = random.Random(24)
    rows = []
    day = FIRST
    while day <= LAST:
        for channel in ("tv", "radio"):
            if channel == "tv" or chooser.random() < 0.5:
                rows.append((channel, day, round(chooser.uniform(1, 1000), 2)))
        day += ONE_DAY
    body = "product,campaign_type,campaign,channel,date,conversions\n" + "".join(
        f"cola,branding,wave,{channel},{day},{conversions}\n" for channel, day, conversions in rows
    )
    token = token_issue(user=user, scopes="read write").token
    response = api_client.post(
        "/api/marketing/measurements/",
        data=body.encode(),
        content_type="text/csv",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content
    return rows


def summed(rows, first, last, channel=None):
    """(conversions, measurements) of the raw rows on the days first to last."""
    found = [c for ch, day, c in rows if first <= day <= last and channel in (None, ch)]
    return sum(found), len(found)


def report(api_client, auth, query):
    response = api_client.get(f"{REPORTS}?{query}", **auth)
    assert response.status_code == 200, response.content
    return response.json()


def total_of(api_client, auth, first, last):
    """What a report of granularity total says of the days first to last."""
    body = report(api_client, auth, f"start_date={first}&end_date={last}")
    return body["meta"]["totals"]["conversions"]


def test_months_against_the_previous_period(api_client, auth, raw_rows):
    """The issue's first example: the comparison range 2020-12-30 to 2021-02-28 is compared
    whole, and each month with its own 61 days before."""
    body = report(
        api_client,
        auth,
        "dimensions=channel&metrics=conversions,measurements&granularity=month"
        "&start_date=2021-03-01&end_date=2021-04-30&compare=previous_period",
    )

    conversions, measurements = summed(raw_rows, D(2020, 12, 30), D(2021, 2, 28))
    assert body["meta"]["previous_totals"] == {
        "conversions": pytest.approx(conversions),
        "measurements": measurements,
    }
    assert body["meta"]["previous_totals"]["conversions"] == pytest.approx(
        total_of(api_client, auth, "2020-12-30", "2021-02-28")
    )
    shifted = {
        "2021-03": (D(2020, 12, 30), D(2021, 1, 29)),
        "2021-04": (D(2021, 1, 30), D(2021, 2, 28)),
    }
    assert [(r["period"], r["channel"]) for r in body["data"]] == [
        ("2021-03", "radio"), ("2021-03", "tv"), ("2021-04", "radio"), ("2021-04", "tv"),
    ]  # fmt: skip
    for row in body["data"]:
        conversions, measurements = summed(raw_rows, *shifted[row["period"]], row["channel"])
        assert row["previous"] == {
            "conversions": pytest.approx(conversions),
            "measurements": measurements,
        }
        assert row["partial"] is False


def test_weeks_against_the_previous_year(api_client, auth, raw_rows):
    """The issue's second example: week 1 of 2021 is compared with week 1 of 2020 (30
    December 2019 to 5 January 2020) whole, not with the two days of it in the comparison
    range, and says that its comparison week reaches outside that range."""
    body = report(
        api_client,
        auth,
        "granularity=week&start_date=2021-01-04&end_date=2021-01-31&compare=previous_year",
    )

    assert body["meta"]["previous_totals"]["conversions"] == pytest.approx(
        summed(raw_rows, D(2020, 1, 4), D(2020, 1, 31))[0]
    )
    assert body["meta"]["previous_totals"]["conversions"] == pytest.approx(
        total_of(api_client, auth, "2020-01-04", "2020-01-31")
    )
    mondays_2020 = [D(2019, 12, 30), D(2020, 1, 6), D(2020, 1, 13), D(2020, 1, 20)]
    assert [r["period"] for r in body["data"]] == ["2021-W01", "2021-W02", "2021-W03", "2021-W04"]
    for row, monday in zip(body["data"], mondays_2020, strict=True):
        expected = summed(raw_rows, monday, monday + 6 * ONE_DAY)[0]
        assert row["previous"]["conversions"] == pytest.approx(expected)
    assert [r["partial"] for r in body["data"]] == [True, False, False, False]


def test_a_week_cut_by_the_range_is_compared_with_the_same_weekdays(api_client, auth, raw_rows):
    body = report(
        api_client,
        auth,
        "granularity=week&start_date=2021-01-06&end_date=2021-01-12&compare=previous_year",
    )

    # Wednesday to Sunday of week 1, Monday and Tuesday of week 2, in 2020's weeks 1 and 2.
    assert [(r["period"], r["partial"], r["previous"]["conversions"]) for r in body["data"]] == [
        ("2021-W01", True, pytest.approx(summed(raw_rows, D(2020, 1, 1), D(2020, 1, 5))[0])),
        ("2021-W02", True, pytest.approx(summed(raw_rows, D(2020, 1, 6), D(2020, 1, 7))[0])),
    ]


def test_the_leap_day_counts_in_the_previous_totals(api_client, auth, raw_rows):
    """The issue's third example: 28 February to 1 March 2021 a year before holds 29
    February 2020, which no row is compared with but the totals hold."""
    body = report(
        api_client,
        auth,
        "granularity=day&start_date=2021-02-28&end_date=2021-03-01&compare=previous_year",
    )

    assert body["meta"]["previous_totals"]["conversions"] == pytest.approx(
        summed(raw_rows, D(2020, 2, 28), D(2020, 3, 1))[0]
    )
    assert [(r["period"], r["previous"]["conversions"]) for r in body["data"]] == [
        ("2021-02-28", pytest.approx(summed(raw_rows, D(2020, 2, 28), D(2020, 2, 28))[0])),
        ("2021-03-01", pytest.approx(summed(raw_rows, D(2020, 3, 1), D(2020, 3, 1))[0])),
    ]


def test_the_leap_day_has_no_counterpart_a_year_before(api_client, auth, raw_rows):
    body = report(
        api_client,
        auth,
        "granularity=day&start_date=2020-02-28&end_date=2020-03-01&compare=previous_year",
    )

    assert [(r["period"], r["previous"] is None) for r in body["data"]] == [
        ("2020-02-28", False),
        ("2020-02-29", True),
        ("2020-03-01", False),
    ]
    assert body["data"][1]["change"] is None
    assert body["meta"]["previous_totals"]["conversions"] == pytest.approx(
        summed(raw_rows, D(2019, 2, 28), D(2019, 3, 1))[0]
    )


def test_week_53_has_no_counterpart_in_a_year_of_52_weeks(api_client, auth, raw_rows):
    body = report(
        api_client,
        auth,
        "granularity=week&start_date=2020-12-28&end_date=2021-01-03&compare=previous_year",
    )

    assert [(r["period"], r["previous"], r["change"]) for r in body["data"]] == [
        ("2020-W53", None, None)
    ]
    assert body["meta"]["previous_totals"]["conversions"] == pytest.approx(
        summed(raw_rows, D(2019, 12, 28), D(2020, 1, 3))[0]
    )


def test_nothing_measured_before_is_null_not_zero(api_client, auth, raw_rows):
    body = report(
        api_client,
        auth,
        "dimensions=channel&granularity=month&start_date=2019-02-01&end_date=2019-02-28"
        "&compare=previous_period",
    )

    assert [(r["channel"], r["previous"], r["change"]) for r in body["data"]] == [
        ("radio", None, None),
        ("tv", None, None),
    ]
    assert body["meta"]["previous_totals"] == {"conversions": 0.0}


def test_a_month_cut_by_the_range_is_partial(api_client, auth, raw_rows):
    body = report(
        api_client,
        auth,
        "granularity=month&start_date=2021-03-15&end_date=2021-04-30&compare=previous_year",
    )

    assert [(r["period"], r["partial"]) for r in body["data"]] == [
        ("2021-03", True),
        ("2021-04", False),
    ]
    assert body["data"][0]["previous"]["conversions"] == pytest.approx(
        summed(raw_rows, D(2020, 3, 15), D(2020, 3, 31))[0]
    )
