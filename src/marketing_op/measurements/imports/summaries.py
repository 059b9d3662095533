"""The upkeep of the daily and weekly conversion summaries after an import changed days.

A summary is recomputed from its rows, never adjusted by differences, so it always equals
the aggregation of its measurements (its spend is SQL's ``SUM`` of theirs: the sum of the
known spend, null when none is known, which the weekly sum of the daily sums keeps); the
cost grows with the measurements of the touched days and weeks, not with the table. The
import calls this in its own transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db import connection

from marketing_op.measurements.models import week_start

DayRange = tuple[datetime.date, datetime.date]

REFRESH_DAILY = (
    "INSERT INTO measurements_dailyconversions "
    "(organization_id, date, product_id, campaign_type, channel_id, conversions, measurements, "
    "spend) "
    "SELECT m.organization_id, m.date, c.product_id, c.campaign_type, m.channel_id, "
    "SUM(m.conversions), COUNT(*), SUM(m.spend) FROM measurements_measurement m "
    "JOIN measurements_campaign c ON c.id = m.campaign_id "
    "WHERE m.organization_id = %s AND m.date BETWEEN %s AND %s "
    "GROUP BY m.organization_id, m.date, c.product_id, c.campaign_type, m.channel_id"
)

WEEK_OF_DAY = {
    "postgresql": "CAST(date_trunc('week', d.date) AS date)",
    "sqlite": "date(d.date, '-6 days', 'weekday 1')",
}

REFRESH_WEEKLY = (
    "INSERT INTO measurements_weeklyconversions "
    "(organization_id, week, product_id, campaign_type, channel_id, conversions, measurements, "
    "spend) "
    "SELECT d.organization_id, {week}, d.product_id, d.campaign_type, d.channel_id, "
    "SUM(d.conversions), SUM(d.measurements), SUM(d.spend) FROM measurements_dailyconversions d "
    "WHERE d.organization_id = %s AND d.date BETWEEN %s AND %s "
    "GROUP BY d.organization_id, {week}, d.product_id, d.campaign_type, d.channel_id"
)


def as_date(value: object) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


def day_ranges(days: Iterable[datetime.date]) -> list[DayRange]:
    """The days as runs of consecutive days, first to last."""
    runs: list[list[datetime.date]] = []
    for day in sorted(set(days)):
        if runs and day - runs[-1][1] == datetime.timedelta(days=1):
            runs[-1][1] = day
        else:
            runs.append([day, day])
    return [(first, last) for first, last in runs]


def conversion_summaries_refresh(
    *, organization_id: int, days: Iterable[DayRange] | None = None
) -> None:
    """Recompute the organisation's daily and weekly summaries of the given day ranges (all
    of them when None) from its measurements; call it in the transaction of the change."""
    with connection.cursor() as cursor:
        if days is None:
            cursor.execute(
                "SELECT MIN(date), MAX(date) FROM measurements_measurement "
                "WHERE organization_id = %s",
                [organization_id],
            )
            first, last = cursor.fetchone()
            cursor.execute(
                "DELETE FROM measurements_dailyconversions WHERE organization_id = %s",
                [organization_id],
            )
            cursor.execute(
                "DELETE FROM measurements_weeklyconversions WHERE organization_id = %s",
                [organization_id],
            )
            if first is None:
                return
            days = [(as_date(first), as_date(last))]  # type: ignore[list-item]
        for first, last in days:
            cursor.execute(
                "DELETE FROM measurements_dailyconversions "
                "WHERE organization_id = %s AND date BETWEEN %s AND %s",
                [organization_id, first, last],
            )
            cursor.execute(REFRESH_DAILY, [organization_id, first, last])
            weeks_refresh(cursor, organization_id, first, last)


def weeks_refresh(
    cursor: Any, organization_id: int, first: datetime.date, last: datetime.date
) -> None:
    """Recompute the weekly summaries of the weeks from ``first`` to ``last`` from the daily."""
    monday, sunday = week_start(first), week_start(last) + datetime.timedelta(days=6)
    cursor.execute(
        "DELETE FROM measurements_weeklyconversions "
        "WHERE organization_id = %s AND week BETWEEN %s AND %s",
        [organization_id, monday, sunday],
    )
    week = WEEK_OF_DAY[connection.vendor]
    cursor.execute(REFRESH_WEEKLY.format(week=week), [organization_id, monday, sunday])


def changed_days(cursor: Any, org: dict[str, Any], *, replace: bool) -> list[DayRange]:
    """The day ranges whose summaries an import may have changed."""
    if replace:
        return [(org["first"], org["last"])]
    cursor.execute("SELECT DISTINCT date FROM import_staging")
    return day_ranges(as_date(day) for (day,) in cursor.fetchall())  # type: ignore[misc]
