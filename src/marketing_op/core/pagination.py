"""The one paginator: ``meta`` and an RFC 8288 ``Link`` header for a page that a selector read.

Two ways through a list: ``offset`` (skip rows), and, where a list offers it, a keyset
``cursor`` that names the last row seen, so that a page deep in the result costs what the
first one costs. A selector reads one page (:class:`PageRows`: the page's rows and one more,
and the total); :func:`paginate` turns it into the answer. Links are relative (path and
query), so that an answer kept in the cache says nothing of the client that first asked.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from ninja import Field, Schema

from marketing_op.core.exceptions import InvalidFilterError

MAX_PAGE_SIZE = 100
MAX_CURSOR_LENGTH = 2000
NOT_OUR_CURSOR = "The cursor is not one that this list gave out."


class PageParams(Schema):
    offset: int = Field(0, ge=0, le=2**62, description="Rows to skip.")
    page_size: int = Field(10, ge=1, le=MAX_PAGE_SIZE, description="Rows to return (1 to 100).")

    @property
    def wanted(self) -> int:
        """The rows a selector reads: the page's, and one more that says whether a next
        page exists."""
        return self.page_size + 1

    def check(self) -> None:
        """Refuse (400) what the schema alone cannot."""


class CursorPageParams(PageParams):
    cursor: str | None = Field(
        None,
        max_length=MAX_CURSOR_LENGTH,
        description="`meta.next_cursor` of the previous page: continue after its last row.",
    )

    def check(self) -> None:
        if self.cursor and self.offset:
            raise InvalidFilterError("Give either offset or cursor, not both.")
        if self.cursor:
            self.cursor_values()

    def cursor_values(self) -> list[str]:
        """The values of the cursor (see :func:`cursor_encode`), each a string (names, and
        dates in ISO form), so that no forged value reaches a query."""
        cursor = self.cursor or ""
        try:
            values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        except (binascii.Error, ValueError, UnicodeDecodeError) as error:
            raise InvalidFilterError(NOT_OUR_CURSOR) from error
        if not isinstance(values, list) or not values:
            raise InvalidFilterError(NOT_OUR_CURSOR)
        if not all(isinstance(value, str) and "\x00" not in value for value in values):
            raise InvalidFilterError(NOT_OUR_CURSOR)
        return values


class PageMeta(Schema):
    offset: int
    page_size: int
    total: int = Field(description="Rows that match the filters, over all pages.")


class CursorPageMeta(PageMeta):
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


@dataclass(frozen=True)
class PageRows:
    """One page as a selector read it: up to ``page_size + 1`` rows from the page's start
    (the one more says that a next page exists), the rows that match over all pages, and,
    for a list that gives cursors, the fields of a row that its cursor names."""

    rows: list[dict[str, Any]]
    total: int
    cursor_fields: tuple[str, ...] = ()


def list_page(rows: Sequence[dict[str, Any]], page: PageParams) -> PageRows:
    """A page of a list that is computed whole (it is short, or cached whole)."""
    return PageRows(list(rows[page.offset : page.offset + page.wanted]), len(rows))


def queryset_page(queryset: QuerySet, page: PageParams) -> PageRows:
    """A page of an ordered QuerySet: a COUNT and one LIMIT/OFFSET query."""
    total = queryset.count()
    rows = list(queryset[page.offset : page.offset + page.wanted]) if page.offset < total else []
    return PageRows(rows, total)


def cursor_encode(values: Sequence[Any]) -> str:
    plain = [value.isoformat() if isinstance(value, datetime.date) else value for value in values]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _page_url(
    request: HttpRequest, query: Sequence[Schema], page: PageParams, name: str, value: str
) -> str:
    """This list's path and its validated query (the parameters of ``query`` that differ
    from their defaults, ``page_size``) with ``name`` (offset or cursor) set to ``value``:
    relative, and built from what was validated, so that it does not depend on the client's
    Host, scheme or unknown parameters, which a cached answer must not carry to others."""
    values: dict[str, Any] = {}
    for parameters in query:
        for field, given in parameters.model_dump(mode="json", exclude_defaults=True).items():
            values[field] = str(given).lower() if isinstance(given, bool) else given
    values["page_size"] = page.page_size
    values[name] = value
    return f"{request.path}?{urlencode(values, doseq=True)}"


def paginate(
    *,
    request: HttpRequest,
    response: HttpResponse,
    page: PageParams,
    found: PageRows,
    query: Sequence[Schema] = (),
) -> dict[str, Any]:
    """The answer of one page: its rows, ``meta``, and the ``Link`` header (next, prev),
    whose URLs carry the validated parameters of ``query`` and the page size."""
    cursor = getattr(page, "cursor", None)
    offset = page.offset
    more = len(found.rows) > page.page_size
    rows = found.rows[: page.page_size]
    total = found.total
    meta: dict[str, Any] = {"offset": offset, "page_size": page.page_size, "total": total}
    next_cursor = None
    if isinstance(page, CursorPageParams):
        if more:
            next_cursor = cursor_encode([rows[-1][field] for field in found.cursor_fields])
        meta["next_cursor"] = next_cursor
    links = []
    if more and cursor and next_cursor:
        links.append((_page_url(request, query, page, "cursor", next_cursor), "next"))
    elif more:
        following = str(offset + page.page_size)
        links.append((_page_url(request, query, page, "offset", following), "next"))
    if offset > 0 and total > 0 and not cursor:
        previous = min(max(offset - page.page_size, 0), max(total - page.page_size, 0))
        links.append((_page_url(request, query, page, "offset", str(previous)), "prev"))
    if links:
        response["Link"] = ", ".join(f'<{url}>; rel="{relation}"' for url, relation in links)
    return {"data": rows, "meta": meta}
