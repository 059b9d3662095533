"""The daily and weekly summaries equal the aggregation of the raw measurements after every
kind of write (spend too: the sum of the known spend, None where none is known), and the
reads that use them answer what the raw rows answer."""

import datetime
import random
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from django.db.models import F, Q
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketing_op.core.pagination import CursorPageParams, PageParams, cursor_encode
from marketing_op.measurements.filters import MeasurementFilters
from marketing_op.measurements.imports import (
    MeasurementRow,
    day_ranges,
    measurement_import,
    typed_records,
)
from marketing_op.measurements.models import DailyConversions, Measurement, WeeklyConversions
from marketing_op.measurements.reads.channel_shares import channel_share_list
from marketing_op.measurements.reads.measurement_pages import MEASUREMENT_ORDER, measurement_page
from marketing_op.measurements.reads.summaries import measurement_count
from marketing_op.measurements.reads.weekly_sales import (
    channel_weekly_sales_list,
    channel_weekly_sales_page,
)

pytestmark = pytest.mark.django_db

D = datetime.date
FIRST_DAY = D(2021, 2, 24)  # a Wednesday: the data starts and ends in cut weeks
DAYS = 26
PRODUCTS = ("cola", "lemonade")
CAMPAIGNS = (("always on", "evergreen"), ("branding", "spring"), ("branding", "summer"))
CHANNELS = ("tv", "radio", "facebook")


Summed = tuple[float, int, float | None]
"""Conversions, measurements and spend (None: no spend known)."""


def summary_of(rows: Any, period: str) -> dict[tuple[Any, ...], Summed]:
    found: dict[tuple[Any, ...], Summed] = {}
    for row in rows.values(
        period, "product_id", "campaign_type", "channel_id", "conversions", "measurements", "spend"
    ):
        key = (row[period], row["product_id"], row["campaign_type"], row["channel_id"])
        found[key] = (row["conversions"], row["measurements"], row["spend"])
    return found


def aggregated(organization: Any, period: Any) -> dict[tuple[Any, ...], Summed]:
    sums: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0.0, 0, None])
    for row in Measurement.objects.filter(organization=organization).values(
        "date",
        "campaign__product_id",
        "campaign__campaign_type",
        "channel_id",
        "conversions",
        "spend",
    ):
        key = (
            period(row["date"]),
            row["campaign__product_id"],
            row["campaign__campaign_type"],
            row["channel_id"],
        )
        sums[key][0] += row["conversions"]
        sums[key][1] += 1
        if row["spend"] is not None:
            sums[key][2] = (sums[key][2] or Decimal(0)) + row["spend"]
    return {key: (total, int(count), spend) for key, (total, count, spend) in sums.items()}


def iso_monday(day: D) -> D:
    """The Monday of ``day``'s ISO week, from the calendar alone (not the code under test)."""
    year, week, _ = day.isocalendar()
    return D.fromisocalendar(year, week, 1)


def assert_summaries_match_measurements(organization: Any) -> None:
    for model, period, of_day in (
        (DailyConversions, "date", lambda day: day),
        (WeeklyConversions, "week", iso_monday),
    ):
        stored = summary_of(model.objects.filter(organization=organization), period)
        expected = aggregated(organization, of_day)
        assert stored.keys() == expected.keys(), model.__name__
        for key, (conversions, count, spend) in expected.items():
            assert stored[key][1] == count, (model.__name__, key)
            assert stored[key][0] == pytest.approx(conversions, rel=1e-12, abs=1e-9), key
            if spend is None:
                assert stored[key][2] is None, (model.__name__, key)
            else:
                assert stored[key][2] == spend, key  # exact cents


def assert_rows_carry_their_names(organization: Any) -> None:
    """Every measurement row's list-order names are those of its campaign, product and
    channel."""
    named_otherwise = Measurement.objects.filter(organization=organization).filter(
        ~Q(product_name=F("campaign__product__name"))
        | ~Q(campaign_type=F("campaign__campaign_type"))
        | ~Q(campaign_name=F("campaign__name"))
        | ~Q(channel_name=F("channel__name"))
    )
    assert not named_otherwise.exists()


def row(
    product: str,
    campaign: int,
    channel: str,
    day: D,
    conversions: float,
    spend: float | None = None,
) -> MeasurementRow:
    campaign_type, name = CAMPAIGNS[campaign]
    return MeasurementRow(product, campaign_type, name, channel, day, conversions, spend)


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

    # The radio rows of one campaign get their spend: only they change.
    spent = [
        r._replace(spend=2.5) if r.channel == "radio" and r.campaign == "evergreen" else r
        for r in corrected
    ]
    summary = import_rows(organization, spent)
    assert summary.updated == 2 * 9
    assert_summaries_match_measurements(organization)
    assert DailyConversions.objects.filter(organization=organization, spend=2.5).count() == 2 * 9

    # A model re-run without radio and without 3 March: those days lose their radio rows,
    # and 3 March has no summaries left at all.
    rerun = [r for r in spent if r.channel != "radio" and r.date != D(2021, 3, 3)]
    summary = import_rows(organization, rerun, replace=True)
    assert summary.deleted == len(spent) - len(rerun)
    assert_summaries_match_measurements(organization)
    assert_rows_carry_their_names(organization)
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
    st.one_of(
        st.none(),
        st.sampled_from([Decimal(0), Decimal("2.5")]),
        st.integers(min_value=0, max_value=10**8).map(lambda cents: Decimal(cents) / 100),
    ),
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
    for model in (Measurement, DailyConversions, WeeklyConversions):
        model.objects.filter(organization=organization).delete()
    expected: dict[tuple[Any, ...], float] = {}
    for batch, replace in batches:
        before = dict(expected)
        if replace:
            first, last = min(r.date for r in batch), max(r.date for r in batch)
            expected = {
                key: value for key, value in expected.items() if not first <= key[4] <= last
            }
        expected.update({r[:5]: (r.conversions, r.spend) for r in batch})

        summary = import_rows(organization, batch, replace=replace)

        assert stored_rows_of(organization) == expected
        assert summary.inserted == sum(1 for r in batch if r[:5] not in before)
        assert summary.updated == sum(
            1 for r in batch if r[:5] in before and before[r[:5]] != (r.conversions, r.spend)
        )
        assert_summaries_match_measurements(organization)
        assert_rows_carry_their_names(organization)


def stored_rows_of(organization: Any) -> dict[tuple[Any, ...], tuple[float, float | None]]:
    """(conversions, spend) per (product, campaign type, campaign, channel, date)."""
    rows = Measurement.objects.filter(organization=organization).values_list(
        "product_name",
        "campaign_type",
        "campaign_name",
        "channel_name",
        "date",
        "conversions",
        "spend",
    )
    return {row[:5]: (row[5], row[6]) for row in rows}


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


def matching(
    data: list[MeasurementRow], filters: MeasurementFilters, *, channels: bool = True
) -> list[MeasurementRow]:
    """The rows that ``filters`` keep, read from its fields alone; with ``channels=False``,
    whatever their channel (the whole of a channel share)."""

    def keep(r: MeasurementRow) -> bool:
        return (
            (not filters.products or r.product in filters.products)
            and (not filters.campaigns or r.campaign in filters.campaigns)
            and (not filters.campaign_types or r.campaign_type in filters.campaign_types)
            and (not channels or not filters.channels or r.channel in filters.channels)
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
    max_examples=120,
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
        weeks[(iso_monday(r.date), r.channel)] += r.conversions
    every_channel = matching(stored_rows, filters, channels=False)
    channel_sales: dict[str, float] = defaultdict(float)
    for r in every_channel:
        channel_sales[r.channel] += r.conversions

    weekly = list(channel_weekly_sales_list(organization=organization, filters=filters))
    shares = channel_share_list(organization=organization, filters=filters)

    assert [(w["week_start"], w["channel_name"]) for w in weekly] == sorted(weeks)
    for w in weekly:
        assert w["sales"] == pytest.approx(weeks[(w["week_start"], w["channel_name"])])
    assert {share["channel_name"] for share in shares} == {r.channel for r in rows}
    for share in shares:
        assert share["sales"] == pytest.approx(channel_sales[share["channel_name"]])
        assert share["total"] == pytest.approx(sum(channel_sales.values()))
    assert measurement_count(organization=organization, filters=filters) == len(rows)


def ordered_keys(rows: list[MeasurementRow]) -> list[tuple[Any, ...]]:
    return sorted((r.date, r.product, r.campaign_type, r.campaign, r.channel) for r in rows)


def keys_of(page: list[dict]) -> list[tuple[Any, ...]]:
    return [tuple(p[field] for field in MEASUREMENT_ORDER) for p in page]


@read_settings
@given(
    filters=filter_sets,
    offset=st.integers(min_value=0, max_value=320),
    cursor_row=st.integers(min_value=0, max_value=320),
    page_size=st.integers(min_value=1, max_value=100),
)
def test_a_page_at_any_offset_or_after_any_cursor_is_the_page_of_the_sorted_rows(
    organization, stored_rows, filters, offset, cursor_row, page_size
):
    """Pages found from the rows per day and read from the list-order index give the rows
    of the documented order, one more (which says a next page exists), and the total."""
    ordered = ordered_keys(matching(stored_rows, filters))
    conversions = {
        (r.date, r.product, r.campaign_type, r.campaign, r.channel): r.conversions
        for r in stored_rows
    }

    found = measurement_page(
        organization=organization,
        filters=filters,
        page=CursorPageParams(offset=offset, page_size=page_size),
    )
    assert keys_of(found.rows) == ordered[offset : offset + page_size + 1]
    assert [row["conversions"] for row in found.rows] == [
        conversions[key] for key in keys_of(found.rows)
    ]
    assert found.total == len(ordered)

    if cursor_row < len(ordered):
        cursor = cursor_encode(ordered[cursor_row])
        after = measurement_page(
            organization=organization,
            filters=filters,
            page=CursorPageParams(cursor=cursor, page_size=page_size),
        )
        expected = ordered[cursor_row + 1 : cursor_row + 1 + page_size + 1]
        assert keys_of(after.rows) == expected


@read_settings
@given(
    filters=filter_sets,
    offset=st.integers(min_value=0, max_value=80),
    page_size=st.integers(min_value=1, max_value=100),
)
def test_a_weekly_page_is_the_page_of_the_raw_aggregation(
    organization, stored_rows, filters, offset, page_size
):
    weeks: dict[tuple[D, str], float] = defaultdict(float)
    for r in matching(stored_rows, filters):
        weeks[(iso_monday(r.date), r.channel)] += r.conversions
    expected = sorted(weeks)[offset : offset + page_size + 1]

    found = channel_weekly_sales_page(
        organization=organization,
        filters=filters,
        page=PageParams(offset=offset, page_size=page_size),
    )

    assert [(w["week_start"], w["channel_name"]) for w in found.rows] == expected
    assert [w["sales"] for w in found.rows] == pytest.approx([weeks[key] for key in expected])
    assert found.total == len(weeks)
