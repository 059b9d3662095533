from __future__ import annotations

from typing import Any

from ninja import Schema


class Message(Schema):
    detail: str


class ValidationMessage(Schema):
    """A 422 body: ``detail`` lists each problem with its location (``["query", "page_size"]``)."""

    detail: list[dict[str, Any]]
