"""The write of staged rows into the real tables: names to ids, the upsert, the replace.

Set-based SQL on the staging table: creates the products, campaigns and channels that the
organisation lacks and maps the file's series keys to campaign and channel ids
(``import_keys``), updates the rows whose conversions or spend changed, inserts the new ones
in the order of the unique index, and (with ``replace``) deletes the rows of the file's days
that the file lacks. The measurement table is locked against other writers by the caller.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from marketing_op.measurements.imports.validation import RowChecker

if TYPE_CHECKING:
    from marketing_op.measurements.imports.staging import PortableLoad


def names_add(
    cursor: Any, load: PortableLoad, checker: RowChecker, org: dict[str, Any], first: int, last: int
) -> None:
    """The products, channels and campaigns of the file's series ``first`` to ``last`` that
    the organisation lacks, and the map from those series keys to campaign and channel ids
    (``import_keys``)."""
    if first == 0:
        cursor.execute("DROP TABLE IF EXISTS import_series")
        cursor.execute(
            "CREATE TEMPORARY TABLE import_series (series integer PRIMARY KEY, product text "
            "NOT NULL, campaign_type text NOT NULL, campaign text NOT NULL, channel text NOT NULL)"
        )
        cursor.execute("DROP TABLE IF EXISTS import_keys")
        cursor.execute(
            "CREATE TEMPORARY TABLE import_keys (series integer PRIMARY KEY, "
            "campaign_id bigint NOT NULL, channel_id bigint NOT NULL)"
        )
    if last <= first:
        return
    load.series_insert(cursor, [(key, *checker.series[key]) for key in range(first, last)])
    names = {**org, "first": first}
    cursor.execute(
        "INSERT INTO measurements_product (organization_id, name) "
        "SELECT DISTINCT %(org)s, product FROM import_series WHERE series >= %(first)s "
        "ON CONFLICT (organization_id, name) DO NOTHING",
        names,
    )
    cursor.execute(
        "INSERT INTO measurements_channel (organization_id, name) "
        "SELECT DISTINCT %(org)s, channel FROM import_series WHERE series >= %(first)s "
        "ON CONFLICT (organization_id, name) DO NOTHING",
        names,
    )
    cursor.execute(
        "INSERT INTO measurements_campaign (organization_id, product_id, campaign_type, name) "
        "SELECT DISTINCT %(org)s, p.id, n.campaign_type, n.campaign FROM import_series n "
        "JOIN measurements_product p ON p.organization_id = %(org)s AND p.name = n.product "
        "WHERE n.series >= %(first)s "
        "ON CONFLICT (organization_id, product_id, campaign_type, name) DO NOTHING",
        names,
    )
    cursor.execute(
        "INSERT INTO import_keys (series, campaign_id, channel_id) "
        "SELECT n.series, c.id, ch.id FROM import_series n "
        "JOIN measurements_product p ON p.organization_id = %(org)s AND p.name = n.product "
        "JOIN measurements_campaign c ON c.organization_id = %(org)s AND c.product_id = p.id "
        "AND c.campaign_type = n.campaign_type AND c.name = n.campaign "
        "JOIN measurements_channel ch ON ch.organization_id = %(org)s AND ch.name = n.channel "
        "WHERE n.series >= %(first)s",
        names,
    )


RESOLVED_ROWS = (
    "SELECT k.campaign_id, k.channel_id, n.product, n.campaign_type, n.campaign, n.channel, "
    "s.date, s.conversions, s.spend FROM import_staging s "
    "JOIN import_keys k ON k.series = s.series "
    "JOIN import_series n ON n.series = s.series WHERE s.line > %(after)s"
)
"""The staged rows with their ids and their names: a measurement row carries both, and its
unique index is (organisation, date, product, campaign type, campaign, channel)."""

SAME_DAY = (
    "m.organization_id = %(org)s AND m.date = r.date AND m.product_name = r.product "
    "AND m.campaign_type = r.campaign_type AND m.campaign_name = r.campaign "
    "AND m.channel_name = r.channel"
)

SPEND_CHANGED = "(m.spend <> r.spend OR (m.spend IS NULL) <> (r.spend IS NULL))"
"""``m.spend IS DISTINCT FROM r.spend`` (an unknown spend differs from a known one, and two
unknown ones are the same), spelt so that SQLite before 3.39 reads it too."""

UPDATE_CHANGED = (
    "UPDATE measurements_measurement AS m "  # noqa: S608 - constant SQL fragments
    "SET conversions = r.conversions, spend = r.spend "
    f"FROM ({RESOLVED_ROWS}) AS r WHERE {SAME_DAY} "
    f"AND (m.conversions <> r.conversions OR {SPEND_CHANGED})"
)
"""A row of the file updates its stored row when its conversions or its spend differ: a file
without the spend column (or with an empty spend) makes the spend unknown again."""


def insert_sql(rows: str) -> str:
    return (
        "INSERT INTO measurements_measurement "  # noqa: S608 - constant SQL fragments
        "(organization_id, campaign_id, channel_id, product_name, campaign_type, "
        "campaign_name, channel_name, date, conversions, spend) "
        "SELECT %(org)s, r.campaign_id, r.channel_id, r.product, r.campaign_type, r.campaign, "
        f"r.channel, r.date, r.conversions, r.spend FROM ({rows}) r "
    )


INSERT_ROWS = insert_sql(RESOLVED_ROWS)
IN_INDEX_ORDER = "ORDER BY r.date, r.product, r.campaign_type, r.campaign, r.channel"
INSERT_ALL = f"{INSERT_ROWS}{IN_INDEX_ORDER}"
INSERT_NEW = (
    f"{INSERT_ROWS}WHERE NOT EXISTS "  # noqa: S608 - constant SQL fragments
    f"(SELECT 1 FROM measurements_measurement m WHERE {SAME_DAY}) {IN_INDEX_ORDER}"
)

HAS_ROWS_IN_RANGE = (
    "SELECT EXISTS (SELECT 1 FROM measurements_measurement WHERE organization_id = %(org)s "
    "AND date BETWEEN %(first)s AND %(last)s)"
)

DELETE_OTHERS = (
    "DELETE FROM measurements_measurement WHERE organization_id = %(org)s "
    "AND date BETWEEN %(first)s AND %(last)s AND NOT EXISTS ("
    "SELECT 1 FROM import_staging s JOIN import_keys k ON k.series = s.series "
    "WHERE k.campaign_id = measurements_measurement.campaign_id "
    "AND k.channel_id = measurements_measurement.channel_id "
    "AND s.date = measurements_measurement.date)"
)


def others_delete(cursor: Any, org: dict[str, Any]) -> int:
    """With ``replace``: delete the organisation's rows in the file's days that it lacks."""
    cursor.execute(DELETE_OTHERS, org)
    return max(cursor.rowcount, 0)


def upsert(cursor: Any, org: dict[str, Any]) -> tuple[int, int]:
    """Update the changed rows, then insert the new ones; (inserted, updated).

    Cheaper than ``INSERT ... ON CONFLICT`` (no speculative insertion per row); safe
    because the table is locked against other writers. Rows go in in the order of the
    unique index (organisation, date, campaign, channel), which then grows at its end.
    """
    cursor.execute(HAS_ROWS_IN_RANGE, org)
    if not cursor.fetchone()[0]:
        # Nothing of the organisation in the file's dates (a first load, or a new week):
        # every row is new, and neither the update nor the anti-join has anything to find.
        cursor.execute(INSERT_ALL, org)
        return max(cursor.rowcount, 0), 0
    cursor.execute(UPDATE_CHANGED, org)
    updated = max(cursor.rowcount, 0)
    cursor.execute(INSERT_NEW, org)
    inserted = max(cursor.rowcount, 0)
    return inserted, updated
