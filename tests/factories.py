"""factory-boy factories for every model; tests build their data with these."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping

import factory
from factory.django import DjangoModelFactory

from marketing_op.accounts.models import Organization, User
from marketing_op.accounts.services import organization_data_changed
from marketing_op.measurements.imports import conversion_summaries_refresh
from marketing_op.measurements.models import Campaign, Channel, Measurement, Product

TEST_PASSWORD = "correct horse battery staple"


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"organisation {n}")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"analyst{n}")
    organization = factory.SubFactory(OrganizationFactory)
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def saved(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            self.save()


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("organization", "name")

    organization = factory.SubFactory(OrganizationFactory)
    name = factory.Sequence(lambda n: f"product {n}")


class ChannelFactory(DjangoModelFactory):
    class Meta:
        model = Channel
        django_get_or_create = ("organization", "name")

    organization = factory.SubFactory(OrganizationFactory)
    name = "tv"


class CampaignFactory(DjangoModelFactory):
    class Meta:
        model = Campaign
        django_get_or_create = ("organization", "product", "campaign_type", "name")

    organization = factory.SubFactory(OrganizationFactory)
    product = factory.SubFactory(
        ProductFactory, organization=factory.SelfAttribute("..organization")
    )
    campaign_type = "performance"
    name = factory.Sequence(lambda n: f"campaign {n}")


class MeasurementFactory(DjangoModelFactory):
    """A measurement; pass ``product``, ``campaign_type``, ``campaign`` and ``channel`` as names."""

    class Meta:
        model = Measurement

    organization = factory.SubFactory(OrganizationFactory)
    product_name = "energy drink"
    campaign_type = "performance"
    campaign_name = "summer sale"
    channel_name = "tv"
    campaign = factory.LazyAttribute(
        lambda o: CampaignFactory(
            organization=o.organization,
            product=ProductFactory(organization=o.organization, name=o.product_name),
            campaign_type=o.campaign_type,
            name=o.campaign_name,
        )
    )
    channel = factory.LazyAttribute(
        lambda o: ChannelFactory(organization=o.organization, name=o.channel_name)
    )
    date = datetime.date(2021, 1, 4)
    conversions = 100.0

    @classmethod
    def _create(cls, model_class: type, *args: object, **kwargs: object) -> Measurement:
        """Like every write of measurements: summaries of its day and a new data version."""
        created = super()._create(model_class, *args, **kwargs)
        conversion_summaries_refresh(
            organization_id=created.organization_id, days=[(created.date, created.date)]
        )
        organization_data_changed(organization_id=created.organization_id)
        created.organization.refresh_from_db(fields=["data_version"])
        return created


def measurement(organization: Organization, **fields: object) -> Measurement:
    """A measurement of the organisation; names may be given as product=, campaign=, channel=."""
    renamed = {
        {"product": "product_name", "campaign": "campaign_name", "channel": "channel_name"}.get(
            key, key
        ): value
        for key, value in fields.items()
    }
    return MeasurementFactory(organization=organization, **renamed)


def stored_measurements(organization: Organization | None = None) -> list[tuple[object, ...]]:
    """(organisation, product, campaign type, campaign, channel, date, conversions) of every
    stored measurement, or of the organisation's."""
    rows = Measurement.objects.all()
    if organization is not None:
        rows = rows.filter(organization=organization)
    return list(
        rows.values_list(
            "organization__name",
            "campaign__product__name",
            "campaign__campaign_type",
            "campaign__name",
            "channel__name",
            "date",
            "conversions",
        )
    )


BULK_DEFAULTS = {
    "product_name": "energy drink",
    "campaign_type": "performance",
    "campaign_name": "summer sale",
    "channel_name": "tv",
    "date": datetime.date(2021, 1, 4),
    "conversions": 100.0,
}
"""``MeasurementFactory``'s defaults."""


def measurements_bulk(
    organization: Organization, rows: Iterable[Mapping[str, object]]
) -> list[Measurement]:
    """Many measurements at once, as an import writes them: each name made once, the rows in
    one ``bulk_create``, the summaries of their days refreshed and the data version raised
    once. A row takes the fields of ``measurement``, with the factory's defaults."""
    campaigns: dict[tuple[object, object, object], Campaign] = {}
    channels: dict[object, Channel] = {}
    made = []
    for row in rows:
        fields: dict[str, object] = {**BULK_DEFAULTS, **_model_fields(row)}
        named = (fields["product_name"], fields["campaign_type"], fields["campaign_name"])
        if named not in campaigns:
            campaigns[named] = CampaignFactory(
                organization=organization,
                product=ProductFactory(organization=organization, name=named[0]),
                campaign_type=named[1],
                name=named[2],
            )
        if fields["channel_name"] not in channels:
            channels[fields["channel_name"]] = ChannelFactory(
                organization=organization, name=fields["channel_name"]
            )
        made.append(
            Measurement(
                organization=organization,
                campaign=campaigns[named],
                channel=channels[fields["channel_name"]],
                **fields,
            )
        )
    created = Measurement.objects.bulk_create(made)
    if created:
        days = sorted(row.date for row in created)
        conversion_summaries_refresh(organization_id=organization.pk, days=[(days[0], days[-1])])
        organization_data_changed(organization_id=organization.pk)
        organization.refresh_from_db(fields=["data_version"])
    return created


def _model_fields(row: Mapping[str, object]) -> dict[str, object]:
    names = {"product": "product_name", "campaign": "campaign_name", "channel": "channel_name"}
    return {names.get(key, key): value for key, value in row.items()}
