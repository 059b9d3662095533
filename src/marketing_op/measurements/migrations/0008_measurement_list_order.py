"""The names that order the measurements list, on the measurement row, with its unique index
in list order; the campaign-channel pairs that stood in for that index go.

The names of the rows already stored are filled in by one UPDATE from their campaign,
product and channel, between dropping the old unique index and building the new one, so
that no index is kept up row by row. The migration carries its own SQL.
"""

from django.db import migrations, models

FILL_NAMES = (
    "UPDATE measurements_measurement SET product_name = p.name, "
    "campaign_type = c.campaign_type, campaign_name = c.name, channel_name = ch.name "
    "FROM measurements_campaign c JOIN measurements_product p ON p.id = c.product_id, "
    "measurements_channel ch "
    "WHERE c.id = measurements_measurement.campaign_id "
    "AND ch.id = measurements_measurement.channel_id"
)


def fill_names(apps, schema_editor):
    schema_editor.execute(FILL_NAMES)
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ANALYZE measurements_measurement")


def name_field() -> models.CharField:
    return models.CharField(default="", max_length=200)


class Migration(migrations.Migration):
    dependencies = [("measurements", "0007_import_without_privilege")]

    operations = [
        migrations.RemoveConstraint(model_name="measurement", name="measurement_unique_day"),
        migrations.AddField(
            model_name="measurement",
            name="product_name",
            field=name_field(),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="measurement",
            name="campaign_type",
            field=name_field(),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="measurement",
            name="campaign_name",
            field=name_field(),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="measurement",
            name="channel_name",
            field=name_field(),
            preserve_default=False,
        ),
        migrations.RunPython(fill_names, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="measurement",
            constraint=models.UniqueConstraint(
                fields=(
                    "organization",
                    "date",
                    "product_name",
                    "campaign_type",
                    "campaign_name",
                    "channel_name",
                ),
                name="measurement_unique_day",
            ),
        ),
        migrations.DeleteModel(name="CampaignChannel"),
    ]
