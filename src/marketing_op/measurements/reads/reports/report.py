"""A report (``GET /api/marketing/reports/``): the rows of the chosen metrics per group of
the chosen dimensions and per period, with the comparison range's values, filled periods,
the chosen order, and the totals over the whole result.

The sums come from ``reports.sums`` (one GROUP BY per part); the rest is done here over at
most ``MAX_REPORT_ROWS`` rows: periods of the comparison range are matched to those of the
range by position, a row's share divides by its period's conversions under every filter
except those on the report's dimensions, ROAS and CPA divide the row's sums (None where the
divisor is 0 or unknown), and rows are sorted by the chosen keys (None last, either way),
then by period and dimensions, so that pages are stable. The whole report is computed once
per data version and set of parameters, kept in the shared cache in chunks of rows; a page
is a slice of the chunks it spans.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from operator import itemgetter
from typing import Any, cast

from django.core.cache import cache

from marketing_op.accounts.models import Organization
from marketing_op.core.caching import (
    approximate_size,
    data_cache_key,
    keep_worker_copy,
    shared_cache_seconds,
    worker_copy,
)
from marketing_op.core.pagination import PageParams, PageRows
from marketing_op.measurements.filters import MeasurementFilters
from marketing_op.measurements.reads.reports.parameters import DIMENSION_FILTERS, ReportParams
from marketing_op.measurements.reads.reports.periods import period_count, period_label, periods_of
from marketing_op.measurements.reads.reports.sums import (
    Key,
    Sums,
    known_sum,
    report_sums,
    too_large,
)
from marketing_op.measurements.reads.summaries import TOTALS_CACHE_SECONDS, measurement_days

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
    *, organization: Organization, filters: MeasurementFilters, params: ReportParams
) -> Report:
    """The whole report (an export's rows), once per data version and set of parameters."""
    key = _report_key(organization, filters, params)
    report = worker_copy(key)
    if report is not None:
        return cast(Report, report)
    head = cache.get(key)
    if isinstance(head, _Head):
        chunks = _chunks(key, range(_chunk_count(head.total)))
        if chunks is not None:
            rows = [row for chunk in chunks for row in chunk]
            return Report(rows, head.totals, head.previous_totals)
    return _computed(key, organization, filters, params)


def report_page(
    *,
    organization: Organization,
    filters: MeasurementFilters,
    params: ReportParams,
    page: PageParams,
) -> tuple[PageRows, Report]:
    """One page of the report, and the report's totals (as a ``Report`` whose rows are the
    page's): from the worker's copy of a short report, else from the shared cache's head
    and the chunks that the page spans, else computed."""
    key = _report_key(organization, filters, params)
    report = worker_copy(key)
    if report is None:
        head = cache.get(key)
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
        report = _computed(key, organization, filters, params)
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


def _computed(
    key: str, organization: Organization, filters: MeasurementFilters, params: ReportParams
) -> Report:
    """The report computed, stored in the shared cache in chunks (rows first, then the head
    that says they are there; a large report for minutes, see ``shared_cache_seconds``) and
    kept by the worker when it is short."""
    report = _report(organization, filters, params)
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
            return Report([], _metrics(params, (0.0, 0, None), 0.0), None)
        first = first or datetime.date.fromordinal(days.days[0])
        last = last or datetime.date.fromordinal(days.days[-1])
    current = _range(organization, filters, params, first, last)
    previous = None
    if params.compared:
        start, end = params.comparison_range(filters)
        compared = filters.model_copy(update={"start_date": start, "end_date": end})
        previous = _range(organization, compared, params, start, end)
        previous = _matched(previous, current.periods)
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
    ordered = _ordered(list(keys), params, current)
    rows = [_row(key, params, current, previous) for key in ordered]
    return Report(
        rows,
        _totals(params, current),
        _totals(params, previous) if previous is not None else None,
    )


def _range(
    organization: Organization,
    filters: MeasurementFilters,
    params: ReportParams,
    first: datetime.date,
    last: datetime.date,
) -> _Range:
    """The sums of the days ``first`` to ``last`` (the filters' dates or the data's), with
    the total period as starting on ``first``."""
    granularity = params.granularity
    periods: list[datetime.date] = []
    if params.filled or params.compared or granularity == "total":
        # Listed only to fill or to match periods, and counted before they are listed.
        if period_count(first, last, granularity) > MAX_REPORT_ROWS:
            raise too_large(MAX_REPORT_ROWS)
        periods = periods_of(first, last, granularity)
    sums = report_sums(
        organization=organization,
        filters=filters,
        dimensions=params.dimensions,
        granularity=granularity,
        limit=MAX_REPORT_ROWS,
        spend=params.with_spend,
    )
    if granularity == "total":
        sums = {(first, *key[1:]): value for key, value in sums.items()}
    denominators: dict[datetime.date, float] = defaultdict(float)
    if "share" in params.chosen_metrics:
        relaxed = _of_every_group(filters, params)
        of_every_group = sums
        if relaxed != filters:
            of_every_group = report_sums(
                organization=organization,
                filters=relaxed,
                dimensions=[],
                granularity=granularity,
                limit=MAX_REPORT_ROWS,
                spend=False,
            )
        for key, (conversions, _, _) in of_every_group.items():
            denominators[first if granularity == "total" else key[0]] += conversions
    return _Range(sums, periods, dict(denominators))


def _of_every_group(filters: MeasurementFilters, params: ReportParams) -> MeasurementFilters:
    """The filters without those on the report's dimensions: a share's denominator."""
    return filters.model_copy(update={DIMENSION_FILTERS[name]: [] for name in params.dimensions})


def _matched(previous: _Range, periods: list[datetime.date]) -> _Range:
    """The comparison range's sums under the periods of the range: period i to period i."""
    position = {start: index for index, start in enumerate(previous.periods)}
    renamed = {
        start: periods[position[start]]
        for start in previous.periods
        if position[start] < len(periods)
    }
    return _Range(
        sums={
            (renamed[key[0]], *key[1:]): value
            for key, value in previous.sums.items()
            if key[0] in renamed
        },
        periods=periods,
        denominators={
            renamed[start]: value
            for start, value in previous.denominators.items()
            if start in renamed
        },
    )


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
    key: Key, params: ReportParams, current: _Range, previous: _Range | None
) -> dict[str, Any]:
    row: dict[str, Any] = dict(zip(params.dimensions, key[1:], strict=True))
    if params.granularity != "total":
        row["period"] = period_label(key[0], params.granularity)
    row["period_start"] = key[0]
    metrics = _values(key, params, current)
    row.update(metrics)
    if previous is not None:
        before = _values(key, params, previous)
        row["previous"] = before
        row["change"] = _change(metrics, before)
    return row


def _ordered(keys: list[Key], params: ReportParams, current: _Range) -> list[Key]:
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
            values = {key: _values(key, params, current)[bare] for key in keys}
            sort_key = partial(_none_last, values, descending)
        keys.sort(key=sort_key, reverse=descending)
    return keys


def _none_last(values: dict[Key, float | None], descending: bool, key: Key) -> tuple[bool, float]:
    """A sort key that puts None after every number, in either direction."""
    value = values[key]
    if value is None:
        return (not descending, 0.0)
    return (descending, value)
