from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_user_session_generation"),
    ]

    operations = [
        migrations.AddField(
            model_name="organization",
            name="currency",
            field=models.CharField(
                default="EUR",
                db_default="EUR",
                help_text="ISO 4217 code of the currency its spend is in (the dashboard shows it).",
                max_length=3,
            ),
        ),
    ]
