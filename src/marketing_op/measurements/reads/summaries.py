"""The readers of the daily and weekly summaries that the endpoint families share: which
summary rows hold exactly the measurements that match a filter set, how many matching
measurements each day has, and the cache of values computed once per data version.

The summaries keep products, campaign types and channels, not campaigns: a filter that names
campaigns reads the measurements instead, through the campaign index (a campaign has at
most one row per day and channel, so its rows grow with the days, not with the table).
"""

from __future__ import annotations

import datetime
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from typing import TypeVar

from django.db.models import Count, Q, QuerySet, Sum

from marketing_op.accounts.models import Organization
from marketing_op.core.caching import data_cache_key, once_per_data_version
from marketing_op.measurements.filters import MeasurementFilters
from marketing_op.measurements.models import (
    DailyConversions,
    Measurement,
    WeeklyConversions,
    week_start,
)

TOTALS_CACHE_SECONDS = 24 * 60 * 60
ONE_DAY = datetime.timedelta(days=1)
ONE_WEEK = datetime.timedelta(days=7)
SUMMARY_NAME_FIELDS = {
    "products": "product__name",
    "campaign_types": "campaign_type",
    "channels": "channel__name",
}

Cached = TypeVar("Cached")


def once_per_data_version_of(
    organization: Organization,
    kind: str,
    filters: MeasurementFilters,
    compute: Callable[[], Cached],
) -> Cached:
    """``compute()`` for the organisation's current data and these filters, computed once
    per data version (see ``core.caching.once_per_data_version``)."""
    key = data_cache_key(organization, f"totals-{kind}", filters.model_dump_json())
    return once_per_data_version(key, compute, TOTALS_CACHE_SECONDS)


def measurement_base(*, organization: Organization, filters: MeasurementFilters) -> QuerySet:
    """The organisation's measurements that match the filters; the root of every raw read."""
    return Measurement.objects.filter(organization=organization).filter(filters.as_q())


@dataclass(frozen=True)
class SummaryReads:
    """The summary rows that together hold exactly the measurements matching the filters:
    whole weeks from the weekly summary, and the days of weeks that the date range cuts
    from the daily one."""

    weekly: QuerySet
    daily: QuerySet

    @property
    def parts(self) -> list[QuerySet]:
        """The weekly and the daily rows, leaving out a part that the dates leave empty."""
        return [part for part in (self.weekly, self.daily) if not part.query.is_empty()]


def summary_reads(
    *, organization: Organization, filters: MeasurementFilters
) -> SummaryReads | None:
    """The summary rows of the filters; None when the filters name campaigns."""
    filters.check_date_range()
    if filters.campaigns:
        return None
    condition = _summary_names(organization, filters)
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
    weekly = WeeklyConversions.objects.filter(condition & whole_weeks)
    daily = DailyConversions.objects.filter(condition & cut_days)
    return SummaryReads(
        weekly=weekly.none() if whole_weeks == Q(pk__in=[]) else weekly,
        daily=daily.none() if cut_days == Q(pk__in=[]) else daily,
    )


def _summary_names(organization: Organization, filters: MeasurementFilters) -> Q:
    """The organisation and the filters other than dates, as a condition on summary rows."""
    return Q(organization=organization) & filters.names_q(SUMMARY_NAME_FIELDS)


@dataclass(frozen=True)
class DailyRows:
    """The days with matching measurements, first to last (as ordinals), and where each
    day's rows end in the list (the rows of it and of every day before)."""

    days: list[int]
    ends: list[int]

    @property
    def total(self) -> int:
        return self.ends[-1] if self.ends else 0

    def day_of_row(self, row: int) -> tuple[datetime.date, int] | None:
        """The day that holds row ``row`` of the list, and how many of its rows come
        before that one; None past the last row."""
        position = bisect_right(self.ends, row)
        if position == len(self.days):
            return None
        before = self.ends[position - 1] if position else 0
        return datetime.date.fromordinal(self.days[position]), row - before

    def day_reaching(self, row: int) -> datetime.date | None:
        """The first day whose rows reach row ``row - 1`` of the list; None when the list
        ends before."""
        position = bisect_left(self.ends, row)
        if position == len(self.days):
            return None
        return datetime.date.fromordinal(self.days[position])

    def rows_through(self, day: datetime.date) -> int:
        """The rows of ``day`` and of the days before it."""
        position = bisect_right(self.days, day.toordinal())
        return self.ends[position - 1] if position else 0


def measurement_days(*, organization: Organization, filters: MeasurementFilters) -> DailyRows:
    """The rows per day of the matching measurements, once per data version: one read of
    the daily summary, or, when the filters name campaigns, of those campaigns'
    measurements through the campaign index."""

    def days() -> DailyRows:
        if filters.campaigns:
            measurements = measurement_base(organization=organization, filters=filters)
            counted = measurements.values_list("date").annotate(Count("pk"))
        else:
            matching = _summary_names(organization, filters)
            if filters.start_date:
                matching &= Q(date__gte=filters.start_date)
            if filters.end_date:
                matching &= Q(date__lte=filters.end_date)
            summed = DailyConversions.objects.filter(matching).values_list("date")
            counted = summed.annotate(Sum("measurements"))
        found = list(counted.order_by("date"))
        return DailyRows(
            days=[day.toordinal() for day, _ in found],
            ends=list(accumulate(rows for _, rows in found)),
        )

    filters.check_date_range()
    return once_per_data_version_of(organization, "days", filters, days)


def measurement_count(*, organization: Organization, filters: MeasurementFilters) -> int:
    """How many measurements match, from the rows per day."""
    return measurement_days(organization=organization, filters=filters).total
