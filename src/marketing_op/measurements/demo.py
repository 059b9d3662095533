"""Deterministic demo data shaped like the output of a marketing-mix model, in two kinds.

**The demo story** (``demo_story_measurements``, what ``load-demo`` loads and the dashboard
shows): two products and eleven campaigns that run every year, each channel of the contract
active on every day from 2020-01-01 to 2023-05-31, with a spend on every row. Budgets follow
a seasonal media plan and grow or shrink by channel (TikTok up, print down); sales follow
the season (summer for the energy drink, summer and Christmas for the water), the weekday
and a brand that grows a little every year. Campaign names carry no year, so that a
campaign compares with itself a year earlier.

**Bulk rows** (``demo_measurements``, what ``generate-demo`` writes and ``make bench``
imports): campaigns with random flights, as many rows as asked. It stays exactly as it is,
byte for byte for the same ``rows`` and ``seed``, so that benchmark figures before and
after a change remain comparable. Every row has a spend: the media plan's daily budget of
the channel (which follows the campaign's flight, not the day's luck), so each channel has
its own return on spend (``CHANNEL_ROAS``: search cheap, TV and print costly), and stronger
campaigns return a little more per euro; more rows add more campaigns.
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


# --- the demo story -------------------------------------------------------------------------


@dataclass(frozen=True)
class StoryCampaign:
    product: str
    campaign_type: str
    name: str
    channels: tuple[str, ...]
    months: tuple[int, ...] = ()
    """The months of its yearly flight; none: always on."""


STORY_CAMPAIGNS = (
    StoryCampaign(
        "energy drink",
        "always on",
        "energy drink search and social",
        (
            "google - branded search",
            "google - non-branded search",
            "instagram",
            "tiktok",
            "dv360 - retargeting",
        ),
    ),
    StoryCampaign("energy drink", "branding", "energy drink brand", ("tv", "radio", "ooh")),
    StoryCampaign(
        "energy drink",
        "performance",
        "energy drink prospecting",
        ("facebook", "dv360 - prospecting"),
    ),
    StoryCampaign(
        "energy drink", "performance", "summer festival", ("tiktok", "instagram", "ooh"), (6, 7, 8)
    ),
    StoryCampaign("energy drink", "branding", "back to school", ("tv", "radio"), (9,)),
    StoryCampaign(
        "sparkling water",
        "always on",
        "sparkling water search and social",
        (
            "google - branded search",
            "google - non-branded search",
            "facebook",
            "db360 - retargeting",
        ),
    ),
    StoryCampaign(
        "sparkling water", "branding", "sparkling water brand", ("tv", "print", "folder", "ooh")
    ),
    StoryCampaign(
        "sparkling water",
        "performance",
        "sparkling water prospecting",
        ("db360 - prospecting", "instagram"),
    ),
    StoryCampaign(
        "sparkling water", "performance", "new year detox", ("facebook", "instagram"), (1, 2)
    ),
    StoryCampaign("sparkling water", "branding", "spring refresh", ("tv", "folder"), (3, 4)),
    StoryCampaign("sparkling water", "branding", "christmas table", ("tv", "print"), (12,)),
)
STORY_DAILY_BUDGET = {
    "tv": 900.0,
    "radio": 220.0,
    "ooh": 180.0,
    "facebook": 300.0,
    "print": 110.0,
    "tiktok": 160.0,
    "instagram": 240.0,
    "dv360 - prospecting": 130.0,
    "dv360 - retargeting": 80.0,
    "db360 - prospecting": 70.0,
    "db360 - retargeting": 45.0,
    "google - branded search": 200.0,
    "google - non-branded search": 260.0,
    "folder": 90.0,
}
"""Euros a day that an always-on campaign spends on the channel in January 2020; a flight
spends one and a half times as much."""
STORY_BUDGET_GROWTH = {
    "tv": -0.03,
    "radio": 0.0,
    "ooh": 0.05,
    "facebook": 0.02,
    "print": -0.12,
    "tiktok": 0.35,
    "instagram": 0.15,
    "dv360 - prospecting": 0.08,
    "dv360 - retargeting": 0.08,
    "db360 - prospecting": 0.06,
    "db360 - retargeting": 0.06,
    "google - branded search": 0.10,
    "google - non-branded search": 0.12,
    "folder": -0.08,
}
"""How the channel's budget changes a year: the media plan moves money to social."""
BRAND_GROWTH = 0.05
"""How much more every euro sells a year later, as the brands grow."""
SUMMER_PEAK_DAY = 196  # mid July


def _story_demand(product: str, day: datetime.date) -> float:
    """Sales per euro by the season: summer for both, and Christmas for the water."""
    yearly = 1.0 + 0.3 * math.cos(
        2 * math.pi * (day.timetuple().tm_yday - SUMMER_PEAK_DAY) / 365.25
    )
    if product == "sparkling water" and day.month == 12:
        yearly *= 1.25
    return yearly * WEEKDAY_FACTOR[day.weekday()]


def _story_budget_season(day: datetime.date) -> float:
    """The media plan spends more when sales are high, but less than in step."""
    return 1.0 + 0.15 * math.cos(2 * math.pi * (day.timetuple().tm_yday - SUMMER_PEAK_DAY) / 365.25)


def _flight_shape(campaign: StoryCampaign, day: datetime.date) -> float:
    """1 all year for an always-on campaign; a flight ramps up and down over its months."""
    if not campaign.months:
        return 1.0
    first = datetime.date(day.year, campaign.months[0], 1)
    following = campaign.months[-1] % 12 + 1
    end = datetime.date(day.year + (following == 1), following, 1)
    length = (end - first).days
    return 1.5 * math.sin(math.pi * ((day - first).days + 0.5) / length) ** 0.5


def demo_story_measurements(
    *, seed: int = DEMO_SEED, rows: int | None = None
) -> Iterator[MeasurementRow]:
    """The demo story day by day (campaign and channel in the order above): all of it, or
    its first ``rows`` rows."""
    if rows is not None and rows < 0:
        raise ValueError("rows must not be negative")
    rng = random.Random(seed)
    produced = 0
    day = FIRST_DAY
    while day <= LAST_DAY:
        years = (day - FIRST_DAY).days / 365.25
        budget_season = _story_budget_season(day)
        for campaign in STORY_CAMPAIGNS:
            if campaign.months and day.month not in campaign.months:
                continue
            flight = _flight_shape(campaign, day)
            demand = _story_demand(campaign.product, day) * (1 + BRAND_GROWTH) ** years
            for channel in campaign.channels:
                if rows is not None and produced >= rows:
                    return
                growth = (1 + STORY_BUDGET_GROWTH[channel]) ** years
                spend = STORY_DAILY_BUDGET[channel] * growth * budget_season * flight
                spend *= rng.uniform(0.92, 1.08)
                conversions = spend * CHANNEL_ROAS[channel] * demand * rng.lognormvariate(0, 0.12)
                yield MeasurementRow(
                    campaign.product,
                    campaign.campaign_type,
                    campaign.name,
                    channel,
                    day,
                    conversions,
                    round(spend, 2),
                )
                produced += 1
        day += datetime.timedelta(days=1)
