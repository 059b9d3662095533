"""Pages of the measurements list (``GET /api/marketing/measurements/``), in the documented
order: date, then product, campaign type, campaign and channel.

The measurement row carries those names, and its unique index holds (organisation, date,
product, campaign type, campaign, channel): the list in order. A page is found from the
rows per day (``summaries.measurement_days``, once per data version): the day that holds
its first row, how many rows of that day come before it, and the last day it can reach;
then one query reads that range of the index. A cursor names the last row seen; the next
page starts right after it in the index, whatever its depth.
"""

from __future__ import annotations

import datetime

from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL

from marketing_op.accounts.models import Organization
from marketing_op.core.exceptions import InvalidFilterError
from marketing_op.core.pagination import NOT_OUR_CURSOR, CursorPageParams, PageRows
from marketing_op.measurements.filters import MeasurementFilters
from marketing_op.measurements.reads.summaries import measurement_base, measurement_days

MEASUREMENT_ORDER = ("date", "product_name", "campaign_type", "campaign_name", "channel_name")
AFTER_ROW = "({}) > (%s, %s, %s, %s, %s)".format(
    ", ".join(f'"measurements_measurement"."{field}"' for field in MEASUREMENT_ORDER)
)
"""After a row in list order: one comparison of the index's columns, where the index scan
starts."""


def measurement_list(*, organization: Organization, filters: MeasurementFilters) -> QuerySet:
    """Every matching measurement in the documented order."""
    return (
        measurement_base(organization=organization, filters=filters)
        .order_by(*MEASUREMENT_ORDER)
        .values(*MEASUREMENT_ORDER, "conversions")
    )


def measurement_page(
    *, organization: Organization, filters: MeasurementFilters, page: CursorPageParams
) -> PageRows:
    """One page of the measurements list: at ``page.offset``, or after ``page.cursor``."""
    page.check()
    days = measurement_days(organization=organization, filters=filters)
    rows = measurement_list(organization=organization, filters=filters)
    if page.cursor:
        after = _cursor_row(page.cursor_values())
        first, skip = after[0], 0
        last = days.day_reaching(days.rows_through(first) + page.wanted)
        # Constant SQL; the values are bound parameters.
        after_row = RawSQL(AFTER_ROW, after, output_field=BooleanField())  # noqa: S611
        rows = rows.filter(after_row)
    else:
        start = days.day_of_row(page.offset)
        if start is None:
            return PageRows([], days.total, MEASUREMENT_ORDER)
        first, skip = start
        last = days.day_reaching(page.offset + page.wanted)
    rows = rows.filter(date__gte=first)
    if last is not None:
        rows = rows.filter(date__lte=last)
    return PageRows(list(rows[skip : skip + page.wanted]), days.total, MEASUREMENT_ORDER)


def _cursor_row(values: list[str]) -> tuple[datetime.date, str, str, str, str]:
    """The row a cursor names: its date and names."""
    if len(values) != len(MEASUREMENT_ORDER):
        raise InvalidFilterError(NOT_OUR_CURSOR)
    try:
        day = datetime.date.fromisoformat(values[0])
    except ValueError as error:
        raise InvalidFilterError(NOT_OUR_CURSOR) from error
    return day, values[1], values[2], values[3], values[4]
