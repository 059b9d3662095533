"""The calendar periods of a report: where a day's period starts, the label of a period
(``2021-01-04``, ``2021-W01``, ``2021-01``, ``2021-Q1``, ``2021``), and the periods of a
date range, first to last. Weeks are ISO weeks, from Monday."""

from __future__ import annotations

import datetime

ONE_DAY = datetime.timedelta(days=1)


def period_start(day: datetime.date, granularity: str) -> datetime.date:
    """The first day of the period (of ``granularity``, not ``total``) that holds ``day``."""
    if granularity == "day":
        return day
    if granularity == "week":
        return day - datetime.timedelta(days=day.weekday())
    if granularity == "month":
        return day.replace(day=1)
    if granularity == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return day.replace(month=1, day=1)


def next_period_start(start: datetime.date, granularity: str) -> datetime.date:
    """The first day of the period after the one that starts on ``start``."""
    if granularity == "day":
        return start + ONE_DAY
    if granularity == "week":
        return start + datetime.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[granularity]
    month = start.month - 1 + months
    return datetime.date(start.year + month // 12, month % 12 + 1, 1)


def period_label(start: datetime.date, granularity: str) -> str:
    """How a row names its period."""
    if granularity == "day":
        return start.isoformat()
    if granularity == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    if granularity == "month":
        return f"{start.year}-{start.month:02d}"
    if granularity == "quarter":
        return f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return str(start.year)


def period_count(first: datetime.date, last: datetime.date, granularity: str) -> int:
    """How many periods the days ``first`` to ``last`` touch, computed, not listed."""
    if granularity == "total":
        return 1
    first, last = period_start(first, granularity), period_start(last, granularity)
    if granularity in ("day", "week"):
        return (last - first).days // (1 if granularity == "day" else 7) + 1
    months = (last.year - first.year) * 12 + last.month - first.month
    return months // {"month": 1, "quarter": 3, "year": 12}[granularity] + 1


def periods_of(first: datetime.date, last: datetime.date, granularity: str) -> list[datetime.date]:
    """The starts of the periods that the days ``first`` to ``last`` touch, in order; for
    ``total``, the one period that starts on ``first``."""
    if granularity == "total":
        return [first]
    starts = []
    start = period_start(first, granularity)
    while start <= last:
        starts.append(start)
        start = next_period_start(start, granularity)
    return starts


def period_end(start: datetime.date, granularity: str) -> datetime.date:
    """The last day of the period (not ``total``) that starts on ``start``."""
    return next_period_start(start, granularity) - ONE_DAY


def same_period_a_year_apart(
    start: datetime.date, granularity: str, years: int
) -> datetime.date | None:
    """The start of the same calendar period ``years`` (1 or -1) later: the same day, month,
    quarter or year, or the ISO week of the same number. None where there is none: 29
    February, or week 53 of a year that has 52."""
    if granularity == "week":
        year, week, _ = start.isocalendar()
        try:
            return datetime.date.fromisocalendar(year + years, week, 1)
        except ValueError:
            return None
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return None
