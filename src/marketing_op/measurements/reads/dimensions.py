"""Dimensions (``GET /api/marketing/dimensions/``): what the organisation has data for, the
values of every filter and the date range, read from the daily summary (campaigns, which it
does not keep, through the campaign index of the measurements)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db.models import Exists, Max, Min, OuterRef

from marketing_op.accounts.models import Organization
from marketing_op.measurements.models import (
    Campaign,
    Channel,
    DailyConversions,
    Measurement,
    Product,
)


@dataclass(frozen=True)
class Dimensions:
    """Read whole here, so that every query runs on the database chosen for the request's
    reads (a replica may stop answering: see ``core.database_routing``), not later while the
    answer is rendered."""

    products: list[str]
    campaigns: list[Campaign]
    campaign_types: list[str]
    channels: list[str]
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
        products=list(products),
        campaigns=list(campaigns),
        campaign_types=list(campaign_types),
        channels=list(channels),
        first_date=date_range["first"],
        last_date=date_range["last"],
    )
