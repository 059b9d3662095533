"""The campaign-channel pairs of the measurements stored before 0005: a migration of its
own, because the unique constraints that the listing relies on are created at the end of
the migration that creates the table."""

from django.db import migrations


def list_existing_campaign_channels(apps, schema_editor):
    """The campaign-channel pairs of the measurements already stored."""
    from marketing_op.measurements.services import campaign_channels_refresh

    measurement = apps.get_model("measurements", "Measurement")
    organizations = measurement.objects.values_list("organization_id", flat=True).distinct()
    for organization_id in organizations.order_by("organization_id"):
        campaign_channels_refresh(organization_id=organization_id)
    if schema_editor.connection.vendor == "postgresql":
        # Statistics at once, so that the first walks of the pairs are planned well.
        schema_editor.execute("ANALYZE measurements_campaignchannel")


class Migration(migrations.Migration):
    dependencies = [("measurements", "0005_campaign_channels")]

    operations = [
        migrations.RunPython(list_existing_campaign_channels, migrations.RunPython.noop),
    ]
