"""JSON as the API writes it: orjson, with dates (and anything else with isoformat) as ISO text."""

from __future__ import annotations

from typing import Any

import orjson

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def json_bytes(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_PASSTHROUGH_DATACLASS, default=_json_default)
