"""The one filter set that every measurement endpoint and selector uses: the names to match
and the date range, which accepts any ISO date (see ``measurements.dates``)."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Annotated

from django.db.models import Q
from ninja import Field, Schema
from pydantic import AfterValidator, BeforeValidator, model_validator

from marketing_op.core.exceptions import InvalidFilterError
from marketing_op.measurements.dates import FIRST_DAY, LAST_DAY
from marketing_op.measurements.names import name_normalised

DATE_ORDER_MESSAGE = "End date should be greater than start date"

MEASUREMENT_NAME_FIELDS = {
    "products": "product_name",
    # Through the campaign, whose index finds a campaign's few rows in any table.
    "campaigns": "campaign__name",
    "campaign_types": "campaign_type",
    "channels": "channel_name",
}
BEFORE_THE_DATA = FIRST_DAY - datetime.timedelta(days=1)
AFTER_THE_DATA = LAST_DAY + datetime.timedelta(days=1)

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date_only(value: object) -> object:
    """Dates as the contract writes them (2021-01-31); no timestamps or date-times."""
    if isinstance(value, str) and not ISO_DATE.fullmatch(value):
        raise ValueError("must be a date of the form YYYY-MM-DD")
    return value


FilterDate = Annotated[datetime.date, BeforeValidator(_iso_date_only)]

FilterName = Annotated[
    str, Field(max_length=200, pattern=r"^[^\x00]*$"), AfterValidator(name_normalised)
]
"""A name as stored: at most 200 characters, never a NUL (which no database can compare),
in Unicode's composed form (NFC), as names are stored (``measurements.names``)."""


class MeasurementFilters(Schema):
    products: list[FilterName] = Field(
        default_factory=list, description="Product names; any of them."
    )
    campaigns: list[FilterName] = Field(
        default_factory=list, description="Campaign names; any of them."
    )
    campaign_types: list[FilterName] = Field(
        default_factory=list, description="Campaign types; any of them."
    )
    channels: list[FilterName] = Field(
        default_factory=list, description="Channel names; any of them."
    )
    start_date: FilterDate | None = Field(None, description="First day, inclusive.")
    end_date: FilterDate | None = Field(None, description="Last day, inclusive.")

    @model_validator(mode="after")
    def _within_the_calendar(self) -> MeasurementFilters:
        """Dates beyond the calendar's bounds become the day just beyond them, which holds no
        data: the range selects the same rows, a range wholly outside selects nothing, and
        every week computed from a date stays far from the ends of the calendar. Dates out
        of order are kept, for :meth:`check_date_range` to refuse."""
        if not self.dates_out_of_order():
            if self.start_date:
                self.start_date = min(max(self.start_date, BEFORE_THE_DATA), AFTER_THE_DATA)
            if self.end_date:
                self.end_date = min(max(self.end_date, BEFORE_THE_DATA), AFTER_THE_DATA)
        return self

    def dates_out_of_order(self) -> bool:
        return bool(self.start_date and self.end_date and self.start_date > self.end_date)

    def check_date_range(self) -> None:
        if self.dates_out_of_order():
            raise InvalidFilterError(DATE_ORDER_MESSAGE)

    def without_channels(self) -> MeasurementFilters:
        """The same filters for every channel: the denominator of a channel's share."""
        return self.model_copy(update={"channels": []})

    def names_q(self, fields: Mapping[str, str]) -> Q:
        """The name filters as a condition; ``fields`` maps each filter (``products``,
        ``campaigns``, ``campaign_types``, ``channels``) to the field that holds its names."""
        condition = Q()
        for name, field in fields.items():
            values = getattr(self, name)
            if values:
                condition &= Q(**{f"{field}__in": values})
        return condition

    def as_q(self) -> Q:
        """The filters as a condition on Measurement rows."""
        self.check_date_range()
        condition = self.names_q(MEASUREMENT_NAME_FIELDS)
        if self.start_date:
            condition &= Q(date__gte=self.start_date)
        if self.end_date:
            condition &= Q(date__lte=self.end_date)
        return condition
