"""Reads of measurements. Every selector is scoped to one organisation, which it requires."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast

from django.core.cache import cache
from django.db.models import DateField, Exists, F, Max, Min, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Cast, Coalesce, TruncWeek

from marketing_op.accounts.models import Organization
from marketing_op.core.caching import data_cache_key
from marketing_op.measurements.filters import MeasurementFilters
from marketing_op.measurements.models import (
    Campaign,
    Channel,
    DailyConversions,
    ImportRecord,
    Measurement,
    Product,
    WeeklyConversions,
    week_start,
)

MEASUREMENT_ORDER = ("date", "product_name", "campaign_type", "campaign_name", "channel_name")


def measurement_base(*, organization: Organization, filters: MeasurementFilters) -> QuerySet:
    """The organisation's measurements that match the filters; the root of every read."""
    return Measurement.objects.filter(organization=organization).filter(filters.as_q())


def measurement_list(*, organization: Organization, filters: MeasurementFilters) -> QuerySet:
    """Measurement rows in the documented stable order (date, product, type, campaign, channel)."""
    return (
        measurement_base(organization=organization, filters=filters)
        .values("date", "conversions")
        .annotate(
            product_name=F("campaign__product__name"),
            campaign_type=F("campaign__campaign_type"),
            campaign_name=F("campaign__name"),
            channel_name=F("channel__name"),
        )
        .order_by(*MEASUREMENT_ORDER)
    )


TOTALS_CACHE_SECONDS = 24 * 60 * 60
Cached = TypeVar("Cached", int, float, dict, list)


def _per_data_version(organization: Organization, kind: str, filters: MeasurementFilters) -> str:
    return data_cache_key(organization, f"totals-{kind}", filters.model_dump_json())


def _once_per_data_version(key: str, compute: Callable[[], Cached]) -> Cached:
    cached = cache.get(key)
    if cached is None:
        cached = compute()
        cache.set(key, cached, TOTALS_CACHE_SECONDS)
    return cast(Cached, cached)


def measurement_count(*, organization: Organization, filters: MeasurementFilters) -> int:
    """How many measurements match: summed from the summaries (or counted among one
    campaign's rows), once per data version."""

    def count() -> int:
        summaries = summary_reads(organization=organization, filters=filters)
        if summaries is None:
            return measurement_base(organization=organization, filters=filters).count()
        return sum(
            part.aggregate(count=Coalesce(Sum("measurements"), 0))["count"]
            for part in (summaries.weekly, summaries.daily)
        )

    filters.check_date_range()
    return _once_per_data_version(_per_data_version(organization, "count", filters), count)


# --- summaries: aggregates that cost the same at any table size ---------------------------------

ONE_DAY = datetime.timedelta(days=1)
ONE_WEEK = datetime.timedelta(days=7)


SUMMARY_NAME_FIELDS = {
    "products": "product__name",
    "campaign_types": "campaign_type",
    "channels": "channel__name",
}


@dataclass(frozen=True)
class SummaryReads:
    """The summary rows that together hold exactly the measurements matching the filters:
    whole weeks from the weekly summary, and the days of weeks that the date range cuts
    from the daily one. Not available when the filters name campaigns (the summaries do
    not keep campaigns; one campaign's measurements are few and indexed)."""

    weekly: QuerySet
    daily: QuerySet
    matching: Q
    """The filters other than dates, as a condition on summary rows."""


def summary_reads(
    *, organization: Organization, filters: MeasurementFilters
) -> SummaryReads | None:
    filters.check_date_range()
    if filters.campaigns:
        return None
    condition = Q(organization=organization) & filters.names_q(SUMMARY_NAME_FIELDS)
    start, end = filters.start_date, filters.end_date
    whole_weeks = Q()
    cut_days = Q(pk__in=[])
    first_monday = None if start is None else week_start(start + 6 * ONE_DAY)
    last_monday = None if end is None else week_start(end + ONE_DAY) - ONE_WEEK
    if first_monday and last_monday and first_monday > last_monday:
        whole_weeks = Q(pk__in=[])
        cut_days = Q(date__range=(start, end))
    else:
        if start and first_monday:
            whole_weeks &= Q(week__gte=first_monday)
            if start < first_monday:
                cut_days |= Q(date__range=(start, first_monday - ONE_DAY))
        if end and last_monday:
            whole_weeks &= Q(week__lte=last_monday)
            if end >= last_monday + ONE_WEEK:
                cut_days |= Q(date__range=(last_monday + ONE_WEEK, end))
    return SummaryReads(
        weekly=WeeklyConversions.objects.filter(condition & whole_weeks),
        daily=DailyConversions.objects.filter(condition & cut_days),
        matching=condition,
    )


SEEK_FROM_OFFSET = 1_000


def measurement_seek(
    *, organization: Organization, filters: MeasurementFilters, offset: int
) -> tuple[datetime.date | None, int]:
    """Where a page deep in the measurements starts: the first date to read, and how many
    matching rows lie before it. Counted from the summaries (the weeks, then the days of
    one week), so that ``offset`` skips whole days without reading them; (None, 0) when
    the page is near the start or the filters name campaigns."""
    summaries = summary_reads(organization=organization, filters=filters)
    if offset < SEEK_FROM_OFFSET or summaries is None:
        return None, 0

    def periods() -> list:
        weeks = summaries.weekly.values_list("week").annotate(Sum("measurements"))
        days = summaries.daily.values_list("date").annotate(Sum("measurements"))
        found = [(week, week + ONE_WEEK - ONE_DAY, rows) for week, rows in weeks]
        found += [(day, day, rows) for day, rows in days]
        return sorted(found)

    before = 0
    key = _per_data_version(organization, "periods", filters)
    for first, last, rows in _once_per_data_version(key, periods):
        if before + rows <= offset:
            before += rows
            continue
        if first == last:
            return first, before
        days = (
            DailyConversions.objects.filter(summaries.matching, date__range=(first, last))
            .values_list("date")
            .annotate(Sum("measurements"))
            .order_by("date")
        )
        for day, day_rows in days:
            if before + day_rows > offset:
                return day, before
            before += day_rows
    return None, 0


def measurement_list_from_offset(
    *, organization: Organization, filters: MeasurementFilters, offset: int
) -> tuple[QuerySet, int]:
    """The measurement list from the day that holds row ``offset``, and how many matching
    rows lie before that day (see :func:`measurement_seek`)."""
    rows = measurement_list(organization=organization, filters=filters)
    first_date, skipped = measurement_seek(
        organization=organization, filters=filters, offset=offset
    )
    if first_date is None:
        return rows, 0
    return rows.filter(date__gte=first_date), skipped


def _channel_conversions(*, organization: Organization, filters: MeasurementFilters) -> dict:
    """Summed conversions per channel name of the rows that match."""
    summaries = summary_reads(organization=organization, filters=filters)
    parts = (
        [summaries.weekly, summaries.daily]
        if summaries
        else [measurement_base(organization=organization, filters=filters)]
    )
    sales: dict[str, float] = {}
    for part in parts:
        for name, conversions in part.values_list("channel__name").annotate(Sum("conversions")):
            sales[name] = sales.get(name, 0.0) + conversions
    return sales


def channel_share_list(*, organization: Organization, filters: MeasurementFilters) -> list[dict]:
    """Each channel's conversions with the total of all channels, largest first.

    The denominator honours every filter except ``channels``: the channel filter chooses
    which rows are listed, not what they are a share of. One read of every channel's
    conversions gives both.
    """
    every_channel = filters.without_channels()
    sales = _once_per_data_version(
        _per_data_version(organization, "channel-conversions", every_channel),
        lambda: _channel_conversions(organization=organization, filters=every_channel),
    )
    total = sum(sales.values())
    listed = set(filters.channels) if filters.channels else sales.keys()
    rows = [
        {"channel_name": name, "sales": conversions, "total": total}
        for name, conversions in sales.items()
        if name in listed
    ]
    rows.sort(key=lambda row: (-row["sales"], row["channel_name"]))
    return rows


def channel_weekly_sales_list(
    *, organization: Organization, filters: MeasurementFilters
) -> QuerySet:
    """Conversions per channel per ISO week (weeks start on Monday), by week then channel."""
    summaries = summary_reads(organization=organization, filters=filters)
    if summaries is None:
        return (
            measurement_base(organization=organization, filters=filters)
            .annotate(week_start=TruncWeek("date"))
            .values("week_start", channel_name=F("channel__name"))
            .annotate(sales=Sum("conversions"))
            .order_by("week_start", "channel_name")
        )
    whole_weeks = (
        summaries.weekly.annotate(week_start=F("week"))
        .values("week_start", channel_name=F("channel__name"))
        .annotate(sales=Sum("conversions"))
    )
    cut_weeks = (
        summaries.daily.annotate(week_start=Cast(TruncWeek("date"), DateField()))
        .values("week_start", channel_name=F("channel__name"))
        .annotate(sales=Sum("conversions"))
    )
    return whole_weeks.union(cut_weeks, all=True).order_by("week_start", "channel_name")


def channel_weekly_sales_count(*, organization: Organization, filters: MeasurementFilters) -> int:
    """How many (week, channel) rows the weekly sales have, once per data version."""
    return _once_per_data_version(
        _per_data_version(organization, "weekly-count", filters),
        lambda: channel_weekly_sales_list(organization=organization, filters=filters).count(),
    )


@dataclass(frozen=True)
class Dimensions:
    products: QuerySet
    campaigns: QuerySet
    campaign_types: QuerySet
    channels: QuerySet
    first_date: datetime.date | None
    last_date: datetime.date | None


def dimensions_get(*, organization: Organization) -> Dimensions:
    """What the organisation has data for: the values of every filter and the date range."""
    has_rows = Measurement.objects.filter(organization=organization)
    summarised = DailyConversions.objects.filter(organization=organization)
    campaigns = (
        Campaign.objects.filter(organization=organization)
        .filter(Exists(has_rows.filter(campaign=OuterRef("pk"))))
        .select_related("product")
        .order_by("name", "product__name", "campaign_type")
    )
    products = (
        Product.objects.filter(organization=organization)
        .filter(Exists(summarised.filter(product=OuterRef("pk"))))
        .order_by("name")
        .values_list("name", flat=True)
    )
    campaign_types = (
        summarised.order_by("campaign_type").values_list("campaign_type", flat=True).distinct()
    )
    channels = (
        Channel.objects.filter(organization=organization)
        .filter(Exists(summarised.filter(channel=OuterRef("pk"))))
        .order_by("name")
        .values_list("name", flat=True)
    )
    date_range = summarised.aggregate(first=Min("date"), last=Max("date"))
    return Dimensions(
        products=products,
        campaigns=campaigns,
        campaign_types=campaign_types,
        channels=channels,
        first_date=date_range["first"],
        last_date=date_range["last"],
    )


# --- import history ----------------------------------------------------------------------------


def import_record_list(*, organization: Organization) -> QuerySet:
    """The organisation's imports, newest first."""
    return ImportRecord.objects.filter(organization=organization).order_by("-created_at", "-id")


def import_record_get_by_key(*, organization: Organization, key: str) -> ImportRecord | None:
    """The accepted import of the organisation that was made with this Idempotency-Key."""
    return ImportRecord.objects.filter(
        organization=organization, idempotency_key=key, status=ImportRecord.ACCEPTED
    ).first()
