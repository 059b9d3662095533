from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ninja import Field, Schema

from marketing_op.core.pagination import PageMeta

HUNDREDTH = Decimal("0.01")


def share_percentage(sales: float, total: float) -> str:
    """``sales`` as a percentage of ``total``: two decimals, rounded half away from zero."""
    if not total:
        return "0.00"
    share = Decimal(sales) * 100 / Decimal(total)
    return str(share.quantize(HUNDREDTH, rounding=ROUND_HALF_UP))


class MeasurementOut(Schema):
    product: str = Field(validation_alias="product_name")
    campaign_type: str
    campaign: str = Field(validation_alias="campaign_name")
    channel: str = Field(validation_alias="channel_name")
    date: datetime.date
    conversions: float


class ChannelShareOut(Schema):
    channel: str = Field(validation_alias="channel_name")
    percentage: str = Field(examples=["67.74"])

    @staticmethod
    def resolve_percentage(row: dict[str, Any]) -> str:
        return share_percentage(row["sales"], row["total"])


class ChannelWeeklySalesOut(Schema):
    channel: str = Field(validation_alias="channel_name")
    year: int = Field(description="ISO 8601 year of the week's Monday.")
    week: int = Field(description="ISO 8601 week number.")
    sales: float

    @staticmethod
    def resolve_year(row: dict[str, Any]) -> int:
        return int(row["week_start"].isocalendar().year)

    @staticmethod
    def resolve_week(row: dict[str, Any]) -> int:
        return int(row["week_start"].isocalendar().week)


class MeasurementPage(Schema):
    data: list[MeasurementOut]
    meta: PageMeta


class ChannelSharePage(Schema):
    data: list[ChannelShareOut]
    meta: PageMeta


class ChannelWeeklySalesPage(Schema):
    data: list[ChannelWeeklySalesOut]
    meta: PageMeta


class CampaignOut(Schema):
    name: str
    product: str
    campaign_type: str

    @staticmethod
    def resolve_product(campaign: Any) -> str:
        return str(campaign.product.name)


class DimensionsOut(Schema):
    products: list[str]
    campaigns: list[CampaignOut]
    campaign_types: list[str]
    channels: list[str]
    first_date: datetime.date | None
    last_date: datetime.date | None


class DimensionsResponse(Schema):
    data: DimensionsOut
