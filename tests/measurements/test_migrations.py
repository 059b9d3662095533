"""Migrations that fill new tables from the measurements already stored work on a database
that has measurements (the test database has none when it is migrated)."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from marketing_op.measurements.models import CampaignChannel

BEFORE_CAMPAIGN_CHANNELS = [("measurements", "0004_conversion_summaries")]


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
    executor.migrate(executor.loader.graph.leaf_nodes())

    listed = CampaignChannel.objects.filter(organization_id=organization.pk).order_by(
        "list_position"
    )
    assert [
        (pair.campaign_name, pair.list_position, pair.first_day.day, pair.last_day.day)
        for pair in listed
    ] == [("spring", 1, 6, 6), ("winter", 2, 4, 9)]
