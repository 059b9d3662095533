"""The upkeep of ``CampaignChannel``, the ranked list of an organisation's campaign-channel
pairs that the measurement pages walk, after an import added rows.

Kept apart so that it goes away with the list when the read path stops needing it.
"""

from __future__ import annotations

from typing import Any

from django.db import connection

CAMPAIGN_CHANNEL_COLUMNS = (
    "INSERT INTO measurements_campaignchannel (organization_id, campaign_id, channel_id, "
    "product_name, campaign_type, campaign_name, channel_name, first_day, last_day) "
)
LIST_CAMPAIGN_CHANNELS = (
    f"{CAMPAIGN_CHANNEL_COLUMNS}"  # noqa: S608 - constant SQL fragments
    "SELECT m.organization_id, m.campaign_id, m.channel_id, p.name, c.campaign_type, c.name, "
    "ch.name, MIN(m.date), MAX(m.date) FROM measurements_measurement m "
    "JOIN measurements_campaign c ON c.id = m.campaign_id "
    "JOIN measurements_product p ON p.id = c.product_id "
    "JOIN measurements_channel ch ON ch.id = m.channel_id WHERE m.organization_id = %s "
    "GROUP BY m.organization_id, m.campaign_id, m.channel_id, p.name, c.campaign_type, c.name, "
    "ch.name ON CONFLICT (campaign_id, channel_id) DO UPDATE "
    "SET first_day = excluded.first_day, last_day = excluded.last_day"
)
ADD_IMPORTED_CAMPAIGN_CHANNELS = (
    f"{CAMPAIGN_CHANNEL_COLUMNS}"  # noqa: S608 - constant SQL fragments
    "SELECT %(org)s, k.campaign_id, k.channel_id, n.product, n.campaign_type, n.campaign, "
    "n.channel, d.first_day, d.last_day FROM (SELECT series, MIN(date) AS first_day, "
    "MAX(date) AS last_day FROM import_staging GROUP BY series) d "
    "JOIN import_keys k ON k.series = d.series JOIN import_series n ON n.series = d.series "
    "WHERE true ON CONFLICT (campaign_id, channel_id) DO UPDATE SET "
    "first_day = CASE WHEN excluded.first_day < measurements_campaignchannel.first_day "
    "THEN excluded.first_day ELSE measurements_campaignchannel.first_day END, "
    "last_day = CASE WHEN excluded.last_day > measurements_campaignchannel.last_day "
    "THEN excluded.last_day ELSE measurements_campaignchannel.last_day END"
)
RANK_CAMPAIGN_CHANNELS = (
    "UPDATE measurements_campaignchannel SET list_position = ranked.position FROM ("
    "SELECT id, row_number() OVER (ORDER BY product_name, campaign_type, campaign_name, "
    "channel_name) AS position FROM measurements_campaignchannel WHERE organization_id = %s"
    ") ranked WHERE measurements_campaignchannel.id = ranked.id "
    "AND measurements_campaignchannel.list_position <> ranked.position"
)


def campaign_channels_refresh(*, organization_id: int) -> None:
    """List every campaign-channel pair that the organisation has measurements of, with the
    exact days of its first and last, and rank the pairs (see ``CampaignChannel``). The
    import keeps the list itself: it adds its file's pairs, widens their days to the
    file's, and ranks the pairs again."""
    with connection.cursor() as cursor:
        cursor.execute(LIST_CAMPAIGN_CHANNELS, [organization_id])
        cursor.execute(RANK_CAMPAIGN_CHANNELS, [organization_id])


def campaign_channels_add(cursor: Any, org: dict[str, Any]) -> None:
    """The file's campaign-channel pairs, listed or with their days widened, then ranked."""
    cursor.execute(ADD_IMPORTED_CAMPAIGN_CHANNELS, org)
    cursor.execute(RANK_CAMPAIGN_CHANNELS, [org["org"]])
