"""Weekly sales (``GET /api/marketing/stats/channel-weekly-sales/``): conversions per channel
per ISO week (weeks start on Monday), ordered by week, then channel.

Whole weeks are read from the weekly summary, the days of weeks that the date range cuts
from the daily one (or, for campaigns, everything from the measurements). The whole list,
at most a few thousand rows, is summed once per data version and filter set and kept; a
page is a slice of it.
"""

from __future__ import annotations

import datetime

from django.db.models import DateField, F, QuerySet, Sum
from django.db.models.functions import Cast, TruncWeek

from marketing_op.accounts.models import Organization
from marketing_op.core.pagination import PageParams, PageRows
from marketing_op.measurements.filters import MeasurementFilters
from marketing_op.measurements.models import WeeklyConversions
from marketing_op.measurements.reads.summaries import (
    measurement_base,
    once_per_data_version_of,
    summary_reads,
)

WeeklySalesRow = tuple[int, str, float]
"""(Monday as an ordinal, channel name, conversions): a row as it is kept."""


def channel_weekly_sales_list(
    *, organization: Organization, filters: MeasurementFilters
) -> QuerySet:
    """Conversions per channel per week, summed in the database, by week then channel."""
    summaries = summary_reads(organization=organization, filters=filters)
    if summaries is None:
        return (
            measurement_base(organization=organization, filters=filters)
            .annotate(week_start=TruncWeek("date"))
            .values("week_start", "channel_name")
            .annotate(sales=Sum("conversions"))
            .order_by("week_start", "channel_name")
        )
    weeks = [
        part.annotate(
            week_start=F("week")
            if part.model is WeeklyConversions
            # Weeks that the date range cuts, summed from their days.
            else Cast(TruncWeek("date"), DateField())
        )
        .values("week_start", channel_name=F("channel__name"))
        .annotate(sales=Sum("conversions"))
        for part in summaries.parts or [summaries.weekly]
    ]
    every_week = weeks[0].union(*weeks[1:], all=True) if len(weeks) > 1 else weeks[0]
    return every_week.order_by("week_start", "channel_name")


def channel_weekly_sales_rows(
    *, organization: Organization, filters: MeasurementFilters
) -> list[WeeklySalesRow]:
    """The whole list, once per data version and filter set."""

    def rows() -> list[WeeklySalesRow]:
        summed = channel_weekly_sales_list(organization=organization, filters=filters)
        return [
            (row["week_start"].toordinal(), row["channel_name"], row["sales"]) for row in summed
        ]

    return once_per_data_version_of(organization, "weekly-sales", filters, rows)


def channel_weekly_sales_page(
    *, organization: Organization, filters: MeasurementFilters, page: PageParams
) -> PageRows:
    """One page of the weekly sales: a slice of the kept list."""
    every_week = channel_weekly_sales_rows(organization=organization, filters=filters)
    window = every_week[page.offset : page.offset + page.wanted]
    rows = [
        {"week_start": datetime.date.fromordinal(monday), "channel_name": channel, "sales": sales}
        for monday, channel, sales in window
    ]
    return PageRows(rows, len(every_week))
