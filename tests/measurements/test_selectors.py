import datetime
import math

import pytest

from marketing_op.core.exceptions import InvalidFilterError
from marketing_op.core.pagination import CursorPageParams
from marketing_op.measurements.filters import MeasurementFilters
from marketing_op.measurements.reads.channel_shares import channel_share_list
from marketing_op.measurements.reads.dimensions import dimensions_get
from marketing_op.measurements.reads.measurement_pages import measurement_page
from marketing_op.measurements.reads.summaries import measurement_count
from marketing_op.measurements.reads.weekly_sales import channel_weekly_sales_list
from marketing_op.measurements.schemas import share_percentage
from tests.factories import measurement

pytestmark = pytest.mark.django_db

D = datetime.date


def shares(organization, **filters):
    rows = channel_share_list(organization=organization, filters=MeasurementFilters(**filters))
    return [(row["channel_name"], share_percentage(row["sales"], row["total"])) for row in rows]


def weekly(organization, **filters):
    rows = channel_weekly_sales_list(
        organization=organization, filters=MeasurementFilters(**filters)
    )
    return [
        (row["channel_name"], *row["week_start"].isocalendar()[:2], row["sales"]) for row in rows
    ]


@pytest.fixture
def mixed(organization):
    """Two products, two campaign types, three channels over a few days."""
    rows = [
        ("cola", "branding", "spring", "tv", D(2021, 3, 1), 400.0),
        ("cola", "branding", "spring", "radio", D(2021, 3, 1), 100.0),
        ("cola", "performance", "search", "google", D(2021, 3, 2), 300.0),
        ("lemonade", "branding", "summer", "tv", D(2021, 3, 3), 150.0),
        ("lemonade", "performance", "summer", "radio", D(2021, 3, 4), 50.0),
    ]
    for product, kind, campaign, channel, day, conversions in rows:
        measurement(
            organization,
            product=product,
            campaign_type=kind,
            campaign=campaign,
            channel=channel,
            date=day,
            conversions=conversions,
        )
    return rows


def test_the_contract_example_share_with_a_channel_filter(organization):
    measurement(organization, channel="radio", conversions=200.0)
    measurement(organization, channel="tv", conversions=420.0)

    assert shares(organization, channels=["radio"]) == [("radio", "32.26")]
    assert shares(organization) == [("tv", "67.74"), ("radio", "32.26")]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, [("tv", "55.00"), ("google", "30.00"), ("radio", "15.00")]),
        ({"products": ["cola"]}, [("tv", "50.00"), ("google", "37.50"), ("radio", "12.50")]),
        ({"products": ["cola"], "channels": ["radio"]}, [("radio", "12.50")]),
        ({"campaigns": ["summer"]}, [("tv", "75.00"), ("radio", "25.00")]),
        ({"campaign_types": ["performance"]}, [("google", "85.71"), ("radio", "14.29")]),
        (
            {"start_date": D(2021, 3, 2), "end_date": D(2021, 3, 3)},
            [("google", "66.67"), ("tv", "33.33")],
        ),
        ({"start_date": D(2021, 3, 4)}, [("radio", "100.00")]),
        ({"end_date": D(2021, 3, 1)}, [("tv", "80.00"), ("radio", "20.00")]),
        (
            {"channels": ["tv", "radio"], "products": ["lemonade"]},
            [("tv", "75.00"), ("radio", "25.00")],
        ),
        ({"channels": ["folder"]}, []),
        ({"products": ["unknown"]}, []),
    ],
)
def test_shares_honour_every_filter_and_keep_the_denominator_over_all_channels(
    organization, mixed, filters, expected
):
    assert shares(organization, **filters) == expected


def test_equal_shares_are_ordered_by_channel_name(organization):
    for channel in ["tv", "print", "ooh"]:
        measurement(organization, channel=channel, conversions=10.0)

    assert shares(organization) == [("ooh", "33.33"), ("print", "33.33"), ("tv", "33.33")]


@pytest.mark.parametrize(
    ("sales", "total", "expected"),
    [
        (1, 8, "12.50"),
        (1, 3, "33.33"),
        (2, 3, "66.67"),
        (5, 40000, "0.01"),
        (1, 200000, "0.00"),
        (1, 1, "100.00"),
        (0, 0, "0.00"),
        (3, 0, "0.00"),
        (0.0005, 1, "0.05"),
        (0.000049, 1, "0.00"),
    ],
)
def test_percentages_round_half_away_from_zero_to_two_decimals(sales, total, expected):
    assert share_percentage(sales, total) == expected


def test_a_zero_total_gives_zero_percent(organization):
    measurement(organization, channel="tv", conversions=0.0)

    assert shares(organization) == [("tv", "0.00")]


@pytest.mark.parametrize(
    ("days", "expected_weeks"),
    [
        (
            [D(2020, 12, 31), D(2021, 1, 1), D(2021, 1, 3), D(2021, 1, 4)],
            [(2020, 53, 3), (2021, 1, 1)],
        ),
        (
            [D(2024, 12, 29), D(2024, 12, 30), D(2025, 1, 1), D(2025, 1, 5)],
            [(2024, 52, 1), (2025, 1, 3)],
        ),
    ],
)
def test_weekly_sales_follow_iso_weeks_across_year_boundaries(organization, days, expected_weeks):
    for day in days:
        measurement(organization, channel="tv", date=day, conversions=10.0)

    result = weekly(organization)

    assert result == [("tv", year, week, 10.0 * count) for year, week, count in expected_weeks]


def test_a_week_cut_by_the_date_range_holds_only_the_days_inside(organization):
    for offset in range(7):
        measurement(
            organization,
            channel="tv",
            date=D(2021, 3, 1) + datetime.timedelta(offset),
            conversions=float(offset + 1),
        )

    assert weekly(organization, start_date=D(2021, 3, 3), end_date=D(2021, 3, 5)) == [
        ("tv", 2021, 9, 3.0 + 4.0 + 5.0)
    ]


def test_weekly_rows_are_ordered_by_week_then_channel(organization, mixed):
    measurement(organization, channel="ooh", date=D(2021, 3, 8), conversions=1.0)

    assert [(row[0], row[2]) for row in weekly(organization)] == [
        ("google", 9),
        ("radio", 9),
        ("tv", 9),
        ("ooh", 10),
    ]


def test_a_channels_weekly_sales_add_up_to_its_measurements(organization):
    total = 0.0
    for offset in range(60):
        conversions = 1000.0 / (offset + 3)
        total += conversions
        measurement(
            organization,
            channel="facebook",
            date=D(2020, 12, 1) + datetime.timedelta(offset),
            conversions=conversions,
        )

    sales = [row[3] for row in weekly(organization, channels=["facebook"])]

    assert math.isclose(math.fsum(sales), total, rel_tol=1e-12)


def listed(organization, filters):
    page = CursorPageParams(page_size=100)
    return measurement_page(organization=organization, filters=filters, page=page).rows


def test_measurements_come_in_the_documented_order(organization, mixed):
    rows = listed(organization, MeasurementFilters())

    keys = [
        (r["date"], r["product_name"], r["campaign_type"], r["campaign_name"], r["channel_name"])
        for r in rows
    ]
    assert keys == sorted(keys)
    assert keys[0] == (D(2021, 3, 1), "cola", "branding", "spring", "radio")


def test_start_after_end_is_refused(organization):
    filters = MeasurementFilters(start_date=D(2021, 3, 2), end_date=D(2021, 3, 1))

    with pytest.raises(InvalidFilterError, match="End date should be greater than start date"):
        listed(organization, filters)


def test_dimensions_list_what_has_data(organization, mixed):
    dimensions = dimensions_get(organization=organization)

    assert list(dimensions.products) == ["cola", "lemonade"]
    assert list(dimensions.channels) == ["google", "radio", "tv"]
    assert list(dimensions.campaign_types) == ["branding", "performance"]
    assert [(c.name, c.product.name, c.campaign_type) for c in dimensions.campaigns] == [
        ("search", "cola", "performance"),
        ("spring", "cola", "branding"),
        ("summer", "lemonade", "branding"),
        ("summer", "lemonade", "performance"),
    ]
    assert (dimensions.first_date, dimensions.last_date) == (D(2021, 3, 1), D(2021, 3, 4))


@pytest.mark.parametrize(
    "filters",
    [{}, {"products": ["cola"]}, {"channels": ["tv", "radio"]}, {"start_date": D(2021, 3, 2)}],
)
def test_the_cheap_count_equals_the_listed_rows(organization, mixed, filters):
    measurement_filters = MeasurementFilters(**filters)

    rows = listed(organization, measurement_filters)

    assert measurement_count(organization=organization, filters=measurement_filters) == len(rows)
