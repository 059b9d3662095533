"""The import history (``GET /api/marketing/imports/``): the organisation's imports, newest
first, and the accepted import that an Idempotency-Key names (which the import service
reads to answer a retried upload)."""

from __future__ import annotations

from django.db.models import QuerySet

from marketing_op.accounts.models import Organization
from marketing_op.core.pagination import PageParams, PageRows, queryset_page
from marketing_op.measurements.models import ImportRecord


def import_record_list(*, organization: Organization) -> QuerySet:
    """The organisation's imports, newest first."""
    return ImportRecord.objects.filter(organization=organization).order_by("-created_at", "-id")


def import_record_page(*, organization: Organization, page: PageParams) -> PageRows:
    """One page of the organisation's imports."""
    return queryset_page(import_record_list(organization=organization), page)


def import_record_get_by_key(*, organization: Organization, key: str) -> ImportRecord | None:
    """The accepted import of the organisation that was made with this Idempotency-Key."""
    return ImportRecord.objects.filter(
        organization=organization, idempotency_key=key, status=ImportRecord.ACCEPTED
    ).first()
