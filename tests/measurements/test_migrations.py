"""Migrations that fill new tables from the measurements already stored work on a database
that has measurements (the test database has none when it is migrated)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from marketing_op.measurements.models import Measurement

BEFORE_CAMPAIGN_CHANNELS = [("measurements", "0004_conversion_summaries")]
WITH_CAMPAIGN_CHANNELS = [("measurements", "0006_list_campaign_channels")]
BEFORE_LIST_ORDER_NAMES = [("measurements", "0006_list_campaign_channels")]


@pytest.mark.django_db(transaction=True)
def test_migrating_stored_measurements_lists_their_campaign_channels():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_CAMPAIGN_CHANNELS)
    old = executor.loader.project_state(BEFORE_CAMPAIGN_CHANNELS).apps
    organization = old.get_model("accounts", "Organization").objects.create(name="acme")
    product = old.get_model("measurements", "Product").objects.create(
        organization=organization, name="cola"
    )
    campaigns = [
        old.get_model("measurements", "Campaign").objects.create(
            organization=organization, product=product, campaign_type="branding", name=name
        )
        for name in ("winter", "spring")
    ]
    channel = old.get_model("measurements", "Channel").objects.create(
        organization=organization, name="tv"
    )
    for campaign, day in [(campaigns[0], 4), (campaigns[0], 9), (campaigns[1], 6)]:
        old.get_model("measurements", "Measurement").objects.create(
            organization=organization,
            campaign=campaign,
            channel=channel,
            date=datetime.date(2021, 1, day),
            conversions=1.0,
        )

    executor = MigrationExecutor(connection)
    executor.migrate(WITH_CAMPAIGN_CHANNELS)
    campaign_channel = executor.loader.project_state(WITH_CAMPAIGN_CHANNELS).apps.get_model(
        "measurements", "CampaignChannel"
    )

    listed = campaign_channel.objects.filter(organization_id=organization.pk).order_by(
        "list_position"
    )
    assert [
        (pair.campaign_name, pair.list_position, pair.first_day.day, pair.last_day.day)
        for pair in listed
    ] == [("spring", 1, 6, 6), ("winter", 2, 4, 9)]
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_migrating_stored_measurements_gives_them_their_names_in_list_order():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_LIST_ORDER_NAMES)
    old = executor.loader.project_state(BEFORE_LIST_ORDER_NAMES).apps
    organization = old.get_model("accounts", "Organization").objects.create(name="acme")
    rows = [
        ("lemonade", "branding", "winter", "tv", 4),
        ("cola", "performance", "spring", "radio", 4),
        ("cola", "branding", "spring", "tv", 4),
        ("cola", "branding", "spring", "radio", 3),
    ]
    for product_name, campaign_type, campaign_name, channel_name, day in rows:
        product, _ = old.get_model("measurements", "Product").objects.get_or_create(
            organization=organization, name=product_name
        )
        campaign, _ = old.get_model("measurements", "Campaign").objects.get_or_create(
            organization=organization,
            product=product,
            campaign_type=campaign_type,
            name=campaign_name,
        )
        channel, _ = old.get_model("measurements", "Channel").objects.get_or_create(
            organization=organization, name=channel_name
        )
        old.get_model("measurements", "Measurement").objects.create(
            organization=organization,
            campaign=campaign,
            channel=channel,
            date=datetime.date(2021, 1, day),
            conversions=float(day),
        )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    listed = Measurement.objects.filter(organization_id=organization.pk).order_by(
        "date", "product_name", "campaign_type", "campaign_name", "channel_name"
    )
    assert [
        (m.date.day, m.product_name, m.campaign_type, m.campaign_name, m.channel_name)
        for m in listed
    ] == [
        (3, "cola", "branding", "spring", "radio"),
        (4, "cola", "branding", "spring", "tv"),
        (4, "cola", "performance", "spring", "radio"),
        (4, "lemonade", "branding", "winter", "tv"),
    ]
