from __future__ import annotations

import sys

from django.db import models
from django.db.models import Q

from marketing_op.accounts.models import Organization

MAX_CONVERSIONS = sys.float_info.max


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
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="campaigns")
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
    """The conversions (net sales) that one channel drove for one campaign on one day."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="measurements")
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="measurements")
    date = models.DateField()
    conversions = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "campaign", "channel", "date"],
                name="measurement_unique_day",
            ),
            models.CheckConstraint(
                condition=Q(conversions__gte=0) & Q(conversions__lte=MAX_CONVERSIONS),
                name="measurement_conversions_finite_non_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "date"], name="measurement_org_date"),
            models.Index(fields=["channel", "date"], name="measurement_channel_date"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.campaign_id}/{self.channel_id}: {self.conversions}"
