"""The sums of a report in SQL: conversions, measurements and spend per period and group, by
one GROUP BY on the period (computed by the database, through Django's ``Trunc``) and the
dimensions.

Products, campaign types and channels are read from the summaries: for weeks and totals,
whole weeks from the weekly summary and the days of cut weeks from the daily one (see
``summaries.summary_reads``); for other periods, from the daily summary. A campaign
dimension or filter reads the measurements (the summaries keep no campaigns). Spend is SQL's
``SUM`` of exact cents (``numeric``, a ``Decimal`` here): the sum of the known spend, None
where no row summed has a known spend; it is summed only for a report that shows it (or a
ratio of it), and None otherwise.
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, DateField, F, Func, QuerySet, Sum
from django.db.models.functions import Trunc

from marketing_op.accounts.models import Organization
from marketing_op.core.exceptions import InvalidFilterError
from marketing_op.measurements.filters import MeasurementFilters
from marketing_op.measurements.models import DailyConversions, WeeklyConversions
from marketing_op.measurements.reads.summaries import (
    SUMMARY_NAME_FIELDS,
    measurement_base,
    summary_reads,
)

Key = tuple[Any, ...]
"""(period start, or None for total, then the dimensions' values in the report's order)."""
Sums = dict[Key, tuple[float, int, Decimal | None]]
"""(conversions, measurements, spend) per key; spend (exact cents) None where none is known."""

SUMMARY_FIELDS = {
    "product": "product__name",
    "campaign_type": "campaign_type",
    "channel": "channel__name",
}
MEASUREMENT_FIELDS = {
    "product": "product_name",
    "campaign_type": "campaign_type",
    "campaign": "campaign_name",
    "channel": "channel_name",
}


def too_large(limit: int) -> InvalidFilterError:
    return InvalidFilterError(
        f"The report would have more than {limit:,} rows: choose fewer dimensions, a "
        "coarser granularity or a shorter date range."
    )


def report_sums(
    *,
    organization: Organization,
    filters: MeasurementFilters,
    dimensions: list[str],
    granularity: str,
    limit: int,
    spend: bool,
    shift_days: int = 0,
) -> Sums:
    """Conversions, measurements and (with ``spend``) spend per period and group of the rows
    that match; more than ``limit`` keys is refused (400) after reading at most ``limit + 1``
    per query. With ``shift_days``, a row counts in the period of its date that many days
    later (a comparison range's days under the periods of the range they are compared to)."""
    if "campaign" in dimensions or filters.campaigns:
        measurements = measurement_base(organization=organization, filters=filters)
        return _summed(
            [(measurements, _period(granularity, "date", shift_days), Count("pk"))],
            [MEASUREMENT_FIELDS[name] for name in dimensions],
            limit,
            spend,
        )
    fields = [SUMMARY_FIELDS[name] for name in dimensions]
    if granularity in ("week", "total") and not (shift_days and granularity == "week"):
        summaries = summary_reads(organization=organization, filters=filters)
        parts = [
            (
                part,
                F("week")
                if granularity == "week" and part.model is WeeklyConversions
                else _period(granularity, "date"),
                Sum("measurements"),
            )
            for part in (summaries.parts if summaries else [])
        ]
        return _summed(parts, fields, limit, spend)
    daily = DailyConversions.objects.filter(organization=organization, **_dates(filters)).filter(
        filters.names_q(SUMMARY_NAME_FIELDS)
    )
    return _summed(
        [(daily, _period(granularity, "date", shift_days), Sum("measurements"))],
        fields,
        limit,
        spend,
    )


def _dates(filters: MeasurementFilters) -> dict[str, datetime.date]:
    dates = {}
    if filters.start_date:
        dates["date__gte"] = filters.start_date
    if filters.end_date:
        dates["date__lte"] = filters.end_date
    return dates


class _DaysLater(Func):
    """A date ``days`` days later, as a date, in PostgreSQL and in SQLite."""

    output_field = DateField()

    def __init__(self, expression: Any, days: int) -> None:
        super().__init__(expression)
        self.days = days

    def as_sql(
        self, compiler: Any, connection: Any, *args: Any, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        """PostgreSQL: a date plus an integer is a date."""
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} + CAST(%s AS integer))", (*params, self.days)

    def as_sqlite(
        self, compiler: Any, connection: Any, *args: Any, **extra: Any
    ) -> tuple[str, tuple[Any, ...]]:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"date({sql}, %s)", (*params, f"{self.days:+d} days")


def _period(granularity: str, field: str, shift_days: int = 0) -> Any:
    """The period's first day as an SQL expression (of the date ``shift_days`` later);
    None for total."""
    if granularity == "total":
        return None
    date: Any = _DaysLater(F(field), shift_days) if shift_days else F(field)
    if granularity == "day":
        return date
    return Trunc(date, granularity, output_field=DateField())


def _summed(
    parts: list[tuple[QuerySet, Any, Any]], fields: list[str], limit: int, spend: bool
) -> Sums:
    width = 3 if spend else 2
    sums: Sums = {}
    for rows, period, counted in parts:
        summed: dict[str, Any] = {
            "report_conversions": Sum("conversions"),
            "report_measurements": counted,
        }
        if spend:
            summed["report_spend"] = Sum("spend")
        grouped_by = [*(["report_period"] if period is not None else []), *fields]
        if period is not None:
            rows = rows.annotate(report_period=period)
        if not grouped_by:  # one group: no GROUP BY at all
            total = rows.aggregate(**summed)
            found = [tuple(total[name] for name in summed)] if total["report_measurements"] else []
        else:
            found = list(
                rows.values(*grouped_by)
                .annotate(**summed)
                .order_by()
                .values_list(*grouped_by, *summed)[: limit + 1]
            )
        if len(found) > limit:
            raise too_large(limit)
        for row in found:
            conversions, measurements = row[-width], int(row[-width + 1])
            spent = row[-1] if spend else None
            group = tuple(row[:-width])
            key: Key = group if period is not None else (None, *group)
            before = sums.get(key)
            if before is None:
                sums[key] = (float(conversions), measurements, spent)
            else:
                sums[key] = (
                    before[0] + conversions,
                    before[1] + measurements,
                    known_sum(before[2], spent),
                )
    if len(sums) > limit:
        raise too_large(limit)
    return sums


def known_sum(first: Decimal | None, second: Decimal | None) -> Decimal | None:
    """The sum of two spends as SQL's ``SUM`` adds them: None only when both are unknown."""
    if first is None:
        return second
    if second is None:
        return first
    return first + second
