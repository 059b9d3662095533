"""Spend in exact cents: the spend of measurements and of the daily and weekly summaries
becomes ``numeric(…, 2)`` instead of a binary float (``double precision``), so that a spend
of 3957.97 stays 3957.97 and sums are exact.

A stored spend is rounded to the cent (PostgreSQL rounds half away from zero). Where a
stored spend had more than two decimals, the sum of the rounded spends may differ from the
rounded sum by a cent, so the summaries' spend is summed again from the measurements (only
the rows whose sum changes are written). On PostgreSQL the change of type rewrites the
tables and rebuilds their indexes under an exclusive lock: reads and imports wait for it
(docs, operations/upgrades.md). On SQLite, whose columns keep what they are given, the
stored values are rounded to the cent.
"""

from django.db import migrations, models

SUMMED_SPEND = "The known spend of the measurements summed; null when none is known."

DAILY_SUMS = (
    "SELECT m.organization_id, m.date, c.product_id, c.campaign_type, m.channel_id, "
    "SUM(m.spend) AS spend FROM measurements_measurement m "
    "JOIN measurements_campaign c ON c.id = m.campaign_id "
    "GROUP BY m.organization_id, m.date, c.product_id, c.campaign_type, m.channel_id"
)
WEEKLY_SUMS = (
    "SELECT d.organization_id, CAST(date_trunc('week', d.date) AS date) AS week, d.product_id, "
    "d.campaign_type, d.channel_id, SUM(d.spend) AS spend FROM measurements_dailyconversions d "
    "GROUP BY d.organization_id, 2, d.product_id, d.campaign_type, d.channel_id"
)
SUMMARY_KEY = (
    "t.organization_id = s.organization_id AND t.product_id = s.product_id "
    "AND t.campaign_type = s.campaign_type AND t.channel_id = s.channel_id"
)
POSTGRESQL = [
    f"UPDATE measurements_dailyconversions t SET spend = s.spend FROM ({DAILY_SUMS}) s "  # noqa: S608
    f"WHERE {SUMMARY_KEY} AND t.date = s.date AND t.spend IS DISTINCT FROM s.spend",
    f"UPDATE measurements_weeklyconversions t SET spend = s.spend FROM ({WEEKLY_SUMS}) s "  # noqa: S608
    f"WHERE {SUMMARY_KEY} AND t.week = s.week AND t.spend IS DISTINCT FROM s.spend",
]
SQLITE = [
    "UPDATE measurements_measurement SET spend = round(spend, 2) WHERE spend IS NOT NULL",
    "UPDATE measurements_dailyconversions SET spend = (SELECT round(SUM(m.spend), 2) "
    "FROM measurements_measurement m JOIN measurements_campaign c ON c.id = m.campaign_id "
    "WHERE m.organization_id = measurements_dailyconversions.organization_id "
    "AND m.date = measurements_dailyconversions.date "
    "AND c.product_id = measurements_dailyconversions.product_id "
    "AND c.campaign_type = measurements_dailyconversions.campaign_type "
    "AND m.channel_id = measurements_dailyconversions.channel_id)",
    "UPDATE measurements_weeklyconversions SET spend = (SELECT round(SUM(d.spend), 2) "
    "FROM measurements_dailyconversions d "
    "WHERE d.organization_id = measurements_weeklyconversions.organization_id "
    "AND date(d.date, '-6 days', 'weekday 1') = measurements_weeklyconversions.week "
    "AND d.product_id = measurements_weeklyconversions.product_id "
    "AND d.campaign_type = measurements_weeklyconversions.campaign_type "
    "AND d.channel_id = measurements_weeklyconversions.channel_id)",
]


def summaries_summed_again(apps, schema_editor):
    statements = POSTGRESQL if schema_editor.connection.vendor == "postgresql" else SQLITE
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("measurements", "0011_names_in_composed_form")]

    operations = [
        migrations.AlterField(
            model_name="measurement",
            name="spend",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="The media spend of that day; null when unknown.",
                max_digits=18,
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="dailyconversions",
            name="spend",
            field=models.DecimalField(
                blank=True, decimal_places=2, help_text=SUMMED_SPEND, max_digits=30, null=True
            ),
        ),
        migrations.AlterField(
            model_name="weeklyconversions",
            name="spend",
            field=models.DecimalField(
                blank=True, decimal_places=2, help_text=SUMMED_SPEND, max_digits=30, null=True
            ),
        ),
        migrations.RunPython(summaries_summed_again, migrations.RunPython.noop, elidable=True),
    ]
