"""Every index of measurement data leads with the organisation (docs/scaling.md): a table
sharded by organisation (Citus) keeps each organisation's rows and index entries on one
node, and every query names the organisation. The single-column indexes that Django made
for the campaign of a measurement, the product and channel of a summary and the product of
a campaign give way to (organisation, campaign), (organisation, product) and (organisation,
channel); a campaign's product is served by its unique key, which leads with (organisation,
product), and the history's user by nothing (a user's imports are few, and found by
organisation). The new indexes are built before the old ones go, so that the campaign filter
always has one; while they are built imports wait and reads go on.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_organization_data_version"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("measurements", "0009_spend"),
    ]

    operations = [
        migrations.AlterField(
            model_name="importrecord",
            name="user",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddIndex(
            model_name="dailyconversions",
            index=models.Index(fields=["organization", "product"], name="daily_org_product"),
        ),
        migrations.AddIndex(
            model_name="dailyconversions",
            index=models.Index(fields=["organization", "channel"], name="daily_org_channel"),
        ),
        migrations.AddIndex(
            model_name="measurement",
            index=models.Index(
                fields=["organization", "campaign"], name="measurement_org_campaign"
            ),
        ),
        migrations.AddIndex(
            model_name="weeklyconversions",
            index=models.Index(fields=["organization", "product"], name="weekly_org_product"),
        ),
        migrations.AddIndex(
            model_name="weeklyconversions",
            index=models.Index(fields=["organization", "channel"], name="weekly_org_channel"),
        ),
        migrations.AlterField(
            model_name="campaign",
            name="product",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="campaigns",
                to="measurements.product",
            ),
        ),
        migrations.AlterField(
            model_name="dailyconversions",
            name="channel",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="measurements.channel",
            ),
        ),
        migrations.AlterField(
            model_name="dailyconversions",
            name="product",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="measurements.product",
            ),
        ),
        migrations.AlterField(
            model_name="measurement",
            name="campaign",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="measurements",
                to="measurements.campaign",
            ),
        ),
        migrations.AlterField(
            model_name="weeklyconversions",
            name="channel",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="measurements.channel",
            ),
        ),
        migrations.AlterField(
            model_name="weeklyconversions",
            name="product",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="measurements.product",
            ),
        ),
    ]
