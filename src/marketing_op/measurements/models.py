from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q

from marketing_op.accounts.models import Organization

MAX_CONVERSIONS = 1e15
"""The largest conversions of one measurement: sums of millions of them stay finite."""
MAX_SPEND = 1e15
"""The largest spend of one measurement, for the same reason."""
SPEND_DIGITS = 18
"""Digits of a measurement's spend: up to ``MAX_SPEND``, in cents (``numeric(18,2)``)."""
SUMMED_SPEND_DIGITS = 30
"""Digits of a summary's spend, a sum of many measurements' (``numeric(30,2)``)."""


def week_start(day: datetime.date) -> datetime.date:
    """The Monday of the day's ISO week: the ``week`` of ``WeeklyConversions``."""
    return day - datetime.timedelta(days=day.weekday())


class Product(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="product_unique_name"),
            models.CheckConstraint(condition=~Q(name=""), name="product_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class Channel(models.Model):
    """A media channel (tv, radio, facebook, ...) as named in the organisation's data."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="channel_unique_name"),
            models.CheckConstraint(condition=~Q(name=""), name="channel_name_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class Campaign(models.Model):
    """A campaign of one product, of one campaign type (always on, branding, performance)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # Looked up by (organisation, product, ...): the unique key, which leads with both, serves.
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="campaigns", db_index=False
    )
    campaign_type = models.CharField(max_length=200)
    name = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "product", "campaign_type", "name"],
                name="campaign_unique_name",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="campaign_name_not_empty"),
            models.CheckConstraint(condition=~Q(campaign_type=""), name="campaign_type_not_empty"),
        ]

    def __str__(self) -> str:
        return self.name


class Measurement(models.Model):
    """The conversions (net sales) that one channel drove for one campaign on one day.

    The row carries the names that order the measurements list (product, campaign type,
    campaign, channel) beside its campaign and channel, and its unique index holds them in
    list order after (organisation, date): a page of the list is a range of that index. A
    campaign fixes its product and type and names are never renamed, so the index says what
    (organisation, date, campaign, channel) would, and the copies cannot go stale.
    """

    # Every index slows every import down, so there are two besides the primary key: the
    # unique day in list order, for the list and the import's look-ups, and the campaign
    # key, for the campaign filter. Aggregates by channel, product or campaign type read
    # the summaries below instead.
    # No database foreign keys either: PostgreSQL checks each of them once per inserted row,
    # which doubled the time of a large import run without privilege. The import is the one
    # writer, and every id it writes comes from a join on the organisation's own rows in
    # its transaction; nothing deletes campaigns, channels or organisations but Django,
    # which still cascades to the measurements.
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    campaign = models.ForeignKey(
        Campaign,
        on_delete=models.CASCADE,
        related_name="measurements",
        db_index=False,
        db_constraint=False,
    )
    channel = models.ForeignKey(
        Channel,
        on_delete=models.CASCADE,
        related_name="measurements",
        db_index=False,
        db_constraint=False,
    )
    date = models.DateField()
    product_name = models.CharField(max_length=200)
    campaign_type = models.CharField(max_length=200)
    campaign_name = models.CharField(max_length=200)
    channel_name = models.CharField(max_length=200)
    conversions = models.FloatField()
    # Money: exact cents (``numeric``), never a binary float, so that sums are exact.
    spend = models.DecimalField(
        max_digits=SPEND_DIGITS,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The media spend of that day; null when unknown.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "organization",
                    "date",
                    "product_name",
                    "campaign_type",
                    "campaign_name",
                    "channel_name",
                ],
                name="measurement_unique_day",
            ),
            models.CheckConstraint(
                condition=Q(conversions__gte=0) & Q(conversions__lte=MAX_CONVERSIONS),
                name="measurement_conversions_finite_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(spend__isnull=True) | (Q(spend__gte=0) & Q(spend__lte=MAX_SPEND)),
                name="measurement_spend_finite_non_negative",
            ),
        ]
        # Every index leads with the organisation, as a table sharded by it needs
        # (docs/scaling.md); the campaign filter always names the organisation too.
        indexes = [
            models.Index(fields=["organization", "campaign"], name="measurement_org_campaign"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.campaign_name}/{self.channel_name}: {self.conversions}"


class ConversionSummary(models.Model):
    """Conversions and spend summed per product, campaign type and channel over a period.

    Maintained by the import in its transaction (``imports.conversion_summaries_refresh``):
    a row always equals the aggregation of the measurements it summarises. The dashboard's
    aggregates read these instead of the measurements unless they filter by campaign, so
    their cost grows with days and channels, not with the number of campaigns.
    """

    # Derived rows, written only by the import from ids it has just joined: no database
    # foreign keys, whose per-row checks would cost the import more than the rows do
    # (Django still cascades deletes to them).
    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    campaign_type = models.CharField(max_length=200)
    channel = models.ForeignKey(
        Channel, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    conversions = models.FloatField()
    measurements = models.PositiveIntegerField(help_text="How many measurements are summed.")
    spend = models.DecimalField(
        max_digits=SUMMED_SPEND_DIGITS,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="The known spend of the measurements summed; null when none is known.",
    )

    class Meta:
        abstract = True


class DailyConversions(ConversionSummary):
    """One day of conversions per product, campaign type and channel."""

    date = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "date", "product", "campaign_type", "channel"],
                name="daily_conversions_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "product"], name="daily_org_product"),
            models.Index(fields=["organization", "channel"], name="daily_org_channel"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.product_id}/{self.campaign_type}/{self.channel_id}"


class WeeklyConversions(ConversionSummary):
    """One ISO week (from Monday) of conversions per product, campaign type and channel."""

    week = models.DateField(help_text="The Monday that starts the week.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "week", "product", "campaign_type", "channel"],
                name="weekly_conversions_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "product"], name="weekly_org_product"),
            models.Index(fields=["organization", "channel"], name="weekly_org_channel"),
        ]

    def __str__(self) -> str:
        return f"week of {self.week} {self.product_id}/{self.campaign_type}/{self.channel_id}"


class ImportRecord(models.Model):
    """One import of a measurement file, accepted or rejected: who, when, what, and the counts.

    An accepted import is written in the transaction of its data, so the history never names
    an import whose rows are missing. ``idempotency_key`` of an accepted import is unique
    per organisation: a retried upload with the same key is answered from this record.
    """

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    STATUS_CHOICES = [(ACCEPTED, "accepted"), (REJECTED, "rejected")]
    COMMAND = "command"
    API = "api"
    SOURCE_CHOICES = [(COMMAND, "command"), (API, "api")]
    CSV = "csv"
    JSON = "json"
    FORMAT_CHOICES = [(CSV, "csv"), (JSON, "json")]

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    uploaded_by = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=10, choices=SOURCE_CHOICES)
    created_at = models.DateTimeField(auto_now_add=True)
    duration_seconds = models.FloatField(default=0.0)
    file_name = models.CharField(max_length=255, blank=True)
    file_format = models.CharField(max_length=10, choices=FORMAT_CHOICES, default=CSV)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField(default=0)
    replace = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=STATUS_CHOICES)
    rows = models.BigIntegerField(default=0)
    inserted = models.BigIntegerField(default=0)
    updated = models.BigIntegerField(default=0)
    unchanged = models.BigIntegerField(default=0)
    deleted = models.BigIntegerField(default=0)
    first_date = models.DateField(null=True, blank=True)
    last_date = models.DateField(null=True, blank=True)
    problem_count = models.BigIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True)
    idempotency_key = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "idempotency_key"],
                condition=Q(status="accepted") & ~Q(idempotency_key=""),
                name="import_unique_idempotency_key",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "-created_at"], name="import_org_created"),
        ]

    def __str__(self) -> str:
        return f"import {self.pk} of {self.file_name or 'stdin'} ({self.status})"
