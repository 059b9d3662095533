"""The campaign-channel pairs of the measurements stored before 0005: a migration of its
own, because the unique constraints that the listing relies on are created at the end of
the migration that creates the table. It carries its own SQL (the pairs are dropped again
by 0008)."""

from django.db import migrations

LIST_CAMPAIGN_CHANNELS = (
    "INSERT INTO measurements_campaignchannel (organization_id, campaign_id, channel_id, "
    "product_name, campaign_type, campaign_name, channel_name, first_day, last_day) "
    "SELECT m.organization_id, m.campaign_id, m.channel_id, p.name, c.campaign_type, c.name, "
    "ch.name, MIN(m.date), MAX(m.date) FROM measurements_measurement m "
    "JOIN measurements_campaign c ON c.id = m.campaign_id "
    "JOIN measurements_product p ON p.id = c.product_id "
    "JOIN measurements_channel ch ON ch.id = m.channel_id "
    "GROUP BY m.organization_id, m.campaign_id, m.channel_id, p.name, c.campaign_type, c.name, "
    "ch.name"
)
RANK_CAMPAIGN_CHANNELS = (
    "UPDATE measurements_campaignchannel SET list_position = ranked.position FROM ("
    "SELECT id, row_number() OVER (PARTITION BY organization_id ORDER BY product_name, "
    "campaign_type, campaign_name, channel_name) AS position FROM measurements_campaignchannel"
    ") ranked WHERE measurements_campaignchannel.id = ranked.id"
)


def list_existing_campaign_channels(apps, schema_editor):
    """The campaign-channel pairs of the measurements already stored."""
    schema_editor.execute(LIST_CAMPAIGN_CHANNELS)
    schema_editor.execute(RANK_CAMPAIGN_CHANNELS)


class Migration(migrations.Migration):
    dependencies = [("measurements", "0005_campaign_channels")]

    operations = [
        migrations.RunPython(list_existing_campaign_channels, migrations.RunPython.noop),
    ]
