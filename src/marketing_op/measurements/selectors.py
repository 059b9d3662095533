"""Reads of measurements. Every selector is scoped to one organisation, which it requires."""

from __future__ import annotations

import datetime
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar, cast

from django.core.cache import cache
from django.db.models import Exists, F, FloatField, Max, Min, OuterRef, QuerySet, Sum, Value
from django.db.models.functions import Coalesce, TruncWeek

from marketing_op.accounts.models import Organization
from marketing_op.measurements.filters import MeasurementFilters
from marketing_op.measurements.models import (
    Campaign,
    Channel,
    ImportRecord,
    Measurement,
    Product,
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
Number = TypeVar("Number", int, float)


def _per_data_version(organization: Organization, kind: str, filters: MeasurementFilters) -> str:
    """A cache key that every import which changes the organisation's data makes stale."""
    digest = hashlib.sha256(filters.model_dump_json().encode()).hexdigest()
    return f"totals:{organization.pk}:{organization.data_version}:{kind}:{digest}"


def _once_per_data_version(key: str, compute: Callable[[], Number]) -> Number:
    cached = cache.get(key)
    if cached is None:
        cached = compute()
        cache.set(key, cached, TOTALS_CACHE_SECONDS)
    return cast(Number, cached)


def measurement_count(*, organization: Organization, filters: MeasurementFilters) -> int:
    """How many measurements match: counted once per data version, without the joins that
    only naming the rows needs."""
    filters.check_date_range()
    return _once_per_data_version(
        _per_data_version(organization, "count", filters),
        lambda: measurement_base(organization=organization, filters=filters).count(),
    )


def conversions_total(*, organization: Organization, filters: MeasurementFilters) -> float:
    """The summed conversions that match, once per data version."""

    def total() -> float:
        return float(
            measurement_base(organization=organization, filters=filters).aggregate(
                total=Coalesce(Sum("conversions"), Value(0.0), output_field=FloatField())
            )["total"]
        )

    return _once_per_data_version(_per_data_version(organization, "conversions", filters), total)


def channel_share_list(*, organization: Organization, filters: MeasurementFilters) -> QuerySet:
    """Each channel's conversions with the total of all channels, largest first.

    The denominator honours every filter except ``channels``: the channel filter chooses
    which rows are listed, not what they are a share of.
    """
    filters.check_date_range()
    total = conversions_total(organization=organization, filters=filters.without_channels())
    return (
        measurement_base(organization=organization, filters=filters)
        .values(channel_name=F("channel__name"))
        .annotate(sales=Sum("conversions"), total=Value(total, output_field=FloatField()))
        .order_by("-sales", "channel_name")
    )


def channel_weekly_sales_list(
    *, organization: Organization, filters: MeasurementFilters
) -> QuerySet:
    """Conversions per channel per ISO week (weeks start on Monday), by week then channel."""
    return (
        measurement_base(organization=organization, filters=filters)
        .annotate(week_start=TruncWeek("date"))
        .values("week_start", channel_name=F("channel__name"))
        .annotate(sales=Sum("conversions"))
        .order_by("week_start", "channel_name")
    )


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
    campaigns = (
        Campaign.objects.filter(organization=organization)
        .filter(Exists(has_rows.filter(campaign=OuterRef("pk"))))
        .select_related("product")
        .order_by("name", "product__name", "campaign_type")
    )
    products = (
        Product.objects.filter(organization=organization)
        .filter(Exists(campaigns.filter(product=OuterRef("pk"))))
        .order_by("name")
        .values_list("name", flat=True)
    )
    campaign_types = (
        campaigns.order_by("campaign_type").values_list("campaign_type", flat=True).distinct()
    )
    channels = (
        Channel.objects.filter(organization=organization)
        .filter(Exists(has_rows.filter(channel=OuterRef("pk"))))
        .order_by("name")
        .values_list("name", flat=True)
    )
    date_range = has_rows.aggregate(first=Min("date"), last=Max("date"))
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
