"""Offset pagination done in the database, with ``meta`` and an RFC 8288 ``Link`` header."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Field, Schema

MAX_PAGE_SIZE = 100


class PageParams(Schema):
    offset: int = Field(0, ge=0, le=2**62, description="Rows to skip.")
    page_size: int = Field(10, ge=1, le=MAX_PAGE_SIZE, description="Rows to return (1 to 100).")


class PageMeta(Schema):
    offset: int
    page_size: int
    total: int = Field(description="Rows that match the filters, over all pages.")


def _page_url(request: HttpRequest, offset: int) -> str:
    query = request.GET.copy()
    query["offset"] = str(offset)
    return request.build_absolute_uri(f"{request.path}?{query.urlencode()}")


def paginate(
    *, request: HttpRequest, response: HttpResponse, queryset: QuerySet, page: PageParams
) -> dict[str, Any]:
    """One page of an ordered QuerySet: a COUNT and a LIMIT/OFFSET query, nothing more."""
    total = queryset.count()
    rows = list(queryset[page.offset : page.offset + page.page_size]) if page.offset < total else []
    links = []
    if page.offset + page.page_size < total:
        links.append(f'<{_page_url(request, page.offset + page.page_size)}>; rel="next"')
    if page.offset > 0 and total > 0:
        previous = min(max(page.offset - page.page_size, 0), max(total - page.page_size, 0))
        links.append(f'<{_page_url(request, previous)}>; rel="prev"')
    if links:
        response["Link"] = ", ".join(links)
    return {
        "data": rows,
        "meta": {"offset": page.offset, "page_size": page.page_size, "total": total},
    }
