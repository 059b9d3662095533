"""Pagination done in the database, with ``meta`` and an RFC 8288 ``Link`` header.

Two ways through a list: ``offset`` (skip rows), and, where a list offers it, a keyset
``cursor`` that names the last row seen, so that a page deep in the result costs what the
first one costs.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from collections.abc import Sequence
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet, Window
from django.http import HttpRequest, HttpResponse
from ninja import Field, Schema

from marketing_op.core.exceptions import InvalidFilterError

MAX_PAGE_SIZE = 100
MAX_CURSOR_LENGTH = 2000
NOT_OUR_CURSOR = "The cursor is not one that this list gave out."


class PageParams(Schema):
    offset: int = Field(0, ge=0, le=2**62, description="Rows to skip.")
    page_size: int = Field(10, ge=1, le=MAX_PAGE_SIZE, description="Rows to return (1 to 100).")


class CursorPageParams(PageParams):
    cursor: str | None = Field(
        None,
        max_length=MAX_CURSOR_LENGTH,
        description="`meta.next_cursor` of the previous page: continue after its last row.",
    )


class PageMeta(Schema):
    offset: int
    page_size: int
    total: int = Field(description="Rows that match the filters, over all pages.")


class CursorPageMeta(PageMeta):
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


def _page_url(request: HttpRequest, name: str, value: str) -> str:
    """This request's URL with ``name`` (offset or cursor) set to ``value``, the other gone."""
    query = request.GET.copy()
    query.pop("cursor" if name == "offset" else "offset", None)
    query[name] = value
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def cursor_encode(values: Sequence[Any]) -> str:
    plain = [value.isoformat() if isinstance(value, datetime.date) else value for value in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def cursor_decode(cursor: str, width: int) -> list[str]:
    """The values of a cursor from ``cursor_encode``: as many as the list orders by, each a
    string (names, and dates in ISO form), so that no forged value reaches a query."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise InvalidFilterError(NOT_OUR_CURSOR) from error
    if not isinstance(values, list) or len(values) != width:
        raise InvalidFilterError(NOT_OUR_CURSOR)
    if not all(isinstance(value, str) and "\x00" not in value for value in values):
        raise InvalidFilterError(NOT_OUR_CURSOR)
    return values


def rows_after(order: Sequence[str], values: Sequence[Any]) -> Q:
    """Rows strictly after ``values`` in the ascending ``order`` (a lexicographic keyset).

    The redundant bound on the first field lets the database start an index scan there.
    """
    after = Q(**{f"{order[-1]}__gt": values[-1]})
    for field, value in zip(reversed(order[:-1]), reversed(values[:-1]), strict=True):
        after = Q(**{f"{field}__gt": value}) | (Q(**{field: value}) & after)
    return Q(**{f"{order[0]}__gte": values[0]}) & after


class KeysetRows(Protocol):
    """A list that reads its pages itself, like an ordered QuerySet: sliced for a page,
    ``after`` a cursor's row for the next one (the measurements of ``MeasurementDays``)."""

    @property
    def order(self) -> Sequence[str]: ...

    def after(self, values: list[Any]) -> KeysetRows: ...

    def __getitem__(self, window: slice) -> list[dict[str, Any]]: ...


def paginate(
    *,
    request: HttpRequest,
    response: HttpResponse,
    queryset: QuerySet | KeysetRows | list[dict[str, Any]],
    page: PageParams,
    total: int | None = None,
    skipped: int = 0,
) -> dict[str, Any]:
    """One page of an ordered QuerySet (a COUNT and one LIMIT query), of a list that reads
    its own pages, or of a list.

    ``total`` saves the COUNT where the caller can count more cheaply than ``queryset``.
    ``skipped`` says how many rows of the list lie before ``queryset``, which starts that
    far in (see ``measurement_seek``; a list that starts at the page's offset, as the
    weekly sales do, skips ``offset`` rows). An aggregated QuerySet (one row per group)
    computes every group for any page anyway, so its page counts the groups in the same
    query (``COUNT(*) OVER ()``).
    """
    cursor = getattr(page, "cursor", None)
    offset = page.offset
    if cursor and offset:
        raise InvalidFilterError("Give either offset or cursor, not both.")
    end = offset + page.page_size + 1
    order: list[str] = []
    if isinstance(queryset, list):
        total = len(queryset) + skipped if total is None else total
        rows = queryset[offset - skipped : end - skipped] if offset < total else []
    elif not isinstance(queryset, QuerySet):
        order = list(queryset.order)
        if total is None:
            raise TypeError("a list that reads its own pages is counted by its caller")
        if cursor:
            queryset = queryset.after(cursor_decode(cursor, len(order)))
        rows = queryset[offset - skipped : end - skipped] if offset < total else []
    elif total is None and queryset.query.group_by is not None and not cursor:
        rows = list(queryset.annotate(matching_rows=Window(Count("*")))[offset:end])
        total = rows[0]["matching_rows"] if rows else (queryset.count() if offset else 0)
    else:
        order = [str(field) for field in queryset.query.order_by]
        total = queryset.count() if total is None else total
        if cursor:
            try:
                queryset = queryset.filter(rows_after(order, cursor_decode(cursor, len(order))))
            except ValidationError as error:  # a value of the wrong kind, as a date
                raise InvalidFilterError(NOT_OUR_CURSOR) from error
        rows = list(queryset[offset - skipped : end - skipped]) if offset < total else []
    more = len(rows) > page.page_size
    rows = rows[: page.page_size]
    links = []
    meta: dict[str, Any] = {"offset": offset, "page_size": page.page_size, "total": total}
    next_cursor = None
    if isinstance(page, CursorPageParams):
        next_cursor = cursor_encode([rows[-1][field] for field in order]) if more else None
        meta["next_cursor"] = next_cursor
    if more and (cursor and next_cursor):
        links.append(f'<{_page_url(request, "cursor", next_cursor)}>; rel="next"')
    elif more:
        links.append(f'<{_page_url(request, "offset", str(offset + page.page_size))}>; rel="next"')
    if offset > 0 and total > 0 and not cursor:
        previous = min(max(offset - page.page_size, 0), max(total - page.page_size, 0))
        links.append(f'<{_page_url(request, "offset", str(previous))}>; rel="prev"')
    if links:
        response["Link"] = ", ".join(links)
    return {"data": rows, "meta": meta}
