"""The daily and weekly summaries equal the aggregation of the raw measurements after every
kind of write, and the reads that use them answer what the raw rows answer."""

import datetime
import random
from collections import defaultdict
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.db.models import Max, Min
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketing_op.core.caching import forget_worker_copies
from marketing_op.measurements import selectors
from marketing_op.measurements.filters import MeasurementFilters
from marketing_op.measurements.imports import (
    MeasurementRow,
    campaign_channels_refresh,
    day_ranges,
    measurement_import,
    typed_records,
)
from marketing_op.measurements.models import (
    CampaignChannel,
    DailyConversions,
    Measurement,
    WeeklyConversions,
    week_start,
)
from tests.factories import stored_measurements

pytestmark = pytest.mark.django_db

D = datetime.date
FIRST_DAY = D(2021, 2, 24)  # a Wednesday: the data starts and ends in cut weeks
DAYS = 26
PRODUCTS = ("cola", "lemonade")
CAMPAIGNS = (("always on", "evergreen"), ("branding", "spring"), ("branding", "summer"))
CHANNELS = ("tv", "radio", "facebook")


def summary_of(rows: Any, period: str) -> dict[tuple[Any, ...], tuple[float, int]]:
    found: dict[tuple[Any, ...], tuple[float, int]] = {}
    for row in rows.values(
        period, "product_id", "campaign_type", "channel_id", "conversions", "measurements"
    ):
        key = (row[period], row["product_id"], row["campaign_type"], row["channel_id"])
        found[key] = (row["conversions"], row["measurements"])
    return found


def aggregated(organization: Any, period: Any) -> dict[tuple[Any, ...], tuple[float, int]]:
    sums: dict[tuple[Any, ...], list[float]] = defaultdict(lambda: [0.0, 0])
    for row in Measurement.objects.filter(organization=organization).values(
        "date", "campaign__product_id", "campaign__campaign_type", "channel_id", "conversions"
    ):
        key = (
            period(row["date"]),
            row["campaign__product_id"],
            row["campaign__campaign_type"],
            row["channel_id"],
        )
        sums[key][0] += row["conversions"]
        sums[key][1] += 1
    return {key: (total, int(count)) for key, (total, count) in sums.items()}


def assert_summaries_match_measurements(organization: Any) -> None:
    for model, period, of_day in (
        (DailyConversions, "date", lambda day: day),
        (WeeklyConversions, "week", week_start),
    ):
        stored = summary_of(model.objects.filter(organization=organization), period)
        expected = aggregated(organization, of_day)
        assert stored.keys() == expected.keys(), model.__name__
        for key, (conversions, count) in expected.items():
            assert stored[key][1] == count, (model.__name__, key)
            assert stored[key][0] == pytest.approx(conversions, rel=1e-12, abs=1e-9), key


def listed_pairs(organization: Any) -> dict[tuple[Any, ...], tuple[D, D]]:
    """(campaign, channel, names) -> (first day, last day) of the listed campaign channels."""
    listed = CampaignChannel.objects.filter(organization=organization).values_list(
        "campaign_id",
        "channel_id",
        "product_name",
        "campaign_type",
        "campaign_name",
        "channel_name",
        "first_day",
        "last_day",
    )
    return {pair[:6]: (pair[6], pair[7]) for pair in listed}


def assert_every_measured_pair_is_listed(organization: Any) -> None:
    """Every pair with measurements is listed, with days that cover all of them, and the
    pairs are ranked in list order."""
    measured = (
        Measurement.objects.filter(organization=organization)
        .values_list(
            "campaign_id",
            "channel_id",
            "campaign__product__name",
            "campaign__campaign_type",
            "campaign__name",
            "channel__name",
        )
        .annotate(Min("date"), Max("date"))
    )
    in_list_order = CampaignChannel.objects.filter(organization=organization).order_by(
        "product_name", "campaign_type", "campaign_name", "channel_name"
    )
    ranks = list(in_list_order.values_list("list_position", flat=True))
    assert ranks == list(range(1, len(ranks) + 1))
    listed = listed_pairs(organization)
    for *pair, first, last in measured:
        first_day, last_day = listed[tuple(pair)]
        assert first_day <= first, pair
        assert last <= last_day, pair


def row(product: str, campaign: int, channel: str, day: D, conversions: float) -> MeasurementRow:
    campaign_type, name = CAMPAIGNS[campaign]
    return MeasurementRow(product, campaign_type, name, channel, day, conversions)


def import_rows(organization: Any, rows: list[MeasurementRow], replace: bool = False) -> Any:
    return measurement_import(
        organization=organization, records=typed_records(rows), replace=replace
    )


def test_day_ranges_are_runs_of_consecutive_days():
    days = [D(2021, 3, 3), D(2021, 3, 1), D(2021, 3, 2), D(2021, 3, 9), D(2021, 3, 2)]

    assert day_ranges(days) == [(D(2021, 3, 1), D(2021, 3, 3)), (D(2021, 3, 9), D(2021, 3, 9))]
    assert day_ranges([]) == []


def test_summaries_follow_imports_corrections_and_replace(organization):
    monday = D(2021, 3, 1)
    week = [
        row(product, campaign, channel, monday + datetime.timedelta(days=offset), 10.0 + offset)
        for product in PRODUCTS
        for campaign in range(3)
        for channel in CHANNELS
        for offset in range(9)
    ]
    import_rows(organization, week)
    assert_summaries_match_measurements(organization)
    # two products, two campaign types (two branding campaigns), three channels, two weeks
    assert WeeklyConversions.objects.filter(organization=organization).count() == 2 * 2 * 3 * 2

    corrected = [
        r._replace(conversions=r.conversions * 3) if r.channel == "tv" else r for r in week
    ]
    corrected.append(row("juice", 0, "ooh", D(2021, 3, 20), 5.5))
    summary = import_rows(organization, corrected)
    assert summary.updated == 2 * 3 * 9
    assert summary.inserted == 1
    assert_summaries_match_measurements(organization)

    # A model re-run without radio and without 3 March: those days lose their radio rows,
    # and 3 March has no summaries left at all.
    rerun = [r for r in corrected if r.channel != "radio" and r.date != D(2021, 3, 3)]
    summary = import_rows(organization, rerun, replace=True)
    assert summary.deleted > 0
    assert_summaries_match_measurements(organization)
    assert_every_measured_pair_is_listed(organization)
    assert not DailyConversions.objects.filter(organization=organization, date=D(2021, 3, 3))


def test_a_rejected_import_leaves_the_summaries_as_they_were(organization):
    import_rows(organization, [row("cola", 0, "tv", D(2021, 3, 1), 1.0)])
    before = summary_of(DailyConversions.objects.all(), "date")

    with pytest.raises(Exception, match="rejected"):
        import_rows(organization, [row("cola", 0, "tv", D(2021, 3, 2), 2.0)] * 2)

    assert summary_of(DailyConversions.objects.all(), "date") == before
    assert_summaries_match_measurements(organization)


def test_summaries_are_kept_per_organisation(organization, other_organization):
    import_rows(organization, [row("cola", 0, "tv", D(2021, 3, 1), 1.0)])
    import_rows(other_organization, [row("cola", 0, "tv", D(2021, 3, 1), 7.0)], replace=True)

    assert_summaries_match_measurements(organization)
    assert_summaries_match_measurements(other_organization)
    assert DailyConversions.objects.get(organization=organization).conversions == 1.0


days = st.integers(min_value=0, max_value=DAYS - 1).map(
    lambda offset: FIRST_DAY + datetime.timedelta(days=offset)
)
rows = st.builds(
    row,
    st.sampled_from(PRODUCTS),
    st.integers(min_value=0, max_value=len(CAMPAIGNS) - 1),
    st.sampled_from(CHANNELS),
    days,
    st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False),
)
imports = st.lists(
    st.tuples(st.lists(rows, min_size=1, max_size=40, unique_by=lambda r: r[:5]), st.booleans()),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=imports)
def test_any_sequence_of_imports_keeps_the_data_and_the_summaries_exact(
    organization, import_chunks, batches
):
    for model in (Measurement, DailyConversions, WeeklyConversions, CampaignChannel):
        model.objects.filter(organization=organization).delete()
    expected: dict[tuple[Any, ...], float] = {}
    for batch, replace in batches:
        before = dict(expected)
        if replace:
            first, last = min(r.date for r in batch), max(r.date for r in batch)
            expected = {
                key: value for key, value in expected.items() if not first <= key[4] <= last
            }
        expected.update({r[:5]: r.conversions for r in batch})

        summary = import_rows(organization, batch, replace=replace)

        assert stored_rows_of(organization) == expected
        assert summary.inserted == sum(1 for r in batch if r[:5] not in before)
        assert summary.updated == sum(
            1 for r in batch if r[:5] in before and before[r[:5]] != r.conversions
        )
        assert_summaries_match_measurements(organization)
        assert_every_measured_pair_is_listed(organization)


def stored_rows_of(organization: Any) -> dict[tuple[Any, ...], float]:
    return {row[1:6]: row[6] for row in stored_measurements(organization)}


# --- reads through the summaries answer what the raw rows answer --------------------------------


@pytest.fixture
def stored_rows(organization):
    """About 300 rows over four weeks, two of them cut, with gaps."""
    chooser = random.Random(7)
    data = [
        row(
            product,
            campaign,
            channel,
            FIRST_DAY + datetime.timedelta(days=offset),
            round(chooser.uniform(0, 500), 3),
        )
        for product in PRODUCTS
        for campaign in range(len(CAMPAIGNS))
        for channel in CHANNELS
        for offset in range(DAYS)
        if chooser.random() < 0.7
    ]
    import_rows(organization, data)
    return data


def matching(data: list[MeasurementRow], filters: MeasurementFilters) -> list[MeasurementRow]:
    def keep(r: MeasurementRow) -> bool:
        return (
            (not filters.products or r.product in filters.products)
            and (not filters.campaigns or r.campaign in filters.campaigns)
            and (not filters.campaign_types or r.campaign_type in filters.campaign_types)
            and (not filters.channels or r.channel in filters.channels)
            and (filters.start_date is None or r.date >= filters.start_date)
            and (filters.end_date is None or r.date <= filters.end_date)
        )

    return [r for r in data if keep(r)]


def subsets(values: tuple[str, ...]) -> Any:
    return st.lists(st.sampled_from(values), max_size=2, unique=True)


optional_days = st.one_of(st.none(), days)
filter_sets = st.builds(
    lambda products, campaigns, types, channels, first, last: MeasurementFilters(
        products=products,
        campaigns=campaigns,
        campaign_types=types,
        channels=channels,
        start_date=min(first, last) if first and last else first,
        end_date=max(first, last) if first and last else last,
    ),
    subsets(PRODUCTS),
    st.one_of(st.just([]), subsets(tuple(name for _, name in CAMPAIGNS))),
    subsets(("always on", "branding")),
    subsets(CHANNELS),
    optional_days,
    optional_days,
)
read_settings = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@read_settings
@given(filters=filter_sets)
def test_weekly_sales_shares_and_counts_equal_the_raw_aggregation(
    organization, stored_rows, filters
):
    rows = matching(stored_rows, filters)
    weeks: dict[tuple[D, str], float] = defaultdict(float)
    for r in rows:
        weeks[(week_start(r.date), r.channel)] += r.conversions
    every_channel = matching(stored_rows, filters.without_channels())
    channel_sales: dict[str, float] = defaultdict(float)
    for r in every_channel:
        channel_sales[r.channel] += r.conversions

    weekly = list(selectors.channel_weekly_sales_list(organization=organization, filters=filters))
    shares = selectors.channel_share_list(organization=organization, filters=filters)

    assert [(w["week_start"], w["channel_name"]) for w in weekly] == sorted(weeks)
    for w in weekly:
        assert w["sales"] == pytest.approx(weeks[(w["week_start"], w["channel_name"])])
    assert selectors.channel_weekly_sales_count(organization=organization, filters=filters) == len(
        weeks
    )
    assert {share["channel_name"] for share in shares} == {r.channel for r in rows}
    for share in shares:
        assert share["sales"] == pytest.approx(channel_sales[share["channel_name"]])
        assert share["total"] == pytest.approx(sum(channel_sales.values()))
    assert selectors.measurement_count(organization=organization, filters=filters) == len(rows)


@read_settings
@given(filters=filter_sets, offset=st.integers(min_value=0, max_value=320))
def test_a_page_found_by_seeking_is_the_page_at_that_offset(
    organization, stored_rows, monkeypatch, filters, offset
):
    monkeypatch.setattr(selectors, "SEEK_FROM_OFFSET", 0)
    ordered = ordered_keys(matching(stored_rows, filters))

    first_date, skipped = selectors.measurement_seek(
        organization=organization, filters=filters, offset=offset
    )
    queryset, skipped_rows = selectors.measurement_list_from_offset(
        organization=organization, filters=filters, offset=offset
    )
    page = list(queryset[offset - skipped_rows : offset - skipped_rows + 7])

    assert keys_of(page) == ordered[offset : offset + 7]
    if offset < len(ordered):
        assert first_date == ordered[offset][0]
        assert skipped == sum(1 for key in ordered if key[0] < first_date)


def test_the_campaign_channels_of_stored_measurements_are_listed_again(organization, stored_rows):
    days: dict[tuple[str, ...], list[D]] = defaultdict(list)
    for r in stored_rows:
        days[(r.product, r.campaign_type, r.campaign, r.channel)].append(r.date)
    listed = listed_pairs(organization)
    assert {pair[2:]: bounds for pair, bounds in listed.items()} == {
        names: (min(dates), max(dates)) for names, dates in days.items()
    }
    CampaignChannel.objects.filter(organization=organization).delete()

    campaign_channels_refresh(organization_id=organization.pk)

    assert listed_pairs(organization) == listed


def ordered_keys(rows: list[MeasurementRow]) -> list[tuple[Any, ...]]:
    return sorted((r.date, r.product, r.campaign_type, r.campaign, r.channel) for r in rows)


def keys_of(page: list[dict]) -> list[tuple[Any, ...]]:
    return [
        (p["date"], p["product_name"], p["campaign_type"], p["campaign_name"], p["channel_name"])
        for p in page
    ]


@pytest.mark.parametrize(
    ("reading_cost", "query_cost"),
    [
        (0, selectors.QUERY_COST_IN_LOOKUPS),
        (selectors.READING_COST_IN_LOOKUPS, selectors.QUERY_COST_IN_LOOKUPS),
        (10**9, selectors.QUERY_COST_IN_LOOKUPS),
        (selectors.READING_COST_IN_LOOKUPS, 10**9),
    ],
    ids=[
        "days read whole",
        "days walked or read whole",
        "days walked",
        "days read whole in one query rather than walked in several",
    ],
)
@read_settings
@given(
    filters=filter_sets.filter(lambda filters: not filters.campaigns),
    offset=st.integers(min_value=0, max_value=320),
    cursor_row=st.integers(min_value=0, max_value=320),
    page_size=st.integers(min_value=1, max_value=101),
)
def test_a_page_read_day_by_day_is_the_page_of_the_sorted_rows(
    organization,
    stored_rows,
    monkeypatch,
    reading_cost,
    query_cost,
    filters,
    offset,
    cursor_row,
    page_size,
):
    """Both ways of reading a day (whole and sorted, or walking the campaign-channel pairs)
    give the rows of the documented order, at any offset (offsets inside a day start from
    a checkpoint every three rows) and after any cursor."""
    monkeypatch.setattr(selectors, "READING_COST_IN_LOOKUPS", reading_cost)
    monkeypatch.setattr(selectors, "QUERY_COST_IN_LOOKUPS", query_cost)
    monkeypatch.setattr(selectors, "SEEK_FROM_OFFSET", 0)
    monkeypatch.setattr(selectors, "DAY_CHECKPOINT_ROWS", 3)
    ordered = ordered_keys(matching(stored_rows, filters))

    days, skipped = selectors.measurement_list_from_offset(
        organization=organization, filters=filters, offset=offset
    )
    assert isinstance(days, selectors.MeasurementDays)
    page = days[offset - skipped : offset - skipped + page_size]
    assert keys_of(page) == ordered[offset : offset + page_size]

    if cursor_row < len(ordered):
        last_seen = ordered[cursor_row]
        cursor = [last_seen[0].isoformat(), *last_seen[1:]]
        after = selectors.MeasurementDays(organization=organization, filters=filters).after(cursor)
        next_page = after[0:page_size]
        assert keys_of(next_page) == ordered[cursor_row + 1 : cursor_row + 1 + page_size]


def test_days_that_would_each_be_walked_are_read_in_one_query_when_queries_cost_more(
    organization, stored_rows, monkeypatch
):
    filters = MeasurementFilters()
    ordered = ordered_keys(matching(stored_rows, filters))
    three_days = sum(1 for key in ordered if key[0] < FIRST_DAY + datetime.timedelta(days=3))
    days = selectors.MeasurementDays(organization=organization, filters=filters)
    days[0:1]  # the rows per day and the pairs are counted once per data version

    queries = {}
    for query_cost in (0, 10**9):
        monkeypatch.setattr(selectors, "QUERY_COST_IN_LOOKUPS", query_cost)
        with CaptureQueriesContext(connection) as captured:
            page = days[0:three_days]
        assert keys_of(page) == ordered[:three_days]
        queries[query_cost] = len(captured)

    assert queries == {0: 3, 10**9: 1}


@pytest.mark.parametrize("block_rows", [3, selectors.WEEKLY_BLOCK_ROWS])
@pytest.mark.parametrize(
    "blocks_kept", [True, False], ids=["blocks kept with the weeks", "blocks summed alone"]
)
@read_settings
@given(filters=filter_sets, offset=st.integers(min_value=0, max_value=80))
def test_a_weekly_page_read_from_blocks_of_weeks_is_the_page_of_all_weeks(
    organization, stored_rows, monkeypatch, block_rows, blocks_kept, filters, offset
):
    monkeypatch.setattr(selectors, "MAX_PAGE_SIZE", 5)
    monkeypatch.setattr(selectors, "WEEKLY_BLOCK_ROWS", block_rows)
    every_week = list(
        selectors.channel_weekly_sales_list(organization=organization, filters=filters)
    )
    weeks = selectors.channel_weekly_sales_weeks(organization=organization, filters=filters)
    if not blocks_kept:
        forget_worker_copies()
        cache.delete_many(
            [
                selectors.weekly_sales_block_key(organization, filters, block)
                for block in range(weeks.total // block_rows + 1)
            ]
        )

    page_weeks, before = selectors.channel_weekly_sales_from_offset(
        organization=organization, filters=filters, offset=offset
    )
    page = list(page_weeks[offset - before : offset - before + 6])

    expected = every_week[offset : offset + 6]
    assert [(w["week_start"], w["channel_name"]) for w in page] == [
        (w["week_start"], w["channel_name"]) for w in expected
    ]
    # The same conversions, summed in another order: equal but for the last bits.
    assert [w["sales"] for w in page] == pytest.approx([w["sales"] for w in expected], rel=1e-12)
    assert selectors.channel_weekly_sales_count(organization=organization, filters=filters) == len(
        every_week
    )
