"""A report (``GET /api/marketing/reports/``): the rows of the chosen metrics per group of
the chosen dimensions and per period, with the comparison range's values, filled periods,
the chosen order, and the totals over the whole result.

The sums come from ``reports.sums`` (one GROUP BY per part); the rest is done here over at
most ``MAX_REPORT_ROWS`` rows. Each row is compared with its own calendar period: the same
period a year before (``previous_year``), or the period moved back by the distance between
the ranges (computed in SQL); ``previous`` is None where nothing was measured there, and
``partial`` says that a period or its comparison period is cut by its range. The
comparison's totals are summed over the whole comparison range, not from rows. A row's
share divides by its period's conversions under every filter except those on the report's
dimensions, ROAS and CPA divide the row's sums (None where the divisor is 0 or unknown),
and rows are sorted by the chosen keys (None last, either way), then by period and
dimensions, so that pages are stable.

Before anything is summed, the report's size is estimated (``report_cost_check``) and a
report too large refused; a refusal is remembered in the report's place in the shared
cache. A computation holds one of its user's ``REPORTS_PER_USER`` slots
(``core.running_limits``). The whole report is computed once per data version and set of
parameters, kept in the shared cache in chunks of rows; a page is a slice of the chunks it
spans.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from operator import itemgetter
from typing import Any, cast

from django.conf import settings
from django.core.cache import cache

from marketing_op.accounts.models import Organization
from marketing_op.core.caching import (
    approximate_size,
    data_cache_key,
    keep_worker_copy,
    shared_cache_seconds,
    worker_copy,
)
from marketing_op.core.exceptions import InvalidFilterError
from marketing_op.core.pagination import PageParams, PageRows
from marketing_op.core.running_limits import running_slot
from marketing_op.measurements.filters import MeasurementFilters
from marketing_op.measurements.reads.dimensions import dimensions_get
from marketing_op.measurements.reads.reports.parameters import DIMENSION_FILTERS, ReportParams
from marketing_op.measurements.reads.reports.periods import (
    period_count,
    period_end,
    period_label,
    period_start,
    periods_of,
    same_period_a_year_apart,
)
from marketing_op.measurements.reads.reports.sums import (
    Key,
    Sums,
    known_sum,
    report_sums,
    too_large,
)
from marketing_op.measurements.reads.summaries import (
    TOTALS_CACHE_SECONDS,
    measurement_days,
    once_per_data_version_of,
)

MAX_REPORT_ROWS = 100_000
"""The most rows a report may have (groups times periods); a larger one is refused (400)."""
WORKER_REPORT_ROWS = 2_000
"""The longest report that a worker keeps a copy of (see ``core.caching.worker_copy``)."""
ROAS_DECIMALS = 4
"""The decimals of a return on ad spend (conversions per unit of spend)."""
REPORT_CHUNK_ROWS = 200
"""Rows per shared-cache entry of a report: a page reads the entries it spans, so that a
page of a long report costs what a page of a short one does."""


Metrics = dict[str, float | int | None]
"""A metric's value per name (``measurements`` a count); None where it is not known (spend,
ROAS, CPA, a change)."""


@dataclass(frozen=True)
class Report:
    rows: list[dict[str, Any]]
    totals: Metrics
    previous_totals: Metrics | None


@dataclass(frozen=True)
class _Range:
    """The sums of a date range, per period start (None: no data and no dates) and group."""

    sums: Sums
    periods: list[datetime.date]
    denominators: dict[datetime.date, float]


def report_get(
    *,
    organization: Organization,
    filters: MeasurementFilters,
    params: ReportParams,
    user_id: int | None = None,
) -> Report:
    """The whole report (an export's rows), once per data version and set of parameters;
    computed within the limit of ``user_id``'s reports at once (none without a user)."""
    key = _report_key(organization, filters, params)
    report = worker_copy(key)
    if report is not None:
        return cast(Report, report)
    head = cache.get(key)
    _refusal_repeated(head)
    if isinstance(head, _Head):
        chunks = _chunks(key, range(_chunk_count(head.total)))
        if chunks is not None:
            rows = [row for chunk in chunks for row in chunk]
            return Report(rows, head.totals, head.previous_totals)
    return _computed(key, organization, filters, params, user_id)


def report_page(
    *,
    organization: Organization,
    filters: MeasurementFilters,
    params: ReportParams,
    page: PageParams,
    user_id: int | None = None,
) -> tuple[PageRows, Report]:
    """One page of the report, and the report's totals (as a ``Report`` whose rows are the
    page's): from the worker's copy of a short report, else from the shared cache's head
    and the chunks that the page spans, else computed."""
    key = _report_key(organization, filters, params)
    report = worker_copy(key)
    if report is None:
        head = cache.get(key)
        _refusal_repeated(head)
        if isinstance(head, _Head):
            end = min(page.offset + page.wanted, head.total)
            if end <= page.offset:
                return PageRows([], head.total), Report([], head.totals, head.previous_totals)
            first = page.offset // REPORT_CHUNK_ROWS
            chunks = _chunks(key, range(first, (end - 1) // REPORT_CHUNK_ROWS + 1))
            if chunks is not None:
                rows = [row for chunk in chunks for row in chunk]
                start = page.offset - first * REPORT_CHUNK_ROWS
                found = rows[start : start + end - page.offset]
                return PageRows(found, head.total), Report(found, head.totals, head.previous_totals)
        report = _computed(key, organization, filters, params, user_id)
    report = cast(Report, report)
    rows = report.rows[page.offset : page.offset + page.wanted]
    return PageRows(rows, len(report.rows)), report


@dataclass(frozen=True)
class _Head:
    """What the shared cache keeps of a report beside its chunks of rows."""

    total: int
    totals: dict[str, Any]
    previous_totals: dict[str, Any] | None


def _report_key(
    organization: Organization, filters: MeasurementFilters, params: ReportParams
) -> str:
    detail = f"{filters.model_dump_json()}|{params.model_dump_json()}|{REPORT_CHUNK_ROWS}"
    return data_cache_key(organization, "report", detail)


def _chunk_count(rows: int) -> int:
    return -(-rows // REPORT_CHUNK_ROWS)


def _chunks(key: str, numbers: range) -> list[list[dict[str, Any]]] | None:
    """The chunks of a stored report, or None when the cache has lost any of them."""
    keys = [f"{key}:{number}" for number in numbers]
    found = cache.get_many(keys)
    if len(found) != len(keys):
        return None
    return [found[name] for name in keys]


@dataclass(frozen=True)
class _Refusal:
    """What the shared cache keeps of a report that was refused (400), in its head's place:
    asked again, it is refused again without a query."""

    message: str


def _refusal_repeated(head: object) -> None:
    if isinstance(head, _Refusal):
        raise InvalidFilterError(head.message)


def _computed(
    key: str,
    organization: Organization,
    filters: MeasurementFilters,
    params: ReportParams,
    user_id: int | None,
) -> Report:
    """The report computed, stored in the shared cache in chunks (rows first, then the head
    that says they are there; a large report for minutes, see ``shared_cache_seconds``) and
    kept by the worker when it is short. Its cost is estimated first; a refusal (400) is
    remembered; the computation holds one of the user's ``REPORTS_PER_USER`` slots while it
    runs."""
    try:
        report_cost_check(organization=organization, filters=filters, params=params)
        if user_id is None:
            report = _report(organization, filters, params)
        else:
            with running_slot(
                kind="report",
                holder=str(user_id),
                limit=settings.REPORTS_PER_USER,
                wait_seconds=settings.REPORT_WAIT_SECONDS,
            ):
                report = _report(organization, filters, params)
    except InvalidFilterError as refused:
        cache.set(key, _Refusal(refused.message), TOTALS_CACHE_SECONDS)
        raise
    seconds = shared_cache_seconds(TOTALS_CACHE_SECONDS, approximate_size(report.rows))
    cache.set_many(
        {
            f"{key}:{number}": report.rows[
                number * REPORT_CHUNK_ROWS : (number + 1) * REPORT_CHUNK_ROWS
            ]
            for number in range(_chunk_count(len(report.rows)))
        },
        seconds,
    )
    head = _Head(len(report.rows), report.totals, report.previous_totals)
    cache.set(key, head, seconds)
    if len(report.rows) <= WORKER_REPORT_ROWS:
        keep_worker_copy(key, report)
    return report


def report_cost_check(
    *, organization: Organization, filters: MeasurementFilters, params: ReportParams
) -> None:
    """Refuse (400), before anything is summed, a report whose rows would pass
    ``MAX_REPORT_ROWS`` by an estimate: its periods (an open range clamped to the data's
    first and last day) times its groups (the values with data of each dimension, no more
    than the filters name, and no more than the measurements), for an unfilled report no
    more than the measurements in the range and the comparison range. Read from the days
    with data, once per data version: a refusal costs no scan of the measurements."""
    undated = _of_every_group(
        filters.model_copy(update={"start_date": None, "end_date": None}), params
    )
    days = measurement_days(organization=organization, filters=undated)
    if not days.days:
        return
    first = filters.start_date or datetime.date.fromordinal(days.days[0])
    last = filters.end_date or datetime.date.fromordinal(days.days[-1])
    if first > last:
        return
    ranges = [(first, last)]
    if params.compared:
        ranges.append(params.comparison_range(filters))
    measured = sum(
        days.rows_through(end) - days.rows_through(start - ONE_DAY) for start, end in ranges
    )
    groups = min(_group_estimate(organization, filters, params), max(measured, 1))
    rows = period_count(first, last, params.granularity) * groups
    if not params.filled:
        rows = min(rows, measured)
    if rows > MAX_REPORT_ROWS:
        raise too_large(MAX_REPORT_ROWS)


def _group_estimate(
    organization: Organization, filters: MeasurementFilters, params: ReportParams
) -> int:
    """At most how many groups the report's dimensions form: the product of the number of
    values with data of each (or that the filter names); a campaign holds its product and
    campaign type."""
    counts = once_per_data_version_of(
        organization,
        "dimension-counts",
        MeasurementFilters(start_date=None, end_date=None),
        lambda: _dimension_counts(organization),
    )
    groups = 1
    for name in params.dimensions:
        if name in ("product", "campaign_type") and "campaign" in params.dimensions:
            continue
        named = len(getattr(filters, DIMENSION_FILTERS[name]))
        groups *= min(counts[name], named) if named else counts[name]
    return groups


def _dimension_counts(organization: Organization) -> dict[str, int]:
    found = dimensions_get(organization=organization)
    return {
        "product": len(found.products),
        "campaign": len({campaign.name for campaign in found.campaigns}),
        "campaign_type": len(found.campaign_types),
        "channel": len(found.channels),
    }


def _report(
    organization: Organization, filters: MeasurementFilters, params: ReportParams
) -> Report:
    filters.check_date_range()
    params.check(filters)
    dimensions = params.dimensions
    first, last = filters.start_date, filters.end_date
    if first is None or last is None:
        # The days of the shares' denominators, which hold every row's days too.
        days = measurement_days(organization=organization, filters=_of_every_group(filters, params))
        if not days.days:
            return Report([], _metrics(params, NO_SUMS, 0.0), None)
        first = first or datetime.date.fromordinal(days.days[0])
        last = last or datetime.date.fromordinal(days.days[-1])
    current = _range(organization, filters, params, first, last)
    calendar = _Calendar(params.granularity, filters.start_date, filters.end_date)
    previous = previous_totals = None
    if params.compared:
        start, end = params.comparison_range(filters)
        compared = filters.model_copy(update={"start_date": start, "end_date": end})
        calendar = _Calendar(
            params.granularity,
            filters.start_date,
            filters.end_date,
            comparison=(start, end),
            shift=None if params.compare == "previous_year" else params.comparison_shift(filters),
        )
        read = compared
        if params.compare == "previous_year" and params.granularity == "week":
            weeks = _weeks_before(first, last)
            if weeks[0] and weeks[1] and weeks[0] <= weeks[1]:
                read = filters.model_copy(update={"start_date": weeks[0], "end_date": weeks[1]})
        previous = _range(organization, read, params, first, last, calendar=calendar)
        previous_totals = _range_totals(organization, compared, params)
    groups = {key[1:] for key in current.sums}
    if previous is not None:
        groups |= {key[1:] for key in previous.sums}
    if params.filled:
        if not dimensions:
            groups = {()}
        if len(groups) * len(current.periods) > MAX_REPORT_ROWS:
            raise too_large(MAX_REPORT_ROWS)
        keys = {(period, *group) for period in current.periods for group in groups}
    else:
        keys = set(current.sums) | (set(previous.sums) if previous else set())
        if len(keys) > MAX_REPORT_ROWS:
            raise too_large(MAX_REPORT_ROWS)
    # Each row's metrics once: the order and the rows read them.
    metrics = {key: _values(key, params, current) for key in keys}
    ordered = _ordered(list(keys), params, metrics)
    rows = [_row(key, params, metrics[key], previous, calendar) for key in ordered]
    return Report(rows, _totals(params, current), previous_totals)


def _weeks_before(
    first: datetime.date, last: datetime.date
) -> tuple[datetime.date | None, datetime.date | None]:
    """The days that a week report compares with a year before: the ISO weeks of the same
    numbers, from the weekday of ``first`` in the first week to that of ``last`` in the
    last (a week that the range cuts is compared with the same days of its week), whether
    or not they lie in the comparison range. None where there is no such week."""
    monday = period_start(first, "week")
    start = same_period_a_year_apart(monday, "week", -1)
    if start is not None:
        start += first - monday
    else:
        start = same_period_a_year_apart(monday + ONE_WEEK, "week", -1)
    monday = period_start(last, "week")
    end = same_period_a_year_apart(monday, "week", -1)
    if end is not None:
        end += last - monday
    else:
        end = same_period_a_year_apart(monday - ONE_WEEK, "week", -1)
        end = end + ONE_WEEK - ONE_DAY if end is not None else None
    return start, end


ONE_DAY = datetime.timedelta(days=1)
ONE_WEEK = datetime.timedelta(days=7)


@dataclass(frozen=True)
class _Calendar:
    """The periods of a report's rows against the range, and with a comparison, the
    comparison period of each: the same calendar period a year before (``shift`` None), or
    the period ``shift`` earlier."""

    granularity: str
    start: datetime.date | None
    end: datetime.date | None
    comparison: tuple[datetime.date, datetime.date] | None = None
    shift: datetime.timedelta | None = None

    def counterpart(self, start: datetime.date) -> tuple[datetime.date, datetime.date] | None:
        """The first and last day of the comparison period of the period that starts on
        ``start`` (not ``total``); None where it has none (29 February, ISO week 53)."""
        if self.shift is not None:
            return start - self.shift, period_end(start, self.granularity) - self.shift
        earlier = same_period_a_year_apart(start, self.granularity, -1)
        return None if earlier is None else (earlier, period_end(earlier, self.granularity))

    def row_period(self, compared_start: datetime.date) -> datetime.date | None:
        """The period of the range that a comparison period (of ``previous_year``) is
        compared with."""
        return same_period_a_year_apart(compared_start, self.granularity, 1)

    def partial(self, start: datetime.date) -> bool:
        """Whether the period starting on ``start`` is cut by the range, or its comparison
        period by the comparison range."""
        if self.granularity == "total":
            return False
        end = period_end(start, self.granularity)
        cut = bool((self.start and start < self.start) or (self.end and end > self.end))
        if self.comparison is not None:
            counterpart = self.counterpart(start)
            if counterpart is not None:
                cut |= counterpart[0] < self.comparison[0] or counterpart[1] > self.comparison[1]
        return cut


def _range(
    organization: Organization,
    filters: MeasurementFilters,
    params: ReportParams,
    first: datetime.date,
    last: datetime.date,
    calendar: _Calendar | None = None,
) -> _Range:
    """The sums of the filters' days per period of the range ``first`` to ``last`` (the
    filters' dates or the data's; the total period starts on ``first``). With the
    ``calendar`` of a comparison, the filters are the comparison range's, and each sum is
    put under the period of the range that it is compared with."""
    granularity = params.granularity
    periods: list[datetime.date] = []
    if params.filled or params.compared or granularity == "total":
        # Listed only to fill or to match periods, and counted before they are listed.
        if period_count(first, last, granularity) > MAX_REPORT_ROWS:
            raise too_large(MAX_REPORT_ROWS)
        periods = periods_of(first, last, granularity)
    shift_days = 0
    if calendar is not None and calendar.shift is not None and granularity != "total":
        shift_days = calendar.shift.days
    summed = partial(
        _row_period_sums,
        organization=organization,
        granularity=granularity,
        first=first,
        periods=set(periods) if calendar is not None else None,
        calendar=calendar,
        shift_days=shift_days,
    )
    sums = summed(filters=filters, dimensions=params.dimensions, spend=params.with_spend)
    denominators: dict[datetime.date, float] = defaultdict(float)
    if "share" in params.chosen_metrics:
        relaxed = _of_every_group(filters, params)
        of_every_group = sums
        if relaxed != filters:
            of_every_group = summed(filters=relaxed, dimensions=[], spend=False)
        for key, (conversions, _, _) in of_every_group.items():
            denominators[key[0]] += conversions
    return _Range(sums, periods, dict(denominators))


def _row_period_sums(
    *,
    organization: Organization,
    filters: MeasurementFilters,
    dimensions: list[str],
    spend: bool,
    granularity: str,
    first: datetime.date,
    periods: set[datetime.date] | None,
    calendar: _Calendar | None,
    shift_days: int,
) -> Sums:
    """``report_sums`` keyed by the start of the row's period: ``first`` for total; for a
    comparison a year before, the same period a year later (none for 29 February and a week
    53 without counterpart); for a shifted one, the period of the days ``shift_days`` later
    (computed in SQL). With ``periods``, sums outside the range's periods are left out."""
    sums = report_sums(
        organization=organization,
        filters=filters,
        dimensions=dimensions,
        granularity=granularity,
        limit=MAX_REPORT_ROWS,
        spend=spend,
        shift_days=shift_days,
    )
    if granularity == "total":
        return {(first, *key[1:]): value for key, value in sums.items()}
    if calendar is not None and calendar.shift is None:
        moved = {}
        for key, value in sums.items():
            start = calendar.row_period(key[0])
            if start is not None:
                moved[(start, *key[1:])] = value
        sums = moved
    if periods is not None:
        sums = {key: value for key, value in sums.items() if key[0] in periods}
    return sums


def _range_totals(
    organization: Organization, filters: MeasurementFilters, params: ReportParams
) -> Metrics:
    """The metrics of every day of the filters' range, summed whole (not from rows)."""
    summed = partial(
        report_sums,
        organization=organization,
        dimensions=[],
        granularity="total",
        limit=MAX_REPORT_ROWS,
    )
    sums = summed(filters=filters, spend=params.with_spend).get((None,), NO_SUMS)
    denominator = sums[0]
    relaxed = _of_every_group(filters, params)
    if "share" in params.chosen_metrics and relaxed != filters:
        denominator = summed(filters=relaxed, spend=False).get((None,), NO_SUMS)[0]
    return _metrics(params, sums, denominator)


def _of_every_group(filters: MeasurementFilters, params: ReportParams) -> MeasurementFilters:
    """The filters without those on the report's dimensions: a share's denominator."""
    return filters.model_copy(update={DIMENSION_FILTERS[name]: [] for name in params.dimensions})


NO_SUMS = (0.0, 0, None)
"""The sums of a group without measurements in a period: no conversions, no known spend."""


def _values(key: Key, params: ReportParams, found: _Range) -> Metrics:
    return _metrics(params, found.sums.get(key, NO_SUMS), found.denominators.get(key[0], 0.0))


def _metrics(
    params: ReportParams, sums: tuple[float, int, Decimal | None], denominator: float
) -> Metrics:
    """The chosen metrics of summed conversions, measurements and spend (None: unknown).
    The spend is summed exactly (``Decimal`` cents) and given as the float nearest to it,
    which JSON writes with at most two decimals. ROAS is conversions per unit of spend,
    rounded to ``ROAS_DECIMALS``; CPA spend per conversion, rounded to the cent (both to
    the nearest, ties to even: ``round``); each is None where its divisor is 0 or the spend
    is unknown."""
    conversions, measurements, summed_spend = sums
    spend = None if summed_spend is None else float(summed_spend)
    every: Metrics = {
        "conversions": conversions,
        "measurements": measurements,
        "share": conversions / denominator if denominator else 0.0,
        "spend": spend,
        "roas": round(conversions / spend, ROAS_DECIMALS) if spend else None,
        "cpa": round(spend / conversions, 2) if spend is not None and conversions else None,
    }
    return {name: every[name] for name in params.chosen_metrics}


def _totals(params: ReportParams, found: _Range) -> Metrics:
    spend = None
    for value in found.sums.values():
        spend = known_sum(spend, value[2])
    sums = (
        sum(value[0] for value in found.sums.values()),
        sum(value[1] for value in found.sums.values()),
        spend,
    )
    return _metrics(params, sums, sum(found.denominators.values()))


def _change(now: Metrics, before: Metrics) -> Metrics:
    """The relative change of each metric; None where either value is unknown or the
    previous one is 0."""
    changes: Metrics = {}
    for name, value in now.items():
        earlier = before[name]
        changes[name] = (value - earlier) / earlier if value is not None and earlier else None
    return changes


def _row(
    key: Key,
    params: ReportParams,
    metrics: Metrics,
    previous: _Range | None,
    calendar: _Calendar,
) -> dict[str, Any]:
    """A row; with a comparison, ``previous`` and ``change`` are null where nothing was
    measured in the comparison period (or there is none), and ``partial`` says whether the
    period or its comparison period is cut by its range."""
    row: dict[str, Any] = dict(zip(params.dimensions, key[1:], strict=True))
    if params.granularity != "total":
        row["period"] = period_label(key[0], params.granularity)
    row["period_start"] = key[0]
    row.update(metrics)
    if previous is not None:
        if key in previous.sums:
            before = _values(key, params, previous)
            row["previous"] = before
            row["change"] = _change(metrics, before)
        else:
            row["previous"] = row["change"] = None
    if params.granularity != "total" or previous is not None:
        row["partial"] = calendar.partial(key[0])
    return row


def _ordered(keys: list[Key], params: ReportParams, metrics: dict[Key, Metrics]) -> list[Key]:
    """The keys in the chosen order, then by period and dimensions: one stable sort per
    chosen key, the last one first, over keys sorted by period and dimensions. A metric
    that is None (an unknown spend, ROAS or CPA) sorts last, ascending or descending."""
    keys.sort()
    position = {"period": 0} | {name: index + 1 for index, name in enumerate(params.dimensions)}
    for name in reversed(params.order_by):
        bare = name.removeprefix("-")
        descending = name.startswith("-")
        if bare in position:
            sort_key: Any = itemgetter(position[bare])
        else:
            values = {key: metrics[key][bare] for key in keys}
            sort_key = partial(_none_last, values, descending)
        keys.sort(key=sort_key, reverse=descending)
    return keys


def _none_last(values: dict[Key, float | None], descending: bool, key: Key) -> tuple[bool, float]:
    """A sort key that puts None after every number, in either direction."""
    value = values[key]
    if value is None:
        return (not descending, 0.0)
    return (descending, value)
