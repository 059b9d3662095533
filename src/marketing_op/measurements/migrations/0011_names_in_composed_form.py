"""Every stored name of a product, campaign type, campaign and channel in Unicode's composed
form (NFC), as imports now store them and filters compare them (issue 24.6): ``Café`` with a
decomposed accent (``e`` and U+0301) becomes ``Café`` with a composed one (U+00E9).

Only the names that change are written: the products, channels and campaigns that hold them,
the measurements' copies of their names, and the summaries' campaign types. Where
normalising would make two names that are stored as different ones equal (two products of
one organisation that differ only in how an accent is encoded, say), the migration changes
nothing and stops with a message that lists them per organisation, with the SQL that renames
one of each pair; once they differ, ``migrate`` runs again. Reversing it changes nothing.

Carries its own code (no import of the service's), as every migration does.
"""

# The SQL built below is text of the message for the operator, never run here.
# ruff: noqa: S608

from __future__ import annotations

import unicodedata
from collections import defaultdict
from typing import Any

from django.core.management.base import CommandError
from django.db import migrations


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def sql_text(text: str) -> str:
    """A PostgreSQL string literal of the text, every character that is not plain ASCII
    written as its code point (``U&'Cafe\\0301'``), so that two look-alike spellings read
    apart in the message and paste exactly."""
    out = []
    for character in text:
        code = ord(character)
        if character == "'":
            out.append("''")
        elif character == "\\":
            out.append("\\\\")
        elif 32 <= code < 127:
            out.append(character)
        elif code <= 0xFFFF:
            out.append(f"\\{code:04X}")
        else:
            out.append(f"\\+{code:06X}")
    return "U&'" + "".join(out) + "'"


def spelt(text: str) -> str:
    """A name with its code points visible: ``'Cafe\\u0301'``."""
    return ascii(text)


class Clashes:
    """The groups of stored names that normalising would make equal, per organisation, each
    with the SQL that gives the second and later spellings a name of their own."""

    def __init__(self) -> None:
        self.found: dict[int, list[str]] = defaultdict(list)

    def add(self, organization_id: int, what: str, spellings: list[str], renames: list[str]):
        listed = " and ".join(spelt(spelling) for spelling in spellings)
        self.found[organization_id].append(
            f"  {what} {nfc(spellings[0])!r}, stored as {listed}; "
            "to rename all but the first:\n"
            + "".join(f"      {statement};\n" for statement in renames)
        )

    def message(self, organizations: dict[int, str]) -> str:
        parts = [
            "Names cannot be put in Unicode's composed form (NFC): names that are stored as "
            "different ones would become equal. Nothing was changed.\n"
        ]
        for organization_id in sorted(self.found):
            name = organizations.get(organization_id, "?")
            parts.append(f"Organisation {name!r} (id {organization_id}):")
            parts.extend(self.found[organization_id])
        parts.append(
            "Each of these looks like one name but is spelt with different characters (an "
            "accent composed or decomposed, say), so the data holds it twice. Rename all but "
            "one spelling of each with the SQL statements above (PostgreSQL's psql, in one "
            "transaction; any other new name will do), then run `marketing-op migrate` "
            "again. (Rows that should be under one name can then be moved there: the upgrade "
            "notes of the manual say how.)"
        )
        return "\n".join(parts)


def _renamed(spellings: list[str]) -> list[tuple[str, str]]:
    """(old spelling, new name) for each spelling but the first."""
    base = nfc(spellings[0])
    return [(old, f"{base} ({number})") for number, old in enumerate(spellings[1:], start=2)]


def names_normalise(apps: Any, schema_editor: Any) -> None:
    Organization = apps.get_model("accounts", "Organization")
    Product = apps.get_model("measurements", "Product")
    Channel = apps.get_model("measurements", "Channel")
    Campaign = apps.get_model("measurements", "Campaign")
    Measurement = apps.get_model("measurements", "Measurement")
    summaries = [
        apps.get_model("measurements", "DailyConversions"),
        apps.get_model("measurements", "WeeklyConversions"),
    ]
    products = list(Product.objects.order_by("id").values_list("id", "organization_id", "name"))
    channels = list(Channel.objects.order_by("id").values_list("id", "organization_id", "name"))
    campaigns = list(
        Campaign.objects.order_by("id").values_list(
            "id", "organization_id", "product_id", "campaign_type", "name"
        )
    )
    if all(
        unicodedata.is_normalized("NFC", text)
        for text in (
            *(name for *_, name in products),
            *(name for *_, name in channels),
            *(text for *_, campaign_type, name in campaigns for text in (campaign_type, name)),
        )
    ):
        return
    product_names = {pk: name for pk, _, name in products}
    clashes = Clashes()

    def grouped(entries: list[tuple[Any, int, str]]) -> list[tuple[int, list[tuple[Any, str]]]]:
        """Entries (id, organisation, name) whose names become equal: per organisation."""
        groups: dict[tuple[int, str], list[tuple[Any, str]]] = defaultdict(list)
        for pk, organization_id, name in entries:
            groups[(organization_id, nfc(name))].append((pk, name))
        return [
            (organization_id, members)
            for (organization_id, _), members in groups.items()
            if len({name for _, name in members}) > 1
        ]

    for organization_id, members in grouped(products):
        spellings = [name for _, name in members]
        renames = []
        for (pk, old), (_, new) in zip(members[1:], _renamed(spellings), strict=True):
            renames += [
                f"UPDATE measurements_product SET name = {sql_text(new)} WHERE id = {pk}",
                f"UPDATE measurements_measurement SET product_name = {sql_text(new)} "
                f"WHERE organization_id = {organization_id} AND product_name = {sql_text(old)}",
            ]
        clashes.add(organization_id, "products", spellings, renames)
    for organization_id, members in grouped(channels):
        spellings = [name for _, name in members]
        renames = []
        for (pk, _), (_, new) in zip(members[1:], _renamed(spellings), strict=True):
            renames += [
                f"UPDATE measurements_channel SET name = {sql_text(new)} WHERE id = {pk}",
                f"UPDATE measurements_measurement SET channel_name = {sql_text(new)} "
                f"WHERE organization_id = {organization_id} AND channel_id = {pk}",
            ]
        clashes.add(organization_id, "channels", spellings, renames)
    types = {(organization_id, kind) for _, organization_id, _, kind, _ in campaigns}
    for organization_id, members in grouped([(kind, org, kind) for org, kind in sorted(types)]):
        spellings = [name for _, name in members]
        renames = []
        for old, new in _renamed(spellings):
            for table in (
                "campaign",
                "measurement",
                "dailyconversions",
                "weeklyconversions",
            ):
                renames.append(
                    f"UPDATE measurements_{table} SET campaign_type = {sql_text(new)} "
                    f"WHERE organization_id = {organization_id} "
                    f"AND campaign_type = {sql_text(old)}"
                )
        clashes.add(organization_id, "campaign types", spellings, renames)
    by_product_and_type = [
        ((pk, name), organization_id, f"{product_id}\x00{nfc(kind)}\x00{name}")
        for pk, organization_id, product_id, kind, name in campaigns
    ]
    for organization_id, members in grouped(by_product_and_type):
        campaign_ids = [pk for (pk, _), _ in members]
        by_id = {pk: (product_id, kind) for pk, _, product_id, kind, _ in campaigns}
        product_id, kind = by_id[campaign_ids[0]]
        spellings = [name for (_, name), _ in members]
        renames = []
        for pk, (_, new) in zip(campaign_ids[1:], _renamed(spellings), strict=True):
            renames += [
                f"UPDATE measurements_campaign SET name = {sql_text(new)} WHERE id = {pk}",
                f"UPDATE measurements_measurement SET campaign_name = {sql_text(new)} "
                f"WHERE organization_id = {organization_id} AND campaign_id = {pk}",
            ]
        what = f"campaigns of product {nfc(product_names[product_id])!r} ({nfc(kind)})"
        clashes.add(organization_id, what, spellings, renames)
    if clashes.found:
        organizations = dict(
            Organization.objects.filter(pk__in=list(clashes.found)).values_list("pk", "name")
        )
        raise CommandError(clashes.message(organizations))

    for pk, organization_id, name in products:
        if nfc(name) != name:
            Product.objects.filter(pk=pk).update(name=nfc(name))
            Measurement.objects.filter(organization_id=organization_id, product_name=name).update(
                product_name=nfc(name)
            )
    for pk, organization_id, name in channels:
        if nfc(name) != name:
            Channel.objects.filter(pk=pk).update(name=nfc(name))
            Measurement.objects.filter(organization_id=organization_id, channel_id=pk).update(
                channel_name=nfc(name)
            )
    for pk, organization_id, _, kind, name in campaigns:
        if nfc(name) != name or nfc(kind) != kind:
            Campaign.objects.filter(pk=pk).update(name=nfc(name), campaign_type=nfc(kind))
            Measurement.objects.filter(organization_id=organization_id, campaign_id=pk).update(
                campaign_name=nfc(name), campaign_type=nfc(kind)
            )
    for organization_id, kind in types:
        if nfc(kind) != kind:
            for model in summaries:
                model.objects.filter(organization_id=organization_id, campaign_type=kind).update(
                    campaign_type=nfc(kind)
                )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_organization_data_version"),
        ("measurements", "0010_indexes_lead_with_organization"),
    ]

    operations = [migrations.RunPython(names_normalise, migrations.RunPython.noop)]
