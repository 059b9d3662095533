"""Query parameters that no endpoint declares: refused, or on the contract's endpoints ignored
and named in a ``Warning`` header. One mechanism for every operation of the API, applied once
in ``config/api.py`` (:func:`unknown_query_parameters_checked`).

An operation's known names are those django-ninja reads from the query string (every
``Query[...]`` schema, flattened). On an operation that the old contract does not cover, an
unknown name is a ``422`` that names it and lists the known ones, as for any other bad
parameter (``?dimension=channel``, a typo of ``dimensions``, must not answer with one grand
total). The contract's endpoints, which existing clients call with whatever they have always
sent, keep answering and say what they ignored: ``Warning: 299 - "unknown query parameters
ignored: foo, bar"``. Health probes (which may add a cache buster) are lenient too. An export
of a lenient endpoint is new, so it refuses unknown names like any new endpoint
(:func:`unknown_query_parameters_refused`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any
from urllib.parse import quote

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from ninja.errors import ValidationError

MAX_NAMED = 10
"""The most unknown names that an answer repeats (a request may send a thousand)."""
MAX_NAME_LENGTH = 40

_UNKNOWN = "_marketing_op_unknown_query"
_KNOWN = "_marketing_op_known_query"


def unknown_query_parameters_checked(
    *, ignored_by: Iterable[str]
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """A decorator for ``NinjaAPI.add_decorator(..., mode="view")``, which django-ninja
    applies to every operation's ``run`` as it binds the operation: the operations whose
    view is named in ``ignored_by`` (``module.function``) ignore unknown names with a
    ``Warning``; every other refuses them (422), after authentication and the checks of
    the parameters it knows."""
    lenient = frozenset(ignored_by)

    def checked(run: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        operation: Any = run.__self__  # type: ignore[attr-defined]
        view = operation.view_func
        known = _known_names(operation)
        if f"{view.__module__}.{view.__qualname__}" in lenient:
            return _ignoring(run, known)
        operation.view_func = _refusing(view, known)
        return run

    return checked


def unknown_query_parameters_refused(request: HttpRequest) -> None:
    """Within a lenient operation, refuse what it would ignore (an export's query)."""
    unknown = getattr(request, _UNKNOWN, [])
    if unknown:
        _refuse(unknown, getattr(request, _KNOWN, []))


def _known_names(operation: Any) -> list[str]:
    names: list[str] = []
    for model in operation.models:
        if getattr(model, "__ninja_param_source__", None) == "query":
            names += list(model.__ninja_flatten_map__)
    return sorted(names)


def _unknown(request: HttpRequest, known: list[str]) -> list[str]:
    return [name for name in request.GET if name not in known]


def _refusing(view: Callable[..., Any], known: list[str]) -> Callable[..., Any]:
    """The view, after authentication and the known parameters' checks: unknown names 422."""

    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        unknown = _unknown(request, known)
        if unknown:
            _refuse(unknown, known)
        return view(request, *args, **kwargs)

    return checked


def _ignoring(
    run: Callable[..., HttpResponseBase], known: list[str]
) -> Callable[..., HttpResponseBase]:
    @wraps(run)
    def answered(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        unknown = _unknown(request, known)
        setattr(request, _UNKNOWN, unknown)
        setattr(request, _KNOWN, known)
        response = run(request, *args, **kwargs)
        if unknown and response.status_code < 400:
            response["Warning"] = (
                f'299 - "unknown query parameters ignored: {", ".join(_shown(unknown))}"'
            )
        return response

    return answered


def _shown(names: list[str]) -> list[str]:
    """Names as a header may carry them: percent-encoded beyond printable ASCII (and the
    quote and backslash that end a quoted string), cut short, at most ``MAX_NAMED``."""
    shown = [
        quote(name, safe=" !#$%&'()*+,-./:;<=>?@[]^_`{|}~")[:MAX_NAME_LENGTH] for name in names
    ]
    if len(shown) > MAX_NAMED:
        shown = [*shown[:MAX_NAMED], f"and {len(shown) - MAX_NAMED} more"]
    return shown


def _refuse(unknown: list[str], known: list[str]) -> None:
    allowed = ", ".join(known) if known else "none"
    raise ValidationError(
        [
            {
                "loc": ["query", name[:MAX_NAME_LENGTH]],
                "msg": f"unknown query parameter; this endpoint takes: {allowed}",
                "type": "unknown_parameter",
            }
            for name in unknown[:MAX_NAMED]
        ]
    )
