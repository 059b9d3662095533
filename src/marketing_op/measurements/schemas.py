from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ninja import Field, Schema
from pydantic import BaseModel, model_validator

from marketing_op.core.pagination import CursorPageMeta, PageMeta

HUNDREDTH = Decimal("0.01")


def share_percentage(sales: float, total: float) -> str:
    """``sales`` as a percentage of ``total``: two decimals, rounded half away from zero."""
    if not total:
        return "0.00"
    share = Decimal(sales) * 100 / Decimal(total)
    return str(share.quantize(HUNDREDTH, rounding=ROUND_HALF_UP))


class MeasurementOut(BaseModel):
    """A row of a list. The rows of lists are plain pydantic models, validated straight from
    the selectors' dicts: django-ninja's Schema would wrap and resolve every row, which costs
    more than reading the page."""

    product: str = Field(validation_alias="product_name")
    campaign_type: str
    campaign: str = Field(validation_alias="campaign_name")
    channel: str = Field(validation_alias="channel_name")
    date: datetime.date
    conversions: float
    spend: float | None = Field(description="The media spend of that day; null when unknown.")


class ChannelShareOut(BaseModel):
    channel: str
    percentage: str = Field(examples=["67.74"])

    @model_validator(mode="before")
    @classmethod
    def _from_sales(cls, row: dict[str, Any]) -> dict[str, Any]:
        return {
            "channel": row["channel_name"],
            "percentage": share_percentage(row["sales"], row["total"]),
        }


class ChannelWeeklySalesOut(BaseModel):
    channel: str
    year: int = Field(description="ISO 8601 year of the week's Monday.")
    week: int = Field(description="ISO 8601 week number.")
    sales: float

    @model_validator(mode="before")
    @classmethod
    def _from_week_start(cls, row: dict[str, Any]) -> dict[str, Any]:
        year, week, _ = row["week_start"].isocalendar()
        return {"channel": row["channel_name"], "year": year, "week": week, "sales": row["sales"]}


class MeasurementPage(Schema):
    data: list[MeasurementOut]
    meta: CursorPageMeta


class ChannelSharePage(Schema):
    data: list[ChannelShareOut]
    meta: PageMeta


class ChannelWeeklySalesPage(Schema):
    data: list[ChannelWeeklySalesOut]
    meta: PageMeta


class ReportPageMeta(PageMeta):
    totals: dict[str, float | None] = Field(description="The metrics over the whole result.")
    previous_totals: dict[str, float | None] | None = Field(
        None, description="The metrics over the comparison range; null without a comparison."
    )


class ReportPage(Schema):
    """Report rows are plain dicts: a row has only the dimensions and metrics asked for."""

    data: list[dict[str, Any]]
    meta: ReportPageMeta


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


# --- imports ---------------------------------------------------------------------------------


class ImportProblemOut(Schema):
    line: int = Field(
        description="Line of the CSV file (1 is the header); for a JSON list, "
        "the 1-based position of the row; 0 for the whole body."
    )
    column: str = Field(examples=["conversions"])
    value: str = Field(description="The offending value (long values are shortened).")
    message: str = Field(examples=["is not a number"])


class ImportSummaryOut(Schema):
    import_id: int = Field(description="Id of the import in the history.")
    rows: int = Field(description="Rows in the file.")
    inserted: int
    updated: int = Field(description="Rows that existed with another value.")
    unchanged: int = Field(description="Rows that existed with the same value.")
    deleted: int = Field(description="Rows deleted by replace=true.")
    first_date: datetime.date | None
    last_date: datetime.date | None
    sha256: str = Field(description="SHA-256 of the uploaded bytes.")
    replayed: bool = Field(
        False, description="True when an earlier import with this Idempotency-Key was returned."
    )


class ImportSummaryResponse(Schema):
    data: ImportSummaryOut


class ImportRejectedMessage(Schema):
    """A 422 for a rejected file: the first 50 problems, and how many there are in all."""

    detail: str
    errors: list[ImportProblemOut]
    error_count: int
    import_id: int | None = None


class ImportRecordOut(Schema):
    id: int
    created_at: datetime.datetime
    uploaded_by: str = Field(
        description="Username of the uploader, 'command: <login>', or 'load-demo'."
    )
    source: str = Field(description="api or command.")
    file_name: str
    file_format: str = Field(description="csv or json.")
    sha256: str
    size_bytes: int
    replace: bool
    status: str = Field(description="accepted or rejected.")
    rows: int = Field(
        description="The rows of the file; of a rejected one, those read before the import stopped."
    )
    inserted: int
    updated: int
    unchanged: int
    deleted: int
    first_date: datetime.date | None
    last_date: datetime.date | None
    duration_seconds: float
    error_count: int = Field(validation_alias="problem_count")
    errors: list[ImportProblemOut] = Field(validation_alias="problems")


class ImportRecordPage(Schema):
    data: list[ImportRecordOut]
    meta: PageMeta
