"""Channel shares (``GET /api/marketing/stats/channel-sales-percentages/``): each channel's
conversions with the total of all channels, largest first.

The denominator honours every filter except ``channels``: the channel filter chooses which
rows are listed, not what they are a share of. The conversions of every channel are summed
once per data version and filter set, from the summaries (or, for campaigns, from the
measurements); a page is a slice of the few channels.
"""

from __future__ import annotations

from django.db.models import Sum

from marketing_op.accounts.models import Organization
from marketing_op.core.pagination import PageParams, PageRows, list_page
from marketing_op.measurements.filters import MeasurementFilters
from marketing_op.measurements.reads.summaries import (
    measurement_base,
    once_per_data_version_of,
    summary_reads,
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
    """Each listed channel's conversions (``sales``) with the ``total`` of all channels."""
    every_channel = filters.without_channels()
    sales = once_per_data_version_of(
        organization,
        "channel-conversions",
        every_channel,
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


def channel_share_page(
    *, organization: Organization, filters: MeasurementFilters, page: PageParams
) -> PageRows:
    """One page of the channel shares."""
    return list_page(channel_share_list(organization=organization, filters=filters), page)
