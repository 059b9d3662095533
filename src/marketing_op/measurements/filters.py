"""The one filter set that every measurement endpoint and selector uses."""

from __future__ import annotations

import datetime

from django.db.models import Q
from ninja import Field, Schema

from marketing_op.core.exceptions import InvalidFilterError

DATE_ORDER_MESSAGE = "End date should be greater than start date"


class MeasurementFilters(Schema):
    products: list[str] = Field(default_factory=list, description="Product names; any of them.")
    campaigns: list[str] = Field(default_factory=list, description="Campaign names; any of them.")
    campaign_types: list[str] = Field(
        default_factory=list, description="Campaign types; any of them."
    )
    channels: list[str] = Field(default_factory=list, description="Channel names; any of them.")
    start_date: datetime.date | None = Field(None, description="First day, inclusive.")
    end_date: datetime.date | None = Field(None, description="Last day, inclusive.")

    def check_date_range(self) -> None:
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise InvalidFilterError(DATE_ORDER_MESSAGE)

    def without_channels(self) -> MeasurementFilters:
        """The same filters for every channel: the denominator of a channel's share."""
        return self.model_copy(update={"channels": []})

    def as_q(self) -> Q:
        """The filters as a condition on Measurement rows."""
        self.check_date_range()
        condition = Q()
        if self.products:
            condition &= Q(campaign__product__name__in=self.products)
        if self.campaigns:
            condition &= Q(campaign__name__in=self.campaigns)
        if self.campaign_types:
            condition &= Q(campaign__campaign_type__in=self.campaign_types)
        if self.channels:
            condition &= Q(channel__name__in=self.channels)
        if self.start_date:
            condition &= Q(date__gte=self.start_date)
        if self.end_date:
            condition &= Q(date__lte=self.end_date)
        return condition
