"""The dashboard's pages. They hold no data: their scripts ask the JSON API (with the
session of the sign-in) and draw what it answers, so a page shows exactly what the API
says. The templates name what the API offers (its report metrics) so that the scripts ask
only for what exists."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from marketing_op.accounts.services import DEFAULT_CURRENCY

PICKERS = (
    ("products", "Products"),
    ("campaign_types", "Campaign types"),
    ("channels", "Channels"),
    ("campaigns", "Campaigns"),
)
"""The overview's filters that pick names (query parameter, label)."""


def _page(request: HttpRequest, template: str, page: str) -> HttpResponse:
    organization = getattr(request.user, "organization", None)
    context = {
        "page": page,
        "user": request.user,
        "pickers": PICKERS,
        "currency": organization.currency if organization else DEFAULT_CURRENCY,
    }
    response = render(request, template, context)
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """Figures, charts and tables of the filtered measurements, with a comparison."""
    return _page(request, "dashboard/overview.html", "overview")


@require_GET
@login_required
def imports(request: HttpRequest) -> HttpResponse:
    """Upload a measurement file and see the history of imports."""
    return _page(request, "dashboard/imports.html", "imports")
