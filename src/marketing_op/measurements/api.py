from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router

from marketing_op.accounts.auth import bearer_token
from marketing_op.accounts.models import Organization
from marketing_op.core.pagination import PageParams, paginate
from marketing_op.core.schemas import Message, ValidationMessage
from marketing_op.measurements import selectors
from marketing_op.measurements.filters import MeasurementFilters
from marketing_op.measurements.schemas import (
    ChannelSharePage,
    ChannelWeeklySalesPage,
    DimensionsResponse,
    MeasurementPage,
)

router = Router(tags=["measurements"], auth=bearer_token)

LIST_ERRORS = {400: Message, 401: Message, 422: ValidationMessage, 429: Message}


def _organization(request: HttpRequest) -> Organization:
    return request.auth.user.organization  # type: ignore[attr-defined]


@router.get(
    "/measurements/",
    response={200: MeasurementPage, **LIST_ERRORS},
    summary="Daily conversions per product, campaign and channel",
)
def measurement_list(
    request: HttpRequest,
    response: HttpResponse,
    filters: Query[MeasurementFilters],
    page: Query[PageParams],
) -> dict:
    queryset = selectors.measurement_list(organization=_organization(request), filters=filters)
    return paginate(request=request, response=response, queryset=queryset, page=page)


def _channel_share_list(
    request: HttpRequest, response: HttpResponse, filters: MeasurementFilters, page: PageParams
) -> dict:
    queryset = selectors.channel_share_list(organization=_organization(request), filters=filters)
    return paginate(request=request, response=response, queryset=queryset, page=page)


@router.get(
    "/stats/channel-sales-percentages/",
    response={200: ChannelSharePage, **LIST_ERRORS},
    summary="Each channel's share of the conversions, largest first",
)
def channel_share_list(
    request: HttpRequest,
    response: HttpResponse,
    filters: Query[MeasurementFilters],
    page: Query[PageParams],
) -> dict:
    return _channel_share_list(request, response, filters, page)


@router.get(
    "/stats/channels-sales-percentages/",
    response={200: ChannelSharePage, **LIST_ERRORS},
    deprecated=True,
    summary="Old spelling of /stats/channel-sales-percentages/",
)
def channel_share_list_old_path(
    request: HttpRequest,
    response: HttpResponse,
    filters: Query[MeasurementFilters],
    page: Query[PageParams],
) -> dict:
    return _channel_share_list(request, response, filters, page)


@router.get(
    "/stats/channel-weekly-sales/",
    response={200: ChannelWeeklySalesPage, **LIST_ERRORS},
    summary="Conversions per channel per ISO week",
)
def channel_weekly_sales_list(
    request: HttpRequest,
    response: HttpResponse,
    filters: Query[MeasurementFilters],
    page: Query[PageParams],
) -> dict:
    queryset = selectors.channel_weekly_sales_list(
        organization=_organization(request), filters=filters
    )
    return paginate(request=request, response=response, queryset=queryset, page=page)


@router.get(
    "/dimensions/",
    response={200: DimensionsResponse, 401: Message, 429: Message},
    summary="Products, campaigns, campaign types, channels and dates with data",
)
def dimensions_get(request: HttpRequest) -> dict:
    return {"data": selectors.dimensions_get(organization=_organization(request))}
