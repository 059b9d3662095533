"""Deterministic demo data shaped like the output of a marketing-mix model.

Two products, the three campaign types, campaigns with flights (start and end dates), the
contract's channels, one row per campaign, channel and day from 2020-01-01 to 2023-05-31,
with weekly and yearly seasonality and channel-specific scale. Every row has a spend: the
media plan's daily budget of the channel (which follows the campaign's flight, not the
day's luck), so each channel has its own return on spend (``CHANNEL_ROAS``: search cheap,
TV and print costly), and stronger campaigns return a little more per euro. ``rows`` and
``seed`` make the same data every time; more rows add more campaigns.
"""

from __future__ import annotations

import datetime
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from marketing_op.measurements.imports import MeasurementRow

DEMO_ROWS = 26_000
DEMO_SEED = 42
FIRST_DAY = datetime.date(2020, 1, 1)
LAST_DAY = datetime.date(2023, 5, 31)
PRODUCTS = ("energy drink", "sparkling water")
CAMPAIGN_TYPES = ("always on", "branding", "performance")
CHANNEL_SCALE = {
    "tv": 2400.0,
    "radio": 520.0,
    "ooh": 380.0,
    "facebook": 900.0,
    "print": 160.0,
    "tiktok": 610.0,
    "instagram": 700.0,
    "dv360 - prospecting": 330.0,
    "dv360 - retargeting": 280.0,
    "db360 - prospecting": 120.0,
    "db360 - retargeting": 95.0,
    "google - branded search": 1100.0,
    "google - non-branded search": 760.0,
    "folder": 140.0,
}
CHANNEL_ROAS = {
    "tv": 1.4,
    "radio": 2.1,
    "ooh": 1.7,
    "facebook": 3.2,
    "print": 1.2,
    "tiktok": 2.6,
    "instagram": 2.9,
    "dv360 - prospecting": 2.3,
    "dv360 - retargeting": 4.8,
    "db360 - prospecting": 2.0,
    "db360 - retargeting": 4.1,
    "google - branded search": 7.5,
    "google - non-branded search": 4.4,
    "folder": 1.6,
}
"""Conversions (net sales) per euro of spend that each channel returns on average."""
CHANNELS_BY_TYPE = {
    "always on": (
        "google - branded search",
        "google - non-branded search",
        "facebook",
        "instagram",
        "dv360 - retargeting",
        "db360 - retargeting",
    ),
    "branding": ("tv", "radio", "ooh", "print", "tiktok", "folder", "instagram"),
    "performance": (
        "facebook",
        "tiktok",
        "dv360 - prospecting",
        "db360 - prospecting",
        "google - non-branded search",
        "instagram",
    ),
}
SEASON_BY_MONTH = (
    "winter",
    "winter",
    "spring",
    "spring",
    "spring",
    "summer",
    "summer",
    "summer",
    "autumn",
    "autumn",
    "autumn",
    "winter",
)
CAMPAIGN_THEMES = ("launch", "sale", "festival", "sports", "loyalty", "family", "outdoor")
WEEKDAY_FACTOR = (0.92, 0.95, 0.98, 1.0, 1.12, 1.18, 0.85)


@dataclass(frozen=True)
class DemoCampaign:
    product: str
    campaign_type: str
    name: str
    first_day: datetime.date
    last_day: datetime.date
    channels: tuple[str, ...]
    strength: float


def demo_campaigns(*, seed: int = DEMO_SEED) -> Iterator[DemoCampaign]:
    """An endless, deterministic stream of campaigns with flights inside the demo period."""
    rng = random.Random(seed)
    span = (LAST_DAY - FIRST_DAY).days
    number = 0
    while True:
        number += 1
        campaign_type = CAMPAIGN_TYPES[number % len(CAMPAIGN_TYPES)]
        product = PRODUCTS[(number // len(CAMPAIGN_TYPES)) % len(PRODUCTS)]
        candidates = CHANNELS_BY_TYPE[campaign_type]
        if number <= len(PRODUCTS) * len(CAMPAIGN_TYPES) and campaign_type == "always on":
            length, start = span + 1, FIRST_DAY
            channels: tuple[str, ...] = (candidates[0],)
        else:
            length = rng.randint(300, 700) if campaign_type == "always on" else rng.randint(21, 120)
            start = FIRST_DAY + datetime.timedelta(days=rng.randint(0, span + 1 - length))
            channel_count = rng.randint(2, 3 if campaign_type == "always on" else 4)
            channels = tuple(sorted(rng.sample(candidates, channel_count)))
        theme = f"{SEASON_BY_MONTH[start.month - 1]} {rng.choice(CAMPAIGN_THEMES)}"
        yield DemoCampaign(
            product=product,
            campaign_type=campaign_type,
            name=f"{theme} {start.year} #{number}",
            first_day=start,
            last_day=start + datetime.timedelta(days=length - 1),
            channels=channels,
            strength=rng.uniform(0.4, 1.6),
        )


def _seasonality(day: datetime.date) -> float:
    yearly = 1.0 + 0.25 * math.sin(2 * math.pi * (day.timetuple().tm_yday - 80) / 365.25)
    return yearly * WEEKDAY_FACTOR[day.weekday()]


def demo_measurements(*, rows: int = DEMO_ROWS, seed: int = DEMO_SEED) -> Iterator[MeasurementRow]:
    """Exactly ``rows`` measurement rows (campaign by campaign, day by day)."""
    if rows < 0:
        raise ValueError("rows must not be negative")
    rng = random.Random(seed + 1)
    lognormal = rng.lognormvariate
    # The budget's noise has a generator of its own, so that the conversions stay as they were.
    budget_noise = random.Random(seed + 2).random
    produced = 0
    for campaign in demo_campaigns(seed=seed):
        days = (campaign.last_day - campaign.first_day).days + 1
        scale = {
            channel: CHANNEL_SCALE[channel] * campaign.strength for channel in campaign.channels
        }
        efficiency = math.sqrt(campaign.strength)
        cost = {
            channel: 1.0 / (CHANNEL_ROAS[channel] * efficiency) for channel in campaign.channels
        }
        for offset in range(days):
            day = campaign.first_day + datetime.timedelta(days=offset)
            flight_shape = math.sin(math.pi * (offset + 0.5) / days) ** 0.5
            season = _seasonality(day)
            for channel in campaign.channels:
                if produced >= rows:
                    return
                base = scale[channel] * flight_shape
                conversions = max(0.0, base * season * lognormal(0, 0.25))
                budget = base * cost[channel] * (0.85 + 0.3 * budget_noise())
                yield MeasurementRow(
                    campaign.product,
                    campaign.campaign_type,
                    campaign.name,
                    channel,
                    day,
                    conversions,
                    round(budget, 2),
                )
                produced += 1
