"""The measurements router: thin endpoints that parse, call one selector, and page.

Every GET endpoint checks its parameters, answers 304 when the client's copy is current,
and otherwise builds its answer (or reads it from the answer cache) from one selector of
``measurements.reads`` and the one paginator of ``core.pagination``. The measurements list
and reports also answer with the whole result as a file (``format=csv|parquet`` or
``Accept``), streamed from ``reads.exports``.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import Header, Query, Router, Status

from marketing_op.accounts.auth import bearer_token, session_cookie, write_token
from marketing_op.accounts.models import Organization
from marketing_op.accounts.throttling import data_rate_limit
from marketing_op.core.caching import cached_answer, not_modified
from marketing_op.core.database_routing import replica_read
from marketing_op.core.exceptions import InvalidFilterError, UnsupportedMediaType
from marketing_op.core.pagination import CursorPageParams, PageParams, paginate
from marketing_op.core.schemas import Message, ValidationMessage
from marketing_op.measurements.filters import MeasurementFilters
from marketing_op.measurements.imports import (
    LengthRequired,
    UploadBounds,
    charset_known,
    measurement_import_file,
)
from marketing_op.measurements.models import ImportRecord
from marketing_op.measurements.reads import dimensions
from marketing_op.measurements.reads.channel_shares import channel_share_page
from marketing_op.measurements.reads.exports import (
    Export,
    ExportFormat,
    ExportParams,
    export_format_chosen,
    measurement_export,
    report_export,
)
from marketing_op.measurements.reads.import_history import import_record_page
from marketing_op.measurements.reads.measurement_pages import measurement_page
from marketing_op.measurements.reads.reports.parameters import ReportPageParams, ReportParams
from marketing_op.measurements.reads.reports.report import report_page
from marketing_op.measurements.reads.weekly_sales import channel_weekly_sales_page
from marketing_op.measurements.schemas import (
    ChannelSharePage,
    ChannelWeeklySalesPage,
    DimensionsResponse,
    ImportRecordPage,
    ImportRejectedMessage,
    ImportSummaryResponse,
    MeasurementPage,
    ReportPage,
)

router = Router(
    tags=["measurements"], auth=[bearer_token, session_cookie], throttle=data_rate_limit
)

LIST_ERRORS = {
    304: None,
    400: Message,
    401: Message,
    422: ValidationMessage,
    429: Message,
    503: Message,
}


def _organization(request: HttpRequest) -> Organization:
    return request.auth.user.organization  # type: ignore[attr-defined]


def _checked(filters: MeasurementFilters, page: PageParams) -> None:
    """Refuse a request that is not valid (400) before anything is answered, 304 included."""
    filters.check_date_range()
    page.check()


PAGE_PARAMETERS = ("offset", "page_size", "cursor")


def _export_format(
    request: HttpRequest, response: HttpResponse, export: ExportParams
) -> ExportFormat | None:
    """The file format of an export, or None for the JSON page. An export holds every row,
    so a page's parameters are refused rather than ignored."""
    response["Vary"] = "Accept"
    chosen = export_format_chosen(requested=export.format, accept=request.headers.get("Accept", ""))
    if chosen is None:
        return None
    paged = [name for name in PAGE_PARAMETERS if name in request.GET]
    if paged:
        raise InvalidFilterError(
            f"An export ({chosen}) holds the whole result, not a page: "
            f"leave out {' and '.join(paged)}."
        )
    return chosen


def _streamed(export: Export, response: HttpResponse) -> StreamingHttpResponse:
    """The export's bytes as they are written, with the headers set on ``response``."""
    answer = StreamingHttpResponse(export.chunks, content_type=export.content_type)
    for header, value in response.items():
        if header.lower() != "content-type":
            answer[header] = value
    answer["Content-Disposition"] = f'attachment; filename="{export.file_name}"'
    return answer


@router.get(
    "/measurements/",
    response={200: MeasurementPage, **LIST_ERRORS},
    summary="Daily conversions per product, campaign and channel",
)
@replica_read
def measurement_list(
    request: HttpRequest,
    response: HttpResponse,
    filters: Query[MeasurementFilters],
    page: Query[CursorPageParams],
    export: Query[ExportParams],
) -> HttpResponse | StreamingHttpResponse | Status:
    _checked(filters, page)
    chosen = _export_format(request, response, export)
    organization = _organization(request)
    if not_modified(
        request=request, response=response, organization=organization, representation=chosen or ""
    ):
        return Status(304, None)
    if chosen is not None:
        return _streamed(
            measurement_export(organization=organization, filters=filters, file_format=chosen),
            response,
        )
    return cached_answer(
        request=request,
        response=response,
        organization=organization,
        schema=MeasurementPage,
        compute=lambda: paginate(
            request=request,
            response=response,
            page=page,
            query=(filters,),
            found=measurement_page(organization=organization, filters=filters, page=page),
        ),
        parameters=(filters, page),
    )


@replica_read
def _channel_shares(
    request: HttpRequest, response: HttpResponse, filters: MeasurementFilters, page: PageParams
) -> HttpResponse | Status:
    _checked(filters, page)
    organization = _organization(request)
    if not_modified(request=request, response=response, organization=organization):
        return Status(304, None)
    return cached_answer(
        request=request,
        response=response,
        organization=organization,
        schema=ChannelSharePage,
        compute=lambda: paginate(
            request=request,
            response=response,
            page=page,
            query=(filters,),
            found=channel_share_page(organization=organization, filters=filters, page=page),
        ),
        parameters=(filters, page),
    )


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
) -> HttpResponse | Status:
    return _channel_shares(request, response, filters, page)


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
) -> HttpResponse | Status:
    return _channel_shares(request, response, filters, page)


@router.get(
    "/stats/channel-weekly-sales/",
    response={200: ChannelWeeklySalesPage, **LIST_ERRORS},
    summary="Conversions per channel per ISO week",
)
@replica_read
def channel_weekly_sales_list(
    request: HttpRequest,
    response: HttpResponse,
    filters: Query[MeasurementFilters],
    page: Query[PageParams],
) -> HttpResponse | Status:
    _checked(filters, page)
    organization = _organization(request)
    if not_modified(request=request, response=response, organization=organization):
        return Status(304, None)
    return cached_answer(
        request=request,
        response=response,
        organization=organization,
        schema=ChannelWeeklySalesPage,
        compute=lambda: paginate(
            request=request,
            response=response,
            page=page,
            query=(filters,),
            found=channel_weekly_sales_page(organization=organization, filters=filters, page=page),
        ),
        parameters=(filters, page),
    )


@router.get(
    "/reports/",
    response={200: ReportPage, **LIST_ERRORS},
    summary="Any metrics per product, campaign type, campaign or channel, per period",
)
@replica_read
def report_list(
    request: HttpRequest,
    response: HttpResponse,
    filters: Query[MeasurementFilters],
    report: Query[ReportParams],
    page: Query[ReportPageParams],
    export: Query[ExportParams],
) -> HttpResponse | StreamingHttpResponse | Status:
    _checked(filters, page)
    report.check(filters)
    chosen = _export_format(request, response, export)
    organization = _organization(request)
    if not_modified(
        request=request, response=response, organization=organization, representation=chosen or ""
    ):
        return Status(304, None)
    if chosen is not None:
        return _streamed(
            report_export(
                organization=organization, filters=filters, params=report, file_format=chosen
            ),
            response,
        )

    def answer() -> dict:
        found, whole = report_page(
            organization=organization, filters=filters, params=report, page=page
        )
        paged = paginate(
            request=request, response=response, page=page, found=found, query=(filters, report)
        )
        paged["meta"]["totals"] = whole.totals
        paged["meta"]["previous_totals"] = whole.previous_totals
        return paged

    return cached_answer(
        request=request,
        response=response,
        organization=organization,
        schema=ReportPage,
        compute=answer,
        parameters=(filters, report, page),
    )


@router.get(
    "/dimensions/",
    response={200: DimensionsResponse, 304: None, 401: Message, 429: Message, 503: Message},
    summary="Products, campaigns, campaign types, channels and dates with data",
)
@replica_read
def dimensions_get(request: HttpRequest, response: HttpResponse) -> HttpResponse | Status:
    organization = _organization(request)
    if not_modified(request=request, response=response, organization=organization):
        return Status(304, None)
    return cached_answer(
        request=request,
        response=response,
        organization=organization,
        schema=DimensionsResponse,
        compute=lambda: {"data": dimensions.dimensions_get(organization=organization)},
        parameters=(),
    )


# --- imports: upload measurement files, and the history of imports ----------------------------

IMPORT_FORMATS = {
    "text/csv": ImportRecord.CSV,
    "application/csv": ImportRecord.CSV,
    "application/gzip": ImportRecord.CSV,
    "application/json": ImportRecord.JSON,
}


def _upload_format(request: HttpRequest) -> tuple[str, str]:
    """The format and text encoding of an upload, from its Content-Type (415 if unknown)."""
    content_type = (request.content_type or "").lower()
    file_format = IMPORT_FORMATS.get(content_type)
    if file_format is None:
        raise UnsupportedMediaType(
            f"Send the rows as text/csv (optionally gzip-compressed) or as a JSON list "
            f"(application/json), not {content_type or 'no Content-Type'}."
        )
    named = (request.content_params or {}).get("charset", "utf-8")
    charset = charset_known(named)
    if charset is None or (file_format == ImportRecord.JSON and not charset.startswith("utf-8")):
        known = (
            "UTF-8" if file_format == ImportRecord.JSON else "UTF-8, latin-1, cp1252, ISO-8859-15"
        )
        raise UnsupportedMediaType(
            f"The charset {named[:40]!r} is not one that this import reads; send {known}."
        )
    return file_format, charset


def _upload_length(request: HttpRequest) -> int:
    """The length that an upload announces: a chunked body (whose end the server does not
    tell the application) would be read as empty, and a body that ends short of its length
    was cut off, so the import checks that it read all of it."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        raise LengthRequired(
            "Send the upload with a Content-Length header (not chunked); nothing was imported."
        ) from None


def _upload_file_name(request: HttpRequest) -> str:
    disposition = request.headers.get("Content-Disposition", "")
    match = re.search(r'filename="?([^";]+)"?', disposition)
    return match.group(1).strip() if match else ""


@router.post(
    "/measurements/",
    auth=[write_token, session_cookie],
    response={
        200: ImportSummaryResponse,
        400: Message,
        401: Message,
        403: Message,
        411: Message,
        413: Message,
        503: Message,
        415: Message,
        422: ImportRejectedMessage | ValidationMessage,
        429: Message,
    },
    summary="Import measurements from a CSV file or a JSON list, all or nothing",
)
def measurement_import(
    request: HttpRequest,
    replace: Query[bool] = False,
    idempotency_key: str | None = Header(None, alias="Idempotency-Key", max_length=255),
) -> dict:
    """Validates every row first: a file with any problem is rejected whole (422) and changes
    nothing. Rows that exist are updated when their conversions or spend differ (a file
    without the optional spend column says that the spend is unknown). ``replace=true``
    also deletes the organisation's rows in the file's date range that the file lacks. A
    retried upload with the same ``Idempotency-Key`` and content returns the first result;
    the same key with other content is a 422."""
    access_token = request.auth  # type: ignore[attr-defined]
    file_format, charset = _upload_format(request)
    length = _upload_length(request)
    outcome = measurement_import_file(
        organization=_organization(request),
        stream=request,  # type: ignore[arg-type]
        file_name=_upload_file_name(request),
        file_format=file_format,
        charset=charset,
        replace=replace,
        source=ImportRecord.API,
        user=access_token.user,
        uploaded_by=access_token.user.username,
        idempotency_key=idempotency_key,
        bounds=UploadBounds(max_bytes=settings.MAX_UPLOAD_BYTES, max_rows=settings.MAX_UPLOAD_ROWS),
        expected_bytes=length,
    )
    record = outcome.record
    return {
        "data": {
            "import_id": record.pk,
            "rows": record.rows,
            "inserted": record.inserted,
            "updated": record.updated,
            "unchanged": record.unchanged,
            "deleted": record.deleted,
            "first_date": record.first_date,
            "last_date": record.last_date,
            "sha256": record.sha256,
            "replayed": outcome.replayed,
        }
    }


@router.get(
    "/imports/",
    response={
        200: ImportRecordPage,
        401: Message,
        422: ValidationMessage,
        429: Message,
        503: Message,
    },
    summary="The organisation's imports, newest first",
)
def import_record_list(
    request: HttpRequest, response: HttpResponse, page: Query[PageParams]
) -> dict:
    found = import_record_page(organization=_organization(request), page=page)
    return paginate(request=request, response=response, page=page, found=found)
