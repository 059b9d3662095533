"""Spend: a nullable ``spend`` on the measurement (null: unknown) and on the daily and weekly
summaries (the sum of the known spend; null when none is known).

Cheap on a large table: nullable columns without a default are added without rewriting the
table, and every stored row's spend is then unknown, which is what the summaries' null
already says, so there is nothing to fill in. On PostgreSQL the check of the spend's bounds
is added ``NOT VALID``: every stored row has a null spend, so there is nothing to check, and
the table is not read under its exclusive lock; PostgreSQL checks every row written after.
"""

from django.db import migrations, models


class AddCheckWithoutScan(migrations.AddConstraint):
    """``AddConstraint`` that, on PostgreSQL, skips checking the rows already stored."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor != "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
            return
        model = to_state.apps.get_model(app_label, self.model_name)
        schema_editor.execute(f"{self.constraint.create_sql(model, schema_editor)} NOT VALID")


def spend_field(help_text: str) -> models.FloatField:
    return models.FloatField(blank=True, null=True, help_text=help_text)


SUMMED_SPEND = "The known spend of the measurements summed; null when none is known."


class Migration(migrations.Migration):
    dependencies = [("measurements", "0008_measurement_list_order")]

    operations = [
        migrations.AddField(
            model_name="measurement",
            name="spend",
            field=spend_field("The media spend of that day; null when unknown."),
        ),
        migrations.AddField(
            model_name="dailyconversions", name="spend", field=spend_field(SUMMED_SPEND)
        ),
        migrations.AddField(
            model_name="weeklyconversions", name="spend", field=spend_field(SUMMED_SPEND)
        ),
        AddCheckWithoutScan(
            model_name="measurement",
            constraint=models.CheckConstraint(
                condition=models.Q(("spend__isnull", True))
                | models.Q(("spend__gte", 0), ("spend__lte", 1000000000000000.0)),
                name="measurement_spend_finite_non_negative",
            ),
        ),
    ]
