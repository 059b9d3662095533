"""Pages of the measurements list (``GET /api/marketing/measurements/``), in the documented
order: date, then product, campaign type, campaign and channel.

The measurement row carries those names, and its unique index holds (organisation, date,
product, campaign type, campaign, channel): the list in order. A page is found from the
rows per day (``summaries.measurement_days``, once per data version): the day that holds
its first row, how many rows of that day come before it, and the last day it can reach;
then one SQL query reads that range of the index. A cursor names the last row seen; the next
page starts right after it in the index, whatever its depth. An export reads every row
of the list through the same index, a chunk at a time (:func:`measurement_rows`).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence
from contextlib import nullcontext
from typing import Any

import psycopg
from django.db import connections, transaction

from marketing_op.accounts.models import Organization
from marketing_op.core.database_routing import data_read_alias
from marketing_op.core.exceptions import InvalidFilterError
from marketing_op.core.pagination import NOT_OUR_CURSOR, CursorPageParams, PageRows
from marketing_op.measurements.filters import BEFORE_THE_DATA, MeasurementFilters
from marketing_op.measurements.models import Measurement
from marketing_op.measurements.reads.summaries import measurement_days

MEASUREMENT_ORDER = ("date", "product_name", "campaign_type", "campaign_name", "channel_name")
LISTED = (*MEASUREMENT_ORDER, "conversions", "spend")
IN_LIST_ORDER = ", ".join(f"m.{field}" for field in MEASUREMENT_ORDER)
PAGE = (
    f"SELECT {', '.join(f'm.{field}' for field in LISTED)} "  # noqa: S608 - constant SQL
    "FROM measurements_measurement m WHERE m.organization_id = %s AND m.date >= %s"
    "{conditions} "
    f"ORDER BY {IN_LIST_ORDER} LIMIT %s OFFSET %s"
)
"""One page: a range of the unique index (organisation, date, names), which holds the list
in order. The conditions are constant SQL with bound values (see :func:`_conditions`)."""
EVERY_ROW = (
    "SELECT {fields} FROM measurements_measurement m "  # noqa: S608 - constant SQL
    "WHERE m.organization_id = %s AND m.date >= %s{conditions} "
    f"ORDER BY {IN_LIST_ORDER}"
)
"""Every row of the list, in order: the same range of the index as a page, to its end. The
fields are columns of the measurements (checked) and the conditions constant SQL."""
NAME_COLUMNS = {
    "products": "m.product_name",
    "campaign_types": "m.campaign_type",
    "channels": "m.channel_name",
}
NAMED_CAMPAIGNS = (
    " AND m.campaign_id IN (SELECT c.id FROM measurements_campaign c "
    "WHERE c.organization_id = %s AND c.name IN ({names}))"
)
"""Campaigns through the campaign index, which finds a campaign's few rows in any table."""
AFTER_ROW = f" AND ({IN_LIST_ORDER}) > (%s, %s, %s, %s, %s)"
"""After a row in list order: one comparison of the index's columns, where the scan starts."""


def measurement_page(
    *, organization: Organization, filters: MeasurementFilters, page: CursorPageParams
) -> PageRows:
    """One page of the measurements list: at ``page.offset``, or after ``page.cursor``."""
    page.check()
    days = measurement_days(organization=organization, filters=filters)
    after: tuple[Any, ...] | None = None
    if page.cursor:
        after = _cursor_row(page.cursor_values())
        first = max(after[0], filters.start_date) if filters.start_date else after[0]
        skip = 0
        last = days.day_reaching(days.rows_through(first) + page.wanted)
    else:
        start = days.day_of_row(page.offset)
        if start is None:
            return PageRows([], days.total, MEASUREMENT_ORDER)
        first, skip = start
        last = days.day_reaching(page.offset + page.wanted)
    conditions, values = _conditions(organization, filters, last or filters.end_date, after)
    with connections[data_read_alias()].cursor() as cursor:
        cursor.execute(
            PAGE.format(conditions=conditions),
            [organization.pk, first, *values, page.wanted, skip],
        )
        rows = [dict(zip(LISTED, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        if not isinstance(row["date"], datetime.date):  # SQLite answers text
            row["date"] = datetime.date.fromisoformat(row["date"])
    return PageRows(rows, days.total, MEASUREMENT_ORDER)


def measurement_rows(
    *,
    organization: Organization,
    filters: MeasurementFilters,
    fields: Sequence[str],
    chunk_rows: int,
    database: str,
) -> Iterator[list[tuple[Any, ...]]]:
    """Every row of the measurements list, in list order, as tuples of the measurement's
    ``fields`` (columns of its table), ``chunk_rows`` at a time: one query, so the rows are
    those of one moment whatever imports run meanwhile, and memory stays flat whatever the
    number of rows. ``database`` is the alias to read from (``data_read_alias()``, taken
    before the rows are: they are read after the request has left the view).

    On PostgreSQL the rows come through a server-side cursor inside a transaction: outside
    one, the cursor would have to outlive its transaction, and the server would compute and
    keep every row before sending the first. (SQLite reads one statement's snapshot without
    one, and its transactions here would hold the write lock.)"""
    known = {field.column for field in Measurement._meta.concrete_fields}
    unknown = [field for field in fields if field not in known]
    if unknown:
        raise ValueError(f"not a column of the measurements: {', '.join(unknown)}")
    filters.check_date_range()
    conditions, values = _conditions(organization, filters, filters.end_date, None)
    query = EVERY_ROW.format(
        fields=", ".join(f"m.{field}" for field in fields), conditions=conditions
    )
    reading = connections[database]
    held = transaction.atomic(using=database) if reading.vendor == "postgresql" else nullcontext()
    with held, reading.chunked_cursor() as cursor:
        cursor.execute(query, [organization.pk, filters.start_date or BEFORE_THE_DATA, *values])
        while rows := cursor.fetchmany(chunk_rows):
            yield rows


COPY_CHUNK_BYTES = 1 << 20
"""About how many bytes of CSV text :func:`measurement_rows_copied` hands on at a time."""


def measurement_rows_copied(
    *,
    organization: Organization,
    filters: MeasurementFilters,
    cells: Sequence[tuple[str, str]],
    database: str,
) -> Iterator[tuple[bytes, int]]:
    """PostgreSQL only: every row of the measurements list, in list order, as CSV text that
    the server writes itself (``COPY (SELECT ...) TO STDOUT``): a header of the cells'
    names, then a line per row, each cell an SQL expression over the measurement ``m``
    (constant text of the caller's). Dates are ISO dates and floats their shortest exact
    text. Handed on about ``COPY_CHUNK_BYTES`` at a time, whole lines, each chunk with the
    number of rows it holds; one query, so the rows are those of one moment. ``database``
    as for :func:`measurement_rows`.

    The server does the work that Python would do per row (reading, formatting, quoting),
    so this is several times faster than :func:`measurement_rows` and a writer in Python.
    Sorting is off for the query: the rows then come in the order of the unique index,
    from the first byte on, where the planner would otherwise often prefer to read the
    whole table and sort a long range (on 10,000,000 rows, 1,000,000 took 1.7 s that way
    against 0.45 s along the index)."""
    filters.check_date_range()
    conditions, values = _conditions(organization, filters, filters.end_date, None)
    select = EVERY_ROW.format(
        fields=", ".join(f'{expression} AS "{name}"' for name, expression in cells),
        conditions=conditions,
    )
    with transaction.atomic(using=database), connections[database].cursor() as cursor:
        cursor.execute("SET LOCAL DateStyle = 'ISO'")
        cursor.execute("SET LOCAL extra_float_digits = 1")
        cursor.execute("SET LOCAL enable_sort = off")
        raw = cursor.cursor
        query = psycopg.ClientCursor(raw.connection).mogrify(
            select, [organization.pk, filters.start_date or BEFORE_THE_DATA, *values]
        )
        with raw.copy(f"COPY ({query}) TO STDOUT (FORMAT csv, HEADER true)") as copy:
            parts: list[Any] = []
            size, rows = 0, -1  # the header is no row
            for line in copy:  # one message (a buffer of its own) per line
                parts.append(line)
                size += len(line)
                rows += 1
                if size >= COPY_CHUNK_BYTES:
                    yield b"".join(parts), rows
                    parts, size, rows = [], 0, 0
            if parts:
                yield b"".join(parts), rows


def _conditions(
    organization: Organization,
    filters: MeasurementFilters,
    last: datetime.date | None,
    after: tuple[Any, ...] | None,
) -> tuple[str, list[Any]]:
    """The filters (and the last day, and the cursor's row) as SQL conditions and values."""
    conditions = ""
    values: list[Any] = []
    if last is not None:
        conditions += " AND m.date <= %s"
        values.append(last)
    for name, column in NAME_COLUMNS.items():
        names = getattr(filters, name)
        if names:
            conditions += f" AND {column} IN ({', '.join(['%s'] * len(names))})"
            values += names
    if filters.campaigns:
        conditions += NAMED_CAMPAIGNS.format(names=", ".join(["%s"] * len(filters.campaigns)))
        values += [organization.pk, *filters.campaigns]
    if after is not None:
        conditions += AFTER_ROW
        values += after
    return conditions, values


def _cursor_row(values: list[str]) -> tuple[datetime.date, str, str, str, str]:
    """The row a cursor names: its date and names."""
    if len(values) != len(MEASUREMENT_ORDER):
        raise InvalidFilterError(NOT_OUR_CURSOR)
    try:
        day = datetime.date.fromisoformat(values[0])
    except ValueError as error:
        raise InvalidFilterError(NOT_OUR_CURSOR) from error
    return day, values[1], values[2], values[3], values[4]
