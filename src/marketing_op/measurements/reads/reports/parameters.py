"""The parameters of a report beside the filters: dimensions, granularity, metrics, the
comparison range, fill and order, and the report's page (up to 10,000 rows). Names are
checked here (422 naming the parameter); what depends on the filters, such as a comparison
needing a date range of the same length, is checked by :meth:`ReportParams.check`."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Annotated, Literal, NoReturn

from ninja import Field, Schema
from ninja.errors import ValidationError
from pydantic import AfterValidator, BeforeValidator

from marketing_op.core.pagination import PageParams
from marketing_op.measurements.filters import (
    AFTER_THE_DATA,
    BEFORE_THE_DATA,
    FilterDate,
    MeasurementFilters,
)

DIMENSIONS = ("product", "campaign_type", "campaign", "channel")
METRICS = ("conversions", "measurements", "share", "spend", "roas", "cpa")
SPEND_METRICS = frozenset({"spend", "roas", "cpa"})
"""The metrics that need the spend summed."""
DIMENSION_FILTERS = {
    "product": "products",
    "campaign_type": "campaign_types",
    "campaign": "campaigns",
    "channel": "channels",
}
"""The filter on each dimension's values."""
MAX_REPORT_PAGE_SIZE = 10_000
MAX_NAMES = 20


def _split(value: object) -> object:
    """Repeated parameters, each of which may hold names separated by commas."""
    items = value if isinstance(value, list) else [value]
    names: list[object] = []
    for item in items:
        if isinstance(item, str):
            names += [name.strip(" ") for name in item.split(",") if name.strip(" ")]
        else:
            names.append(item)
    return list(dict.fromkeys(names))


def _known(
    allowed: tuple[str, ...], what: str, signed: bool = False
) -> Callable[[list[str]], list[str]]:
    def check(names: list[str]) -> list[str]:
        seen: set[str] = set()
        for name in names:
            bare = name.removeprefix("-") if signed else name
            if bare not in allowed:
                raise ValueError(f"unknown {what} {name[:40]!r}; use {', '.join(allowed)}")
            if bare in seen:
                raise ValueError(f"{bare} is given more than once; give each {what} once")
            seen.add(bare)
        return names

    return check


Names = Annotated[list[str], BeforeValidator(_split)]


class ReportParams(Schema):
    dimensions: Annotated[Names, AfterValidator(_known(DIMENSIONS, "dimension"))] = Field(
        default_factory=list,
        max_length=MAX_NAMES,
        description="Group by product, campaign_type, campaign, channel (none: one group).",
    )
    granularity: Literal["day", "week", "month", "quarter", "year", "total"] = Field(
        "total", description="The period of a row; weeks are ISO weeks, from Monday."
    )
    metrics: Annotated[Names, AfterValidator(_known(METRICS, "metric"))] = Field(
        default_factory=list,
        max_length=MAX_NAMES,
        description="conversions, measurements, share, spend, roas, cpa (default conversions).",
    )
    compare: Literal["previous_period", "previous_year"] | None = Field(
        None, description="Compare with the days just before the range, or a year earlier."
    )
    compare_start_date: FilterDate | None = Field(None, description="First day compared with.")
    compare_end_date: FilterDate | None = Field(None, description="Last day compared with.")
    fill: bool | None = Field(
        None, description="Every period for every group, with zeros (default: not for total)."
    )
    order_by: Annotated[
        Names, AfterValidator(_known((*DIMENSIONS, "period", *METRICS), "order", signed=True))
    ] = Field(
        default_factory=list,
        max_length=MAX_NAMES,
        description="A dimension, period or metric, - for descending; repeatable.",
    )

    @property
    def chosen_metrics(self) -> list[str]:
        return self.metrics or ["conversions"]

    @property
    def with_spend(self) -> bool:
        return not SPEND_METRICS.isdisjoint(self.chosen_metrics)

    @property
    def filled(self) -> bool:
        return self.fill if self.fill is not None else self.granularity != "total"

    @property
    def compared(self) -> bool:
        return bool(self.compare or self.compare_start_date or self.compare_end_date)

    def check(self, filters: MeasurementFilters) -> None:
        """Refuse (422, naming the parameter) what the filters make impossible."""
        for name in self.order_by:
            bare = name.removeprefix("-")
            if bare in DIMENSIONS and bare not in self.dimensions:
                _refuse("order_by", f"{bare} is not one of the report's dimensions")
            if bare in METRICS and bare not in self.chosen_metrics:
                _refuse("order_by", f"{bare} is not one of the report's metrics")
        if not self.compared:
            return
        parameter = "compare" if self.compare else "compare_start_date"
        if self.compare and (self.compare_start_date or self.compare_end_date):
            _refuse("compare", "give compare or compare_start_date and compare_end_date")
        if not self.compare and not (self.compare_start_date and self.compare_end_date):
            missing = "compare_end_date" if self.compare_start_date else "compare_start_date"
            _refuse(missing, "a comparison range needs compare_start_date and compare_end_date")
        if not (filters.start_date and filters.end_date):
            _refuse(parameter, "a comparison needs a date range: give start_date and end_date")
        if self.compare is None:
            start, end = self.comparison_range(filters)
            if start > end:
                _refuse("compare_end_date", "must not be before compare_start_date")
            if end - start != filters.end_date - filters.start_date:
                _refuse(
                    "compare_end_date",
                    "the comparison range must have as many days as start_date to end_date",
                )

    def comparison_shift(self, filters: MeasurementFilters) -> datetime.timedelta:
        """How far the range lies after the comparison range (not for ``previous_year``,
        whose periods are the same calendar periods a year before)."""
        start, end = filters.start_date, filters.end_date
        if start is None or end is None:
            _refuse("compare", "a comparison needs a date range: give start_date and end_date")
        if self.compare == "previous_period":
            return end - start + ONE_DAY
        if self.compare_start_date is None:
            _refuse("compare_start_date", "give compare_start_date and compare_end_date")
        return start - self.compare_start_date

    def comparison_range(self, filters: MeasurementFilters) -> tuple[datetime.date, datetime.date]:
        """The days compared with (after :meth:`check`)."""
        start, end = filters.start_date, filters.end_date
        if start is None or end is None:
            _refuse("compare", "a comparison needs a date range: give start_date and end_date")
        if self.compare == "previous_period":
            return start - (end - start) - ONE_DAY, start - ONE_DAY
        if self.compare == "previous_year":
            return _a_year_before(start), _a_year_before(end)
        if self.compare_start_date is None or self.compare_end_date is None:
            _refuse("compare_start_date", "give compare_start_date and compare_end_date")
        return _clamped(self.compare_start_date), _clamped(self.compare_end_date)


ONE_DAY = datetime.timedelta(days=1)


def _a_year_before(day: datetime.date) -> datetime.date:
    """The same date a year earlier; 29 February becomes the 28th."""
    if day.month == 2 and day.day == 29:
        return day.replace(year=day.year - 1, day=28)
    return day.replace(year=day.year - 1)


def _clamped(day: datetime.date) -> datetime.date:
    """As the filters clamp their dates: the day just beyond the calendar holds no data."""
    return min(max(day, BEFORE_THE_DATA), AFTER_THE_DATA)


def _refuse(parameter: str, message: str) -> NoReturn:
    raise ValidationError([{"loc": ["query", parameter], "msg": message, "type": "value_error"}])


class ReportPageParams(PageParams):
    page_size: int = Field(
        100, ge=1, le=MAX_REPORT_PAGE_SIZE, description="Rows to return (1 to 10,000)."
    )
