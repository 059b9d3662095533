"""Reads of measurements. Every selector is scoped to one organisation, which it requires."""

from __future__ import annotations

import datetime
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, DateField, Exists, F, Max, Min, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Cast, TruncWeek

from marketing_op.accounts.models import Organization
from marketing_op.core.caching import data_cache_key, once_per_data_version
from marketing_op.core.exceptions import InvalidFilterError
from marketing_op.core.pagination import MAX_PAGE_SIZE, NOT_OUR_CURSOR
from marketing_op.measurements.filters import MeasurementFilters
from marketing_op.measurements.models import (
    Campaign,
    CampaignChannel,
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
Cached = TypeVar("Cached", int, float, dict, list, tuple)


def _per_data_version(organization: Organization, kind: str, filters: MeasurementFilters) -> str:
    return data_cache_key(organization, f"totals-{kind}", filters.model_dump_json())


def _once_per_data_version(key: str, compute: Callable[[], Cached]) -> Cached:
    return once_per_data_version(key, compute, TOTALS_CACHE_SECONDS)


def measurement_count(*, organization: Organization, filters: MeasurementFilters) -> int:
    """How many measurements match: summed from the rows per day (see
    :func:`measurement_days`), once per data version."""
    filters.check_date_range()
    return _once_per_data_version(
        _per_data_version(organization, "count", filters),
        lambda: sum(
            rows for _, rows in measurement_days(organization=organization, filters=filters)
        ),
    )


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

    @property
    def parts(self) -> list[QuerySet]:
        """The weekly and the daily rows, leaving out a part that the dates leave empty."""
        return [part for part in (self.weekly, self.daily) if not part.query.is_empty()]


def summary_reads(
    *, organization: Organization, filters: MeasurementFilters
) -> SummaryReads | None:
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


SEEK_FROM_OFFSET = 1_000


def measurement_days(
    *, organization: Organization, filters: MeasurementFilters
) -> list[tuple[int, int]]:
    """(day as an ordinal, matching rows) of every day with matching measurements, first to
    last, once per data version: one read of the daily summary, or, when the filters name
    campaigns (which the summaries do not keep), of those campaigns' measurements through
    the campaign index (a campaign has at most one row per day and channel)."""

    def days() -> list[tuple[int, int]]:
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
        return [(day.toordinal(), rows) for day, rows in counted.order_by("date")]

    return _once_per_data_version(_per_data_version(organization, "days", filters), days)


def measurement_seek(
    *, organization: Organization, filters: MeasurementFilters, offset: int
) -> tuple[datetime.date | None, int]:
    """Where a page deep in the measurements starts: the first date to read, and how many
    matching rows lie before it, counted from the rows per day, so that ``offset`` skips
    whole days without reading them; (None, 0) when the page is near the start."""
    if offset < SEEK_FROM_OFFSET:
        return None, 0
    before = 0
    for ordinal, rows in measurement_days(organization=organization, filters=filters):
        if before + rows > offset:
            return datetime.date.fromordinal(ordinal), before
        before += rows
    return None, 0


def measurement_list_from_offset(
    *, organization: Organization, filters: MeasurementFilters, offset: int
) -> tuple[QuerySet | MeasurementDays, int]:
    """The measurement list from the day that holds row ``offset``, and how many matching
    rows lie before that day (see :func:`measurement_seek`). On PostgreSQL, unless the
    filters name campaigns, the list is read day by day (:class:`MeasurementDays`)."""
    first_date, skipped = measurement_seek(
        organization=organization, filters=filters, offset=offset
    )
    if connection.vendor == "postgresql" and not filters.campaigns:
        days = MeasurementDays(organization=organization, filters=filters, first_day=first_date)
        return days, skipped
    rows = measurement_list(organization=organization, filters=filters)
    if first_date is None:
        return rows, 0
    return rows.filter(date__gte=first_date), skipped


CAMPAIGN_CHANNEL_NAME_COLUMNS = {
    "products": "product_name",
    "campaign_types": "campaign_type",
    "channels": "channel_name",
}
LISTED_COLUMNS = (
    "SELECT s.product_name, s.campaign_type, s.campaign_name, s.channel_name, m.date, "
    "m.conversions "
)
NAMES_IN_ORDER = "s.product_name, s.campaign_type, s.campaign_name, s.channel_name"
# OFFSET 0 keeps each LATERAL subquery a subquery: one index look-up per outer row, in the
# outer row's order, instead of a join that the planner may turn into hashing a whole table.
DAY_WALK = (
    f"{LISTED_COLUMNS}FROM measurements_campaignchannel s CROSS JOIN LATERAL ("  # noqa: S608
    "SELECT m.date, m.conversions FROM measurements_measurement m "
    "WHERE m.organization_id = s.organization_id AND m.date = %(first)s "
    "AND m.campaign_id = s.campaign_id AND m.channel_id = s.channel_id OFFSET 0) m "
    "WHERE s.organization_id = %(org)s AND s.first_day <= %(first)s "
    "AND s.last_day >= %(first)s{conditions} "
    f"ORDER BY {NAMES_IN_ORDER} LIMIT %(limit)s OFFSET %(skip)s"
)
DAYS_READ_WHOLE = (
    f"{LISTED_COLUMNS}FROM measurements_measurement m CROSS JOIN LATERAL ("  # noqa: S608
    "SELECT * FROM measurements_campaignchannel s "
    "WHERE s.campaign_id = m.campaign_id AND s.channel_id = m.channel_id OFFSET 0) s "
    "WHERE m.organization_id = %(org)s AND m.date BETWEEN %(first)s AND %(last)s{conditions} "
    "ORDER BY m.date, s.list_position LIMIT %(limit)s OFFSET %(skip)s"
)
CHANNEL_IDS = (
    "SELECT ch.id FROM measurements_channel ch "
    "WHERE ch.organization_id = %(org)s AND ch.name = ANY(%(channels)s)"
)
LIST_NAMES = MEASUREMENT_ORDER[1:]
LISTED_KEYS = (*LIST_NAMES, "date", "conversions")
"""The keys of a listed row, in the order of ``LISTED_COLUMNS``."""
DAY_CHECKPOINT_ROWS = 100
"""Every so many rows of a day, the row's names are kept for offsets inside the day."""
PASSING_COST_IN_LOOKUPS = 0.15
"""What the walk pays to pass a pair that has no measurements on the day (its days tell)."""
READING_COST_IN_LOOKUPS = 1.75
"""What reading a day's row, looking its names up and sorting it costs, in look-ups of the
walk. A day is walked when the walk would cost less than reading it whole."""
QUERY_COST_IN_LOOKUPS = 200
"""What one more query costs (a round trip, planning), in look-ups of the walk: a page whose
days would each be walked in a query of their own is read whole in one query when that
costs less."""


@dataclass
class DaysRead:
    """One query of a page: one day walked, or consecutive days read whole."""

    sql: str
    first: datetime.date
    last: datetime.date
    skip: int
    names_after: tuple | None


@dataclass(frozen=True)
class MeasurementDays:
    """The measurement list of PostgreSQL, read a day at a time in the documented order.

    The daily summary says which days have matching rows, and how many. A dense day is read
    by walking the campaign-channel pairs in name order (an index) and looking each pair's
    row up, so a page reads about the rows it returns; sparse days, whose rows are few
    beside the pairs a walk would try, are read whole and sorted, a run of them in one
    query. Pages are sliced like a QuerySet; ``after`` continues after a cursor's row.
    """

    organization: Organization
    filters: MeasurementFilters
    first_day: datetime.date | None = None
    after_row: tuple | None = None
    order: tuple[str, ...] = MEASUREMENT_ORDER

    def after(self, values: list[str]) -> MeasurementDays:
        try:
            day = datetime.date.fromisoformat(values[0])
        except ValueError as error:
            raise InvalidFilterError(NOT_OUR_CURSOR) from error
        first_day = max(day, self.first_day) if self.first_day else day
        return replace(self, first_day=first_day, after_row=(day, *values[1:]))

    def __getitem__(self, window: slice) -> list[dict]:
        skip, wanted = window.start or 0, window.stop - (window.start or 0)
        rows: list[dict] = []
        for read in self._plan(skip, wanted):
            if len(rows) >= wanted:
                break
            rows += self._run(read, wanted - len(rows))
        return rows

    def _plan(self, skip: int, wanted: int) -> list[DaysRead]:
        """The queries that read rows ``skip`` to ``skip + wanted`` of the list."""
        pairs = campaign_channel_count(organization=self.organization, filters=self.filters)
        plan: list[DaysRead] = []
        plan_cost = 0.0
        reading_every_day = float(QUERY_COST_IN_LOOKUPS)
        for day, day_rows in self._days():
            names_after = None
            available = day_rows - skip
            if self.after_row and self.after_row[0] == day:
                names_after, available = self.after_row[1:], 0
            elif skip >= day_rows:
                skip -= day_rows
                continue
            elif skip >= DAY_CHECKPOINT_ROWS:
                names_after, skip = self._checkpoint(day, skip)
            rows_walked = skip + min(wanted, day_rows)
            pairs_passed = rows_walked * pairs / day_rows
            walk_cost = rows_walked + PASSING_COST_IN_LOOKUPS * pairs_passed
            reading_cost = READING_COST_IN_LOOKUPS * day_rows
            reading_every_day += reading_cost
            if walk_cost <= reading_cost:
                plan.append(DaysRead(DAY_WALK, day, day, skip, names_after))
                plan_cost += walk_cost + QUERY_COST_IN_LOOKUPS
            elif plan and plan[-1].sql == DAYS_READ_WHOLE and not names_after:
                plan[-1].last = day
                plan_cost += reading_cost
            else:
                plan.append(DaysRead(DAYS_READ_WHOLE, day, day, skip, names_after))
                plan_cost += reading_cost + QUERY_COST_IN_LOOKUPS
            # The rows after a cursor in its day are not counted: the next days are planned
            # too, and read only if the page is not full.
            wanted -= available
            skip = 0
            if wanted <= 0:
                break
        if len(plan) > 1 and reading_every_day < plan_cost:
            first = plan[0]
            return [
                DaysRead(DAYS_READ_WHOLE, first.first, plan[-1].last, first.skip, first.names_after)
            ]
        return plan

    def _checkpoint(self, day: datetime.date, skip: int) -> tuple[tuple, int]:
        """Where row ``skip`` of ``day`` is: after the names of an earlier row of the day,
        and how many rows after it. The names of every ``DAY_CHECKPOINT_ROWS``-th row of
        the day are read once per data version, so that an offset deep inside a day costs
        what a cursor costs."""

        def checkpoints() -> list[tuple]:
            whole_day = self._run(DaysRead(DAYS_READ_WHOLE, day, day, 0, None), None)
            every = whole_day[DAY_CHECKPOINT_ROWS - 1 :: DAY_CHECKPOINT_ROWS]
            return [tuple(row[name] for name in LIST_NAMES) for row in every]

        key = _per_data_version(
            self.organization, f"checkpoints-{day.isoformat()}", self.filters.without_dates()
        )
        names = _once_per_data_version(key, checkpoints)
        passed = min(skip // DAY_CHECKPOINT_ROWS, len(names))
        if not passed:
            return (), skip
        return names[passed - 1], skip - passed * DAY_CHECKPOINT_ROWS

    def _days(self) -> Iterator[tuple[datetime.date, int]]:
        """The days with matching rows from ``first_day`` on, with their row counts."""
        if self.filters.campaigns:
            raise TypeError("a campaign filter is read through the campaign index")
        first = self.first_day.toordinal() if self.first_day else 0
        for ordinal, rows in measurement_days(organization=self.organization, filters=self.filters):
            if ordinal >= first:
                yield datetime.date.fromordinal(ordinal), rows

    def _run(self, read: DaysRead, limit: int | None) -> list[dict]:
        conditions = ""
        parameters: dict[str, Any] = {
            "org": self.organization.pk,
            "first": read.first,
            "last": read.last,
            "limit": limit,
            "skip": read.skip,
        }
        for name, column in CAMPAIGN_CHANNEL_NAME_COLUMNS.items():
            if getattr(self.filters, name):
                conditions += f" AND s.{column} = ANY(%({name})s)"
                parameters[name] = list(getattr(self.filters, name))
        if self.filters.channels and read.sql is DAYS_READ_WHOLE:
            # Rows of other channels are left out before their names are looked up.
            conditions += f" AND m.channel_id IN ({CHANNEL_IDS})"
        if read.names_after:
            # After the cursor's row in its day (the first of the read), then every row.
            after = f"({NAMES_IN_ORDER}) > (%(a1)s, %(a2)s, %(a3)s, %(a4)s)"
            if read.sql is DAYS_READ_WHOLE:
                after = f"(m.date > %(first)s OR {after})"
            conditions += f" AND {after}"
            parameters.update(zip(("a1", "a2", "a3", "a4"), read.names_after, strict=True))
        with connection.cursor() as cursor:
            cursor.execute(read.sql.format(conditions=conditions), parameters)
            return [dict(zip(LISTED_KEYS, row, strict=True)) for row in cursor]


def campaign_channel_count(*, organization: Organization, filters: MeasurementFilters) -> int:
    """How many campaign-channel pairs match the filters' names, once per data version."""
    return _once_per_data_version(
        _per_data_version(organization, "campaign-channels", filters.without_dates()),
        lambda: (
            CampaignChannel.objects.filter(organization=organization)
            .filter(filters.names_q(CAMPAIGN_CHANNEL_NAME_COLUMNS))
            .count()
        ),
    )


def _channel_conversions(*, organization: Organization, filters: MeasurementFilters) -> dict:
    """Summed conversions per channel name of the rows that match."""
    summaries = summary_reads(organization=organization, filters=filters)
    parts = (
        summaries.parts
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


WEEKLY_BLOCK_ROWS = 128
"""The weekly sales are kept per data version in blocks of whole weeks: a block holds the
weeks whose first row lies in one stretch of this many rows."""


@dataclass(frozen=True)
class WeeklySalesWeeks:
    """The weeks of the weekly sales, first to last: each one's Monday (an ordinal) and the
    position of its first row, and how many rows there are in all."""

    mondays: list[int]
    starts: list[int]
    total: int

    def block_of(self, week: int) -> int:
        return self.starts[week] // WEEKLY_BLOCK_ROWS

    def weeks_of(self, block: int) -> range:
        """The positions of the weeks that make up ``block``."""
        return range(
            bisect_left(self.starts, block * WEEKLY_BLOCK_ROWS),
            bisect_left(self.starts, (block + 1) * WEEKLY_BLOCK_ROWS),
        )

    def blocks_from(self, block: int) -> Iterator[int]:
        """``block`` and the blocks after it, in order."""
        while True:
            yield block
            following = self.weeks_of(block)[-1] + 1
            if following == len(self.starts):
                return
            block = self.block_of(following)


WeeklySalesRow = tuple[int, str, float]
"""(Monday as an ordinal, channel name, conversions): a row of a block, as it is cached."""


def _weekly_sales_rows(
    *, organization: Organization, filters: MeasurementFilters
) -> list[WeeklySalesRow]:
    rows = channel_weekly_sales_list(organization=organization, filters=filters)
    return [(row["week_start"].toordinal(), row["channel_name"], row["sales"]) for row in rows]


def weekly_sales_block_key(
    organization: Organization, filters: MeasurementFilters, block: int
) -> str:
    return _per_data_version(organization, f"weekly-sales-block-{block}", filters)


def channel_weekly_sales_weeks(
    *, organization: Organization, filters: MeasurementFilters
) -> WeeklySalesWeeks:
    """Where each week of the weekly sales starts, once per data version. Reading them
    sums every week, so the blocks of rows are kept too (see :func:`_weekly_sales_block`)."""

    def weeks() -> tuple[list[int], list[int], int]:
        rows = _weekly_sales_rows(organization=organization, filters=filters)
        mondays: list[int] = []
        starts: list[int] = []
        for position, (monday, _, _) in enumerate(rows):
            if not mondays or mondays[-1] != monday:
                mondays.append(monday)
                starts.append(position)
        found = WeeklySalesWeeks(mondays, starts, len(rows))
        blocks: dict[str, list[WeeklySalesRow]] = {}
        for week, first_row in enumerate(starts):
            key = weekly_sales_block_key(organization, filters, found.block_of(week))
            following = starts[week + 1] if week + 1 < len(starts) else len(rows)
            blocks.setdefault(key, []).extend(rows[first_row:following])
        cache.set_many(blocks, TOTALS_CACHE_SECONDS)
        return mondays, starts, len(rows)

    mondays, starts, total = _once_per_data_version(
        _per_data_version(organization, "weekly-sales-weeks", filters), weeks
    )
    return WeeklySalesWeeks(mondays, starts, total)


def _weekly_sales_block(
    organization: Organization, filters: MeasurementFilters, weeks: WeeklySalesWeeks, block: int
) -> list[WeeklySalesRow]:
    """The rows of the weeks of ``block``, once per data version: summed over those weeks
    only, when the cache lacks the block that was kept with the weeks."""

    def rows() -> list[WeeklySalesRow]:
        positions = weeks.weeks_of(block)
        first_monday = datetime.date.fromordinal(weeks.mondays[positions[0]])
        last_sunday = datetime.date.fromordinal(weeks.mondays[positions[-1]]) + ONE_WEEK - ONE_DAY
        start, end = filters.start_date, filters.end_date
        block_weeks = filters.model_copy(
            update={
                "start_date": max(start, first_monday) if start else first_monday,
                "end_date": min(end, last_sunday) if end else last_sunday,
            }
        )
        return _weekly_sales_rows(organization=organization, filters=block_weeks)

    return _once_per_data_version(weekly_sales_block_key(organization, filters, block), rows)


def channel_weekly_sales_count(*, organization: Organization, filters: MeasurementFilters) -> int:
    """How many (week, channel) rows the weekly sales have."""
    return channel_weekly_sales_weeks(organization=organization, filters=filters).total


def channel_weekly_sales_from_offset(
    *, organization: Organization, filters: MeasurementFilters, offset: int
) -> tuple[list[dict], int]:
    """Rows ``offset`` to ``offset`` + the largest page (and one more) of the weekly sales,
    and ``offset``: read from the blocks of weeks that hold them, so that a page costs the
    same wherever it lies and whatever the table holds."""
    weeks = channel_weekly_sales_weeks(organization=organization, filters=filters)
    if offset >= weeks.total:
        return [], offset
    first_block = weeks.block_of(bisect_right(weeks.starts, offset) - 1)
    first_row = weeks.starts[weeks.weeks_of(first_block)[0]]
    wanted = offset - first_row + MAX_PAGE_SIZE + 1
    rows: list[WeeklySalesRow] = []
    for block in weeks.blocks_from(first_block):
        if len(rows) >= wanted:
            break
        rows += _weekly_sales_block(organization, filters, weeks, block)
    page = rows[offset - first_row : wanted]
    return [
        {
            "week_start": datetime.date.fromordinal(monday),
            "channel_name": channel,
            "sales": sales,
        }
        for monday, channel, sales in page
    ], offset


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
