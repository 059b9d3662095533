"""Reports equal a naive aggregation in Python of the raw rows: every dimension subset,
every granularity, every metric (spend, ROAS and CPA over rows some of whose spend is
unknown), comparisons, fill, order and pages, under any filters."""

import datetime
import functools
import random
from collections import defaultdict
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketing_op.core.pagination import PageParams
from marketing_op.measurements.filters import MeasurementFilters
from marketing_op.measurements.reads.reports.parameters import ReportParams
from marketing_op.measurements.reads.reports.report import report_get, report_page
from tests.factories import measurement

pytestmark = pytest.mark.django_db

D = datetime.date
FIRST_DAY = D(2020, 11, 25)
DAYS = 110
ONE_DAY = datetime.timedelta(days=1)
PRODUCTS = ("cola", "lemonade")
CAMPAIGNS = (("cola", "always on", "evergreen"), ("cola", "branding", "spring"),
             ("lemonade", "branding", "summer"))  # fmt: skip
CHANNELS = ("tv", "radio", "facebook")
DIMENSIONS = ("product", "campaign_type", "campaign", "channel")
METRICS = ("conversions", "measurements", "share", "spend", "roas", "cpa")
FILTER_OF = {"product": "products", "campaign_type": "campaign_types",
             "campaign": "campaigns", "channel": "channels"}  # fmt: skip


@pytest.fixture
def raw_rows(organization):
    """About 150 measurements over 110 days (two year ends' worth of weeks and quarters);
    radio's spend is never known, the others' mostly (sometimes 0), and conversions are
    sometimes 0."""
    chooser = random.Random(14)
    rows = []
    for offset in range(DAYS):
        day = FIRST_DAY + datetime.timedelta(days=offset)
        for product, campaign_type, campaign in CAMPAIGNS:
            for channel in CHANNELS:
                if chooser.random() < 0.15:
                    conversions = round(chooser.uniform(0, 300), 2)
                    if chooser.random() < 0.1:
                        conversions = 0.0
                    spend = None if channel == "radio" else round(chooser.uniform(0, 90), 2)
                    if spend is not None and chooser.random() < 0.3:
                        spend = chooser.choice([None, 0.0])
                    measurement(organization, product=product, campaign_type=campaign_type,
                                campaign=campaign, channel=channel, date=day,
                                conversions=conversions, spend=spend)  # fmt: skip
                    rows.append({"product": product, "campaign_type": campaign_type,
                                 "campaign": campaign, "channel": channel, "date": day,
                                 "conversions": conversions, "spend": spend})  # fmt: skip
    return rows


def period_of(day: D, granularity: str) -> D:
    if granularity == "day":
        return day
    if granularity == "week":
        return day - datetime.timedelta(days=day.weekday())
    if granularity == "month":
        return D(day.year, day.month, 1)
    if granularity == "quarter":
        return D(day.year, [1, 1, 1, 4, 4, 4, 7, 7, 7, 10, 10, 10][day.month - 1], 1)
    return D(day.year, 1, 1)


def periods_between(first: D, last: D, granularity: str) -> list[D]:
    if granularity == "total":
        return [first]
    days = (first + datetime.timedelta(days=n) for n in range((last - first).days + 1))
    return sorted({period_of(day, granularity) for day in days})


def label(start: D, granularity: str) -> str:
    return {
        "day": start.isoformat(),
        "week": "{}-W{:02d}".format(*start.isocalendar()),
        "month": start.strftime("%Y-%m"),
        "quarter": f"{start.year}-Q{(start.month + 2) // 3}",
        "year": str(start.year),
    }[granularity]


def matching(rows: list[dict], filters: MeasurementFilters) -> list[dict]:
    return [
        r for r in rows
        if all(not getattr(filters, FILTER_OF[d]) or r[d] in getattr(filters, FILTER_OF[d])
               for d in DIMENSIONS)
        and (filters.start_date is None or r["date"] >= filters.start_date)
        and (filters.end_date is None or r["date"] <= filters.end_date)
    ]  # fmt: skip


def of_every_group(filters, params):
    return filters.model_copy(update={FILTER_OF[d]: [] for d in params.dimensions})


def sums_of(rows, filters, params, first, last):
    """{(period index, group): [conversions, count, known spend or None]} and {period index:
    denominator}."""
    granularity = params.granularity
    periods = periods_between(first, last, granularity)
    index = {start: n for n, start in enumerate(periods)}

    def position(day):
        return 0 if granularity == "total" else index[period_of(day, granularity)]

    sums: dict[Any, list] = defaultdict(lambda: [0.0, 0, None])
    for r in matching(rows, filters):
        key = (position(r["date"]), tuple(r[d] for d in params.dimensions))
        sums[key][0] += r["conversions"]
        sums[key][1] += 1
        if r["spend"] is not None:
            sums[key][2] = (sums[key][2] or Decimal(0)) + Decimal(str(r["spend"]))
    relaxed = of_every_group(filters, params)
    denominators: dict[int, float] = defaultdict(float)
    for r in matching(rows, relaxed):
        denominators[position(r["date"])] += r["conversions"]
    return periods, sums, denominators


def metrics_of(params, found, denominators, key):
    conversions, count, spend = found.get(key, (0.0, 0, None))
    return chosen(params, conversions, count, spend, denominators.get(key[0], 0.0))


def chosen(params, conversions, count, spend, denominator):
    every = {"conversions": conversions, "measurements": count,
             "share": conversions / denominator if denominator else 0.0,
             "spend": None if spend is None else float(spend),  # summed exactly, in cents
             "roas": None if spend is None or spend == 0
             else round(conversions / float(spend), 4),
             "cpa": None if spend is None or conversions == 0
             else round(float(spend) / conversions, 2)}  # fmt: skip
    return {m: every[m] for m in params.metrics or ["conversions"]}


def period_end(start: D, granularity: str) -> D:
    """The last day of the period that starts on ``start``, walking the days."""
    day = start
    while period_of(day + ONE_DAY, granularity) == start:
        day += ONE_DAY
    return day


def a_year_before(start: D, granularity: str) -> D | None:
    """The same calendar period a year before; None for 29 February and a week 53 of a year
    without one."""
    if granularity == "week":
        year, week, _ = start.isocalendar()
        try:
            return D.fromisocalendar(year - 1, week, 1)
        except ValueError:
            return None
    if (start.month, start.day) == (2, 29):
        return None
    return start.replace(year=start.year - 1)


def comparison_range(filters, params):
    first, last = filters.start_date, filters.end_date
    if params.compare == "previous_period":
        return first - (last - first) - ONE_DAY, first - ONE_DAY
    if params.compare == "previous_year":
        return tuple(D(d.year - 1, d.month, min(d.day, 28 if d.month == 2 else 31))
                     for d in (first, last))  # fmt: skip
    return params.compare_start_date, params.compare_end_date


def compared_days(params, filters, start: D):
    """(first, last) days of the comparison of the row period starting on ``start`` and the
    comparison period whole (to say whether it is partial), or None where it has none."""
    granularity = params.granularity
    first, last = filters.start_date, filters.end_date
    cstart, cend = comparison_range(filters, params)
    if granularity == "total":
        return (cstart, cend), (cstart, cend)
    end = period_end(start, granularity)
    inside = max(start, first), min(end, last)
    if params.compare != "previous_year":
        shift = (last - first + ONE_DAY) if params.compare else first - params.compare_start_date
        return (inside[0] - shift, inside[1] - shift), (start - shift, end - shift)
    before = a_year_before(start, granularity)
    if before is None:
        return None
    whole = before, period_end(before, granularity)
    if granularity == "week":  # the same weekdays of the ISO week of the same number
        return (before + (inside[0] - start), before + (inside[1] - start)), whole
    return (max(whole[0], cstart), min(whole[1], cend)), whole


def raw_sums(rows, filters, params, first: D, last: D):
    """(conversions, count, known spend or None) per group of the rows on days first to last,
    and the conversions of every group (a share's denominator)."""
    dated = filters.model_copy(update={"start_date": first, "end_date": last})
    sums: dict[Any, list] = defaultdict(lambda: [0.0, 0, None])
    for r in matching(rows, dated):
        key = tuple(r[d] for d in params.dimensions)
        sums[key][0] += r["conversions"]
        sums[key][1] += 1
        if r["spend"] is not None:
            sums[key][2] = (sums[key][2] or 0.0) + r["spend"]
    denominator = sum(r["conversions"] for r in matching(rows, of_every_group(dated, params)))
    return sums, denominator


def naive_report(rows, filters, params):
    matched = matching(rows, of_every_group(filters, params))
    first = filters.start_date or min((r["date"] for r in matched), default=None)
    last = filters.end_date or max((r["date"] for r in matched), default=None)
    if first is None or last is None:
        return [], totals_of(params, {}, {}), None
    periods, current, denominators = sums_of(rows, filters, params, first, last)
    previous: dict = {}
    previous_denominators: dict = {}
    whole_periods: dict = {}
    compared = bool(params.compare or params.compare_start_date)
    previous_totals = None
    if compared:
        cstart, cend = comparison_range(filters, params)
        sums, denominator = raw_sums(rows, filters, params, cstart, cend)
        previous_totals = totals_of(params, dict(sums), {0: denominator})
        for n, start in enumerate(periods):
            days = compared_days(params, filters, start)
            if days is None:
                continue
            (read_first, read_last), whole_periods[n] = days
            sums, denominator = raw_sums(rows, filters, params, read_first, read_last)
            previous_denominators[n] = denominator
            for group, value in sums.items():
                previous[(n, group)] = value

    def partial(n):
        if params.granularity == "total":
            return False
        start = periods[n]
        end = period_end(start, params.granularity)
        cut = bool((filters.start_date and start < filters.start_date)
                   or (filters.end_date and end > filters.end_date))  # fmt: skip
        if n in whole_periods:
            cstart, cend = comparison_range(filters, params)
            cut |= whole_periods[n][0] < cstart or whole_periods[n][1] > cend
        return cut

    filled = params.fill if params.fill is not None else params.granularity != "total"
    groups = {g for _, g in [*current, *previous]}
    if filled:
        groups = groups if params.dimensions else {()}
        keys = {(n, g) for n in range(len(periods)) for g in groups}
    else:
        keys = set(current) | set(previous)
    report = []
    for key in keys:
        n, group = key
        row: dict[str, Any] = dict(zip(params.dimensions, group, strict=True))
        if params.granularity != "total":
            row["period"] = label(periods[n], params.granularity)
        row["period_start"] = periods[n]
        now = metrics_of(params, current, denominators, key)
        row.update(now)
        if compared:
            if key in previous:
                before = metrics_of(params, previous, previous_denominators, key)
                row["previous"] = before
                row["change"] = {m: None if now[m] is None or before[m] in (None, 0)
                                 else (now[m] - before[m]) / before[m] for m in now}  # fmt: skip
            else:
                row["previous"] = row["change"] = None
        if params.granularity != "total" or compared:
            row["partial"] = partial(n)
        report.append(row)

    def compare(a, b):
        """By the chosen keys, then period and dimensions; an unknown value last, ascending
        or descending."""
        for name in [*params.order_by, "period", *params.dimensions]:
            bare = name.removeprefix("-")
            field = "period_start" if bare == "period" else bare
            if a[field] != b[field]:
                if a[field] is None or b[field] is None:
                    return 1 if a[field] is None else -1
                smaller = -1 if a[field] < b[field] else 1
                return -smaller if name.startswith("-") else smaller
        return 0

    return (
        sorted(report, key=functools.cmp_to_key(compare)),
        totals_of(params, current, denominators),
        previous_totals,
    )


def totals_of(params, found, denominators):
    conversions = sum(value[0] for value in found.values())
    count = sum(value[1] for value in found.values())
    known = [value[2] for value in found.values() if value[2] is not None]
    spend = sum(known) if known else None
    return chosen(params, conversions, count, spend, sum(denominators.values()))


def assert_metrics(got, want):
    """The same metrics: equal numbers (to rounding) and None in the same places."""
    assert got.keys() == want.keys()
    for name, value in want.items():
        if value is None:
            assert got[name] is None, name
        else:
            assert got[name] == pytest.approx(value, rel=1e-9, abs=1e-9), name


def assert_same(found, expected):
    assert [{k: v for k, v in r.items() if k not in (*METRICS, "previous", "change")}
            for r in found] == [
        {k: v for k, v in r.items() if k not in (*METRICS, "previous", "change")}
        for r in expected
    ]  # fmt: skip
    for got, want in zip(found, expected, strict=True):
        assert_metrics({m: got[m] for m in METRICS if m in got},
                       {m: want[m] for m in METRICS if m in want})  # fmt: skip
        for part in ("previous", "change"):
            assert (part in got) == (part in want)
            if part in want and want[part] is None:
                assert got[part] is None, part
            elif part in want:
                assert_metrics(got[part], want[part])


days = st.integers(min_value=-10, max_value=DAYS + 10).map(
    lambda n: FIRST_DAY + datetime.timedelta(days=n)
)


def names(values):
    return st.lists(st.sampled_from(values), max_size=2, unique=True)


@st.composite
def questions(draw):
    dimensions = draw(st.lists(st.sampled_from(DIMENSIONS), unique=True, max_size=4))
    metrics = draw(st.lists(st.sampled_from(METRICS), unique=True, max_size=4))
    compare = draw(st.sampled_from([None, None, "previous_period", "previous_year", "custom"]))
    first, last = sorted([draw(days), draw(days)])
    dated = compare is not None or draw(st.booleans())
    filters = MeasurementFilters(
        products=draw(names(PRODUCTS)),
        campaigns=draw(st.one_of(st.just([]), names([c for _, _, c in CAMPAIGNS]))),
        campaign_types=draw(names(("always on", "branding"))),
        channels=draw(names(CHANNELS)),
        start_date=first if dated else None,
        end_date=last if dated else None,
    )
    extra: dict[str, Any] = {}
    if compare == "custom":
        shift = datetime.timedelta(days=draw(st.integers(min_value=-120, max_value=60)))
        extra = {"compare_start_date": first + shift, "compare_end_date": last + shift}
    elif compare:
        extra = {"compare": compare}
    sortable = [*dimensions, "period", *(metrics or ["conversions"])]
    order_by = draw(st.lists(st.sampled_from(sortable), unique=True, max_size=2))
    signs = draw(st.lists(st.booleans(), min_size=len(order_by), max_size=len(order_by)))
    params = ReportParams(
        dimensions=dimensions,
        granularity=draw(st.sampled_from(["day", "week", "month", "quarter", "year", "total"])),
        metrics=metrics,
        fill=draw(st.sampled_from([None, True, False])),
        order_by=[("-" if sign else "") + name for name, sign in zip(order_by, signs, strict=True)],
        **extra,
    )
    return filters, params


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    question=questions(),
    offset=st.integers(min_value=0, max_value=200),
    page_size=st.integers(min_value=1, max_value=150),
)
def test_a_report_and_its_pages_equal_the_naive_aggregation(
    organization, raw_rows, question, offset, page_size
):
    filters, params = question
    expected, totals, previous_totals = naive_report(raw_rows, filters, params)

    report = report_get(organization=organization, filters=filters, params=params)
    page, _ = report_page(
        organization=organization,
        filters=filters,
        params=params,
        page=PageParams.model_construct(offset=offset, page_size=page_size),
    )

    assert_same(report.rows, expected)
    assert_same(page.rows, expected[offset : offset + page_size + 1])
    assert page.total == len(expected)
    assert_metrics(report.totals, totals)
    if previous_totals is None:
        assert report.previous_totals is None
    else:
        assert_metrics(report.previous_totals, previous_totals)
        # The comparison range's totals are what a total report of that range says.
        start, end = comparison_range(filters, params)
        whole = report_get(
            organization=organization,
            filters=filters.model_copy(update={"start_date": start, "end_date": end}),
            params=params.model_copy(
                update={
                    "granularity": "total",
                    "compare": None,
                    "compare_start_date": None,
                    "compare_end_date": None,
                    "order_by": [],
                }
            ),
        )
        assert_metrics(report.previous_totals, whole.totals)
