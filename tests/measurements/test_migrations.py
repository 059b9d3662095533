"""Migrations that fill new tables from the measurements already stored work on a database
that has measurements (the test database has none when it is migrated), and carry their own
SQL: no migration imports the service's code, whose later edits would change what migrating
an old database does."""

from __future__ import annotations

import ast
import datetime
from pathlib import Path

import pytest
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

import marketing_op
from marketing_op.measurements.models import (
    Campaign,
    Channel,
    DailyConversions,
    ImportRecord,
    Measurement,
    Product,
    WeeklyConversions,
)

BEFORE_SUMMARIES = [("measurements", "0003_measurement_drop_redundant_indexes")]
WITH_CAMPAIGN_CHANNELS = [("measurements", "0006_list_campaign_channels")]
BEFORE_LIST_ORDER_NAMES = WITH_CAMPAIGN_CHANNELS
BEFORE_SPEND = [("measurements", "0008_measurement_list_order")]
BEFORE_ORGANIZATION_INDEXES = [("measurements", "0009_spend")]
PACKAGE = Path(marketing_op.__file__).parent


def day(number: int) -> datetime.date:
    """A day of January 2021, whose 4th and 11th are Mondays."""
    return datetime.date(2021, 1, number)


@pytest.fixture
def migrated_back():
    """The database at ``BEFORE_SUMMARIES``; migrated forward to the latest afterwards."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_SUMMARIES)
    yield executor.loader.project_state(BEFORE_SUMMARIES).apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def store(old, organization_name, product_name, measurements):
    """``measurements``: (campaign name, channel name, day, conversions), all branding."""
    organization = old.get_model("accounts", "Organization").objects.create(name=organization_name)
    product = old.get_model("measurements", "Product").objects.create(
        organization=organization, name=product_name
    )
    campaigns, channels = {}, {}
    for campaign_name, channel_name, date, conversions in measurements:
        if campaign_name not in campaigns:
            campaigns[campaign_name] = old.get_model("measurements", "Campaign").objects.create(
                organization=organization,
                product=product,
                campaign_type="branding",
                name=campaign_name,
            )
        if channel_name not in channels:
            channels[channel_name] = old.get_model("measurements", "Channel").objects.create(
                organization=organization, name=channel_name
            )
        old.get_model("measurements", "Measurement").objects.create(
            organization=organization,
            campaign=campaigns[campaign_name],
            channel=channels[channel_name],
            date=date,
            conversions=conversions,
        )
    return organization.pk


@pytest.mark.django_db(transaction=True)
def test_migrating_stored_measurements_summarises_and_lists_them(migrated_back):
    acme = store(
        migrated_back,
        "acme",
        "cola",
        [
            ("winter", "tv", day(4), 1.0),
            ("spring", "tv", day(4), 16.0),
            ("spring", "tv", day(6), 4.0),
            ("winter", "tv", day(9), 2.0),
            ("winter", "radio", day(11), 8.0),
        ],
    )
    globex = store(migrated_back, "globex", "tea", [("summer", "tv", day(5), 2.5)])

    executor = MigrationExecutor(connection)
    executor.migrate(WITH_CAMPAIGN_CHANNELS)
    new = executor.loader.project_state(WITH_CAMPAIGN_CHANNELS).apps

    def summaries(model, period, organization):
        rows = new.get_model("measurements", model).objects.filter(organization_id=organization)
        fields = (period, "product__name", "channel__name", "conversions", "measurements")
        return sorted(rows.values_list(*fields))

    def campaign_channels(organization):
        rows = new.get_model("measurements", "CampaignChannel").objects.filter(
            organization_id=organization
        )
        return list(
            rows.order_by("list_position").values_list(
                "list_position", "campaign_name", "channel_name", "first_day", "last_day"
            )
        )

    assert summaries("DailyConversions", "date", acme) == [
        (day(4), "cola", "tv", 17.0, 2),
        (day(6), "cola", "tv", 4.0, 1),
        (day(9), "cola", "tv", 2.0, 1),
        (day(11), "cola", "radio", 8.0, 1),
    ]
    assert summaries("WeeklyConversions", "week", acme) == [
        (day(4), "cola", "tv", 23.0, 4),
        (day(11), "cola", "radio", 8.0, 1),
    ]
    assert summaries("DailyConversions", "date", globex) == [(day(5), "tea", "tv", 2.5, 1)]
    assert summaries("WeeklyConversions", "week", globex) == [(day(4), "tea", "tv", 2.5, 1)]
    assert campaign_channels(acme) == [
        (1, "spring", "tv", day(4), day(6)),
        (2, "winter", "radio", day(11), day(11)),
        (3, "winter", "tv", day(4), day(9)),
    ]
    assert campaign_channels(globex) == [(1, "summer", "tv", day(5), day(5))]


def imported_modules(source: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules.add(node.module)
        elif isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
    return modules


def test_no_migration_imports_the_services_code():
    migrations = sorted(PACKAGE.glob("*/migrations/[0-9]*.py"))
    assert migrations, f"no migrations found under {PACKAGE}"
    offending = {
        f"{source.relative_to(PACKAGE)}: {module}"
        for source in migrations
        for module in imported_modules(source)
        if module.split(".")[0] == "marketing_op" and ".migrations" not in module
    }
    assert not offending, "Migrations must carry their own code:\n" + "\n".join(sorted(offending))


@pytest.mark.django_db(transaction=True)
def test_migrating_stored_measurements_gives_them_their_names_in_list_order():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_LIST_ORDER_NAMES)
    old = executor.loader.project_state(BEFORE_LIST_ORDER_NAMES).apps
    organization = old.get_model("accounts", "Organization").objects.create(name="acme")
    rows = [
        ("lemonade", "branding", "winter", "tv", 4),
        ("cola", "performance", "spring", "radio", 4),
        ("cola", "branding", "spring", "tv", 4),
        ("cola", "branding", "spring", "radio", 3),
    ]
    for product_name, campaign_type, campaign_name, channel_name, day in rows:
        product, _ = old.get_model("measurements", "Product").objects.get_or_create(
            organization=organization, name=product_name
        )
        campaign, _ = old.get_model("measurements", "Campaign").objects.get_or_create(
            organization=organization,
            product=product,
            campaign_type=campaign_type,
            name=campaign_name,
        )
        channel, _ = old.get_model("measurements", "Channel").objects.get_or_create(
            organization=organization, name=channel_name
        )
        old.get_model("measurements", "Measurement").objects.create(
            organization=organization,
            campaign=campaign,
            channel=channel,
            date=datetime.date(2021, 1, day),
            conversions=float(day),
        )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    listed = Measurement.objects.filter(organization_id=organization.pk).order_by(
        "date", "product_name", "campaign_type", "campaign_name", "channel_name"
    )
    assert [
        (m.date.day, m.product_name, m.campaign_type, m.campaign_name, m.channel_name)
        for m in listed
    ] == [
        (3, "cola", "branding", "spring", "radio"),
        (4, "cola", "branding", "spring", "tv"),
        (4, "cola", "performance", "spring", "radio"),
        (4, "lemonade", "branding", "winter", "tv"),
    ]


@pytest.mark.django_db(transaction=True)
def test_migrating_stored_measurements_leaves_their_spend_unknown_and_checks_new_spend():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_SPEND)
    old = executor.loader.project_state(BEFORE_SPEND).apps
    organization = old.get_model("accounts", "Organization").objects.create(name="acme")
    product = old.get_model("measurements", "Product").objects.create(
        organization=organization, name="cola"
    )
    campaign = old.get_model("measurements", "Campaign").objects.create(
        organization=organization, product=product, campaign_type="branding", name="spring"
    )
    channel = old.get_model("measurements", "Channel").objects.create(
        organization=organization, name="tv"
    )
    stored = old.get_model("measurements", "Measurement").objects.create(
        organization=organization,
        campaign=campaign,
        channel=channel,
        date=day(4),
        product_name="cola",
        campaign_type="branding",
        campaign_name="spring",
        channel_name="tv",
        conversions=3.0,
    )
    for model, period in (("DailyConversions", "date"), ("WeeklyConversions", "week")):
        old.get_model("measurements", model).objects.create(
            organization=organization,
            product=product,
            campaign_type="branding",
            channel=channel,
            conversions=3.0,
            measurements=1,
            **{period: day(4)},
        )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert Measurement.objects.get(pk=stored.pk).spend is None
    assert DailyConversions.objects.get(organization_id=organization.pk).spend is None
    assert WeeklyConversions.objects.get(organization_id=organization.pk).spend is None
    for refused in (-1.0, 2e15, float("inf"), float("nan")):
        with pytest.raises(IntegrityError), transaction.atomic():
            Measurement.objects.filter(pk=stored.pk).update(spend=refused)
    Measurement.objects.filter(pk=stored.pk).update(spend=12.5)
    assert Measurement.objects.get(pk=stored.pk).spend == 12.5


MEASUREMENT_DATA = [
    Measurement,
    DailyConversions,
    WeeklyConversions,
    Product,
    Campaign,
    Channel,
    ImportRecord,
]


def keys_and_indexes(model) -> dict[str, list[str]]:
    """The columns of every index and unique key of the model's table, but its primary key."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    return {
        name: found[name]["columns"]
        for name in found
        if (found[name]["index"] or found[name]["unique"]) and not found[name]["primary_key"]
    }


@pytest.mark.django_db
def test_every_index_and_unique_key_of_measurement_data_leads_with_the_organisation():
    """docs/scaling.md: what a table sharded by organisation (Citus) needs."""
    not_leading = {
        f"{model.__name__}.{name}": columns
        for model in MEASUREMENT_DATA
        for name, columns in keys_and_indexes(model).items()
        if columns[0] != "organization_id"
    }

    assert not_leading == {}
    assert ["organization_id", "campaign_id"] in keys_and_indexes(Measurement).values()


@pytest.mark.django_db(transaction=True)
def test_the_indexes_that_lead_with_the_organisation_replace_the_old_ones_and_back():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_ORGANIZATION_INDEXES)
    old = keys_and_indexes(Measurement).values()
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    new = keys_and_indexes(Measurement).values()

    assert ["campaign_id"] in old
    assert ["organization_id", "campaign_id"] not in old
    assert ["campaign_id"] not in new
    assert ["organization_id", "campaign_id"] in new


BEFORE_NFC_NAMES = [("measurements", "0010_indexes_lead_with_organization")]
CAFE, CAFE_DECOMPOSED = "Caf\u00e9", "Cafe\u0301"


def store_named(old, organization, product, campaign_type, campaign, channel, date):
    """One measurement with these names (and its daily summary), as the import stored them."""
    models = {name: old.get_model("measurements", name) for name in ("Product", "Campaign")}
    product_row, _ = models["Product"].objects.get_or_create(
        organization=organization, name=product
    )
    campaign_row, _ = models["Campaign"].objects.get_or_create(
        organization=organization, product=product_row, campaign_type=campaign_type, name=campaign
    )
    channel_row, _ = old.get_model("measurements", "Channel").objects.get_or_create(
        organization=organization, name=channel
    )
    old.get_model("measurements", "Measurement").objects.create(
        organization=organization,
        campaign=campaign_row,
        channel=channel_row,
        date=date,
        product_name=product,
        campaign_type=campaign_type,
        campaign_name=campaign,
        channel_name=channel,
        conversions=2.0,
    )
    old.get_model("measurements", "DailyConversions").objects.create(
        organization=organization,
        product=product_row,
        campaign_type=campaign_type,
        channel=channel_row,
        date=date,
        conversions=2.0,
        measurements=1,
    )


@pytest.fixture
def before_nfc_names():
    """The database before names were normalised; afterwards migrated to the latest (with
    the test's rows deleted, which the clash test leaves unmigrated)."""
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_NFC_NAMES)
    yield executor.loader.project_state(BEFORE_NFC_NAMES).apps
    with connection.cursor() as cursor:
        for table in (
            "measurements_measurement",
            "measurements_dailyconversions",
            "measurements_campaign",
            "measurements_product",
            "measurements_channel",
        ):
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def names_stored():
    return {
        "products": sorted(Product.objects.values_list("organization__name", "name")),
        "campaigns": sorted(Campaign.objects.values_list("campaign_type", "name")),
        "channels": sorted(Channel.objects.values_list("name", flat=True)),
        "measurements": sorted(
            Measurement.objects.values_list(
                "product_name", "campaign_type", "campaign_name", "channel_name", "date"
            )
        ),
        "daily": sorted(DailyConversions.objects.values_list("campaign_type", "date")),
    }


@pytest.mark.django_db(transaction=True)
def test_migrating_puts_every_stored_name_in_composed_form(before_nfc_names):
    old = before_nfc_names
    acme = old.get_model("accounts", "Organization").objects.create(name="acme")
    globex = old.get_model("accounts", "Organization").objects.create(name="globex")
    store_named(
        old, acme, CAFE_DECOMPOSED, "bra\u0308nding", "e\u0301te\u0301", "te\u0301le\u0301", day(4)
    )
    store_named(old, acme, "cola", "branding", "winter", "tv", day(5))
    # Another organisation may hold the other spelling: its names are its own.
    store_named(old, globex, CAFE, "br\u00e4nding", "\u00e9t\u00e9", "t\u00e9l\u00e9", day(4))

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    composed = (CAFE, "br\u00e4nding", "\u00e9t\u00e9", "t\u00e9l\u00e9")
    assert names_stored() == {
        "products": [("acme", CAFE), ("acme", "cola"), ("globex", CAFE)],
        "campaigns": [("branding", "winter"), *[("br\u00e4nding", "\u00e9t\u00e9")] * 2],
        "channels": ["tv", "t\u00e9l\u00e9", "t\u00e9l\u00e9"],
        "measurements": [
            (*composed, day(4)),
            (*composed, day(4)),
            ("cola", "branding", "winter", "tv", day(5)),
        ],
        "daily": [("branding", day(5)), ("br\u00e4nding", day(4)), ("br\u00e4nding", day(4))],
    }


@pytest.mark.django_db(transaction=True)
def test_migrating_stops_where_two_stored_names_would_become_one_and_says_how_to_resolve(
    before_nfc_names,
):
    old = before_nfc_names
    acme = old.get_model("accounts", "Organization").objects.create(name="acme")
    store_named(old, acme, CAFE, "branding", "winter", "tv", day(4))
    store_named(old, acme, CAFE_DECOMPOSED, "branding", "winter", "tv", day(4))
    store_named(old, acme, "cola", "branding", "spring", "t\u00e9l\u00e9", day(5))
    store_named(old, acme, "cola", "branding", "spring", "te\u0301le\u0301", day(6))
    before = names_stored()

    executor = MigrationExecutor(connection)
    with pytest.raises(CommandError) as stopped:
        executor.migrate(executor.loader.graph.leaf_nodes())

    message = str(stopped.value)
    assert "Nothing was changed" in message
    assert "Organisation 'acme'" in message
    assert f"products {CAFE!r}, stored as 'Caf\\xe9' and 'Cafe\\u0301'" in message
    assert "channels 't\u00e9l\u00e9', stored as 't\\xe9l\\xe9' and 'te\\u0301le\\u0301'" in message
    assert "marketing-op migrate" in message
    assert names_stored() == before
    recorded = MigrationExecutor(connection).loader.applied_migrations
    assert ("measurements", "0011_names_in_composed_form") not in recorded

    # The statements the message gives rename one of each pair; then the migration runs.
    statements = [
        line.strip().rstrip(";")
        for line in message.splitlines()
        if line.strip().startswith("UPDATE")
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert sorted(Product.objects.values_list("name", flat=True)) == [CAFE, f"{CAFE} (2)", "cola"]
    assert sorted(Channel.objects.values_list("name", flat=True)) == [
        "tv",
        "t\u00e9l\u00e9",
        "t\u00e9l\u00e9 (2)",
    ]
    assert sorted(Measurement.objects.values_list("product_name", "channel_name", "date")) == [
        (CAFE, "tv", day(4)),
        (f"{CAFE} (2)", "tv", day(4)),
        ("cola", "t\u00e9l\u00e9", day(5)),
        ("cola", "t\u00e9l\u00e9 (2)", day(6)),
    ]
