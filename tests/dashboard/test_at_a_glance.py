"""A dashboard that tells the truth at a glance, in Debian's Chromium against the real server
with the demo data (``load-demo``): a coherent demo story, partial periods marked, a share
chart with a round axis and labelled bars, the analyst's presets, CPA and the
organisation's currency, pickers that say what they hold, figures that always belong to the
dates shown, tables readable on a phone, the demo login on a demo instance's sign-in page,
and downloads only when there is something to download.

Every expectation is computed here from the API's answers or from the dates themselves.
Screenshots at 1280 and 375 px go to ``var/screenshots/``; ``overview-readme.png`` there is
the README's picture (``docs/dashboard-overview.png``).
"""

from __future__ import annotations

import contextlib
import datetime
import math
from typing import Any

import pytest

from tests.dashboard.browser import (
    DEMO_LOGIN,
    DOLLAR_LOGIN,
    SCREENSHOTS,
    WIDTHS,
    Watched,
    after,
    api,
    screenshot,
    sign_in,
)
from tests.dashboard.test_browser import (
    REPORTS,
    check_everything_matches_the_api,
    expected_query,
    pick,
    preset_range,
    shown,
)

playwright_api = pytest.importorskip("playwright.sync_api", reason="dev dependency missing")
expect = playwright_api.expect

pytestmark = pytest.mark.browser

PRESETS = (
    "last-7-days",
    "last-28-days",
    "last-90-days",
    "this-month",
    "last-month",
    "this-quarter",
    "last-quarter",
    "year-to-date",
)


def intl(page: Any, value: float, options: dict[str, Any]) -> str:
    """``value`` as the page's own locale writes it with these Intl options."""
    return page.evaluate(
        "([value, options]) => new Intl.NumberFormat(undefined, options).format(value)",
        [value, options],
    )


def day(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


# --- the demo story -------------------------------------------------------------------------


def test_the_default_view_of_the_demo_tells_a_coherent_story(overview: Any) -> None:
    """Year to date against the year before: a plausible growth, every channel selling in
    every week, every top campaign with sales, spend and a change it can be compared by."""
    page = overview
    drawn = shown(page)
    assert (drawn["state"]["preset"], drawn["state"]["compare"]) == (
        "year-to-date",
        "previous_year",
    )
    check_everything_matches_the_api(page, drawn["state"])
    totals = drawn["figures"]["totals"]
    before = drawn["figures"]["previous_totals"]

    growth = totals["conversions"] / before["conversions"] - 1
    assert 0.03 < growth < 0.25, growth
    assert 0.0 < totals["spend"] / before["spend"] - 1 < growth
    assert page.locator("#change-conversions").inner_text().startswith("+")
    channels = api(page, "/api/marketing/dimensions/")["data"]["channels"]
    assert len(channels) == 14
    assert set(drawn["trend"]["series"]) == set(channels)
    assert all(all(value > 0 for value in values) for values in drawn["trend"]["series"].values())
    assert {row["channel"] for row in drawn["shares"] if row["conversions"] > 0} == set(channels)
    campaigns = drawn["campaigns"]["data"]
    assert len(campaigns) >= 5
    for row in campaigns:
        assert row["conversions"] > 0, row
        assert row["spend"] > 0, row
        assert row["change"]["conversions"] is not None, row
        assert -0.5 < row["change"]["conversions"] < 0.5, row
    screenshot(page, "overview-default")
    page.set_viewport_size(WIDTHS["desktop"])
    page.screenshot(path=str(SCREENSHOTS / "overview-readme.png"))


# --- partial periods ------------------------------------------------------------------------

HATCHED_SHARE = """(index) => {
    const chart = Chart.getChart("trend-chart");
    const ratio = chart.currentDevicePixelRatio;
    let top = Infinity, bottom = -Infinity, left = 0, width = 0;
    chart.data.datasets.forEach((_, set) => {
        const bar = chart.getDatasetMeta(set).data[index];
        const box = bar.getProps(["x", "y", "base", "width"], true);
        top = Math.min(top, box.y, box.base);
        bottom = Math.max(bottom, box.y, box.base);
        left = box.x - box.width / 2;
        width = box.width;
    });
    const x = Math.ceil((left + 2) * ratio), y = Math.ceil((top + 2) * ratio);
    const w = Math.floor((width - 4) * ratio), h = Math.floor((bottom - top - 4) * ratio);
    if (w <= 0 || h <= 0) return null;
    const pixels = chart.canvas.getContext("2d").getImageData(x, y, w, h).data;
    const palette = new Set(chart.data.datasets.map((set) => set.backgroundColor.toLowerCase()));
    let other = 0;
    for (let i = 0; i < pixels.length; i += 4) {
        const hex = "#" + [0, 1, 2]
            .map((k) => pixels[i + k].toString(16).padStart(2, "0")).join("");
        if (!palette.has(hex)) other += 1;
    }
    return other / (pixels.length / 4);
}"""
"""The share of a bar's pixels that are not a channel's colour: a tenth or so for a plain bar
(the smoothed edges between its stacked parts), a third and more for one hatched with white
stripes."""


def expected_partial(periods: list[str], granularity: str, page: Any) -> list[Any]:
    """For each period, None or (days covered, days of the period), from the dates alone."""
    dimensions = api(page, "/api/marketing/dimensions/")["data"]
    start, end = shown(page)["range"]
    first = max(day(start), day(dimensions["first_date"]))
    last = min(day(end), day(dimensions["last_date"]))
    partial = []
    for period in periods:
        period_start = day(period)
        if granularity == "week":
            period_end = period_start + datetime.timedelta(days=6)
        else:
            following = (period_start + datetime.timedelta(days=32)).replace(day=1)
            period_end = following - datetime.timedelta(days=1)
        days = (period_end - period_start).days + 1
        covered = (min(period_end, last) - max(period_start, first)).days + 1
        partial.append((covered, days) if covered < days else None)
    return partial


def test_partial_periods_are_hatched_and_named(overview: Any) -> None:
    page = overview
    periods = shown(page)["trend"]["periods"]
    expected = expected_partial(periods, "week", page)
    # The demo's year to date runs from a Sunday to a Wednesday: 1 and 3 days of their weeks.
    assert expected[0] == (1, 7)
    assert expected[-1] == (3, 7)
    assert all(part is None for part in expected[1:-1])

    drawn = shown(page)["trend"]["partial"]
    assert [None if p is None else (p["days"], p["of"]) for p in drawn] == expected
    note = page.locator("#trend-partial")
    expect(note).to_be_visible()
    first, last = (day(periods[0]), day(periods[-1]))
    assert f"Week of {first:%b} {first.day}, {first.year} (1 of 7 days)" in note.inner_text()
    assert f"Week of {last:%b} {last.day}, {last.year} (3 of 7 days)" in note.inner_text()
    hatched = [page.evaluate(HATCHED_SHARE, index) for index in range(len(periods))]
    assert hatched[0] > 0.3, hatched
    assert hatched[-1] > 0.3, hatched
    assert max(hatched[1:-1]) < 0.2, hatched  # edges of the stacked parts, smoothed
    ticks = page.evaluate(
        """Chart.getChart("trend-chart").scales.x.ticks.map((t) => [t.value, t.label])"""
    )
    for index, label in ticks:
        assert (isinstance(label, list) and label[-1] == "(partial)") == bool(expected[index])
    screenshot(page, "overview-partial-weeks")

    after(page, lambda: page.get_by_label("Period", exact=True).select_option("last-90-days"))
    after(page, lambda: page.get_by_label("Monthly").check())
    periods = shown(page)["trend"]["periods"]
    expected = expected_partial(periods, "month", page)
    drawn = shown(page)["trend"]["partial"]
    assert [None if p is None else (p["days"], p["of"]) for p in drawn] == expected
    assert expected[0] is not None
    assert expected[-1] is None  # the data end on a month's end
    assert "Hatched bars are partial months" in page.locator("#trend-partial").inner_text()


# --- the share chart ------------------------------------------------------------------------

SHARE_AXIS = """() => {
    const chart = Chart.getChart("share-chart");
    const axis = chart.scales.x;
    const ctx = chart.ctx;
    ctx.save();
    ctx.font = Chart.helpers.toFont(axis.options.ticks.font).string;
    const ticks = axis.ticks.map((tick) => ({
        value: tick.value,
        centre: axis.getPixelForValue(tick.value),
        width: ctx.measureText(String(tick.label)).width,
    }));
    ctx.restore();
    const ratio = chart.currentDevicePixelRatio;
    const image = chart.canvas.getContext("2d");
    const labelled = chart.getDatasetMeta(0).data.map((bar) => {
        const { x, y } = bar.getProps(["x", "y"], true);
        const pixels = image.getImageData(Math.round((x + 3) * ratio), Math.round((y - 5) * ratio),
            Math.round(40 * ratio), Math.round(10 * ratio)).data;
        let dark = 0;
        for (let i = 0; i < pixels.length; i += 4) {
            const [r, g, b, a] = pixels.slice(i, i + 4);
            if (a > 200 && r < 110 && g < 110 && b < 110) dark += 1;
        }
        return dark;
    });
    return { min: axis.min, max: axis.max, ticks, labelled, shares: chart.data.datasets[0].data };
}"""
ROUND_STEPS = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25)


def check_share_axis(page: Any) -> None:
    axis = page.evaluate(SHARE_AXIS)
    largest = max(axis["shares"])
    assert axis["min"] == 0
    assert any(math.isclose(axis["max"] / step, round(axis["max"] / step)) for step in ROUND_STEPS)
    assert largest < axis["max"] <= 1
    assert largest / axis["max"] >= 0.4, axis  # no bar of a few per cent alone in the plot
    assert 3 <= len(axis["ticks"]) <= 6, axis["ticks"]
    for left, right in zip(axis["ticks"], axis["ticks"][1:], strict=False):
        gap = right["centre"] - left["centre"]
        assert gap > (left["width"] + right["width"]) / 2 + 6, axis["ticks"]  # apart, readable
    assert all(dark > 8 for dark in axis["labelled"]), axis["labelled"]  # a value beside each bar


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_the_share_axis_runs_from_0_to_a_round_maximum_with_readable_ticks_and_labels(
    overview: Any, width: str
) -> None:
    page = overview
    page.set_viewport_size(WIDTHS[width])
    after(page, page.reload)
    check_share_axis(page)

    pick(page, "channels", "tv")
    pick(page, "channels", "print")
    assert len(shown(page)["shares"]) == 2
    check_share_axis(page)
    box = page.locator("#share-box").bounding_box()
    assert box["height"] < 200  # two bars make a short chart, not two slabs
    page.screenshot(
        path=str(SCREENSHOTS / f"overview-share-two-channels-{width}.png"), full_page=True
    )


# --- presets, figures, currency, pickers ----------------------------------------------------


def test_every_preset_sets_its_dates_counted_back_from_the_last_day_with_data(
    overview: Any,
) -> None:
    page = overview
    dimensions = api(page, "/api/marketing/dimensions/")["data"]
    options = page.locator("#preset option").evaluate_all("(all) => all.map((o) => o.value)")
    assert options == [*PRESETS, "all", "custom"]
    for preset in PRESETS:
        after(
            page,
            lambda preset=preset: page.get_by_label("Period", exact=True).select_option(preset),
        )
        start, end = preset_range(preset, dimensions["first_date"], dimensions["last_date"])
        assert (
            page.locator("#start_date").input_value(),
            page.locator("#end_date").input_value(),
        ) == (
            start,
            end,
        ), preset
        assert shown(page)["range"] == [start, end]
        last = day(dimensions["last_date"])
        assert f"counts back from the last day with data, {last:%b} {last.day}, {last.year}" in (
            page.locator("#status").inner_text()
        )
    # The address of an older bookmark still opens its period.
    after(page, lambda: page.goto("/?preset=last-4-weeks"))
    assert shown(page)["range"] == list(
        preset_range("last-28-days", dimensions["first_date"], dimensions["last_date"])
    )


def test_cpa_stands_beside_conversions_spend_and_roas_in_the_organisations_currency(
    overview: Any, dollar_organization: str
) -> None:
    page = overview
    query = expected_query(page, shown(page)["state"])
    totals = api(
        page, REPORTS, {**query, "granularity": "total", "metrics": "conversions,spend,cpa"}
    )
    totals = totals["meta"]["totals"]
    headings = page.locator(".figures h2").all_inner_texts()
    assert headings == ["Conversions", "Spend", "CPA", "ROAS"]
    euros = {"style": "currency", "currency": "EUR", "maximumFractionDigits": 0}
    assert page.locator("#figure-spend").inner_text() == intl(page, totals["spend"], euros)
    assert page.locator("#figure-spend").inner_text().startswith("€")
    cents = {"style": "currency", "currency": "EUR"}
    assert page.locator("#figure-cpa").inner_text() == intl(page, totals["cpa"], cents)
    # CPA is money: spend / conversions rounded to the cent (ties to even).
    assert totals["cpa"] == round(totals["spend"] / totals["conversions"], 2)
    first_row = shown(page)["campaigns"]["data"][0]
    cells = page.locator("#campaigns-table tbody tr").first.locator("td").all_inner_texts()
    assert cells[2:4] == [
        intl(page, first_row["spend"], euros),
        intl(page, first_row["cpa"], cents),
    ]

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, "/?preset=all", login=DOLLAR_LOGIN)
    spend = shown(page)["figures"]["totals"]["spend"]
    assert spend == pytest.approx(717.75)
    dollars = {"style": "currency", "currency": "USD", "maximumFractionDigits": 0}
    assert page.locator("#figure-spend").inner_text() == intl(page, spend, dollars) == "$718"
    screenshot(page, "overview-in-dollars")


def test_pickers_name_what_is_picked_and_the_channels_show_colour_and_only_data(
    overview: Any,
) -> None:
    page = overview
    pick(page, "channels", "tv")
    pick(page, "channels", "radio")
    summary = page.locator('.picker[data-filter="channels"] summary')
    assert summary.inner_text() == "tv, radio"
    pick(page, "channels", "ooh")
    assert summary.inner_text() == "tv, radio +1 more"
    assert summary.get_attribute("title") == "tv, radio, ooh"

    palette = page.evaluate("window.MarketingOp.CHANNEL_COLOURS")
    channels = api(page, "/api/marketing/dimensions/")["data"]["channels"]
    picker = page.locator('.picker[data-filter="channels"]')
    summary.click()
    swatches = picker.locator(".options label").evaluate_all(
        """(labels) => labels.map((label) => [label.querySelector("input").value,
            getComputedStyle(label.querySelector(".swatch")).backgroundColor])"""
    )
    summary.click()
    assert len(swatches) == 14
    for channel, colour in swatches:
        red, green, blue = (int(palette[channels.index(channel)][i : i + 2], 16) for i in (1, 3, 5))
        assert colour == f"rgb({red}, {green}, {blue})", channel

    after(page, lambda: page.goto("/?preset=all&products=sparkling+water"))
    query = expected_query(page, {"preset": "all", "products": ["sparkling water"]})
    answer = api(page, REPORTS, {**query, "dimensions": "channel", "metrics": "conversions"})
    selling = sorted(row["channel"] for row in answer["data"] if row["conversions"] > 0)
    assert 0 < len(selling) < 14
    summary.click()
    listed = picker.locator(".options input").evaluate_all("(boxes) => boxes.map((b) => b.value)")
    hint = picker.locator(".options .hint").inner_text()
    screenshot(page, "overview-channel-picker")
    assert sorted(listed) == selling
    assert hint == f"{14 - len(selling)} channels without data in this period not listed."


# --- the figures belong to the dates shown ---------------------------------------------------


def figures_belong_to_the_dates_shown(page: Any) -> None:
    start = page.locator("#start_date").input_value()
    end = page.locator("#end_date").input_value()
    drawn = shown(page)
    assert drawn["range"] == [start, end]
    answer = api(
        page,
        REPORTS,
        {"start_date": start, "end_date": end, "granularity": "total", "metrics": "conversions"},
    )
    assert drawn["figures"]["totals"]["conversions"] == answer["meta"]["totals"]["conversions"]
    first, last = day(start), day(end)
    assert (
        page.locator("#status")
        .inner_text()
        .startswith(f"{first:%b} {first.day}, {first.year} to {last:%b} {last.day}, {last.year}")
    )


def test_the_figures_are_always_those_of_the_dates_shown(overview: Any) -> None:
    page = overview
    # The first date after the last: no figures at all, rather than those of older dates.
    after(page, lambda: page.goto("/?preset=custom&start_date=2022-01-01&end_date=2023-03-31"))
    page.locator("#start_date").fill("2022-06-01")
    page.locator("#end_date").fill("2022-01-01")
    page.wait_for_selector('body[data-state="invalid"]')
    page.wait_for_timeout(800)  # past the settling of typed dates: nothing else comes
    assert page.evaluate("document.body.dataset.state") == "invalid"
    assert page.locator("#figure-conversions").inner_text() == "—"
    assert shown(page)["range"] is None
    assert "is after the last" in page.locator("#status").inner_text()
    expect(page.locator("#trend-box")).to_be_hidden()
    expect(page.locator("#campaigns-table")).to_be_hidden()
    screenshot(page, "overview-dates-not-a-range")

    # Typed digit by digit, the year passes through 0002, 0020, 0202: the figures follow
    # the dates once the typing settles, and only those.
    page.locator("#end_date").click()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    after(page, lambda: page.keyboard.type("12312022"))
    figures_belong_to_the_dates_shown(page)
    assert page.locator("#end_date").input_value() == "2022-12-31"

    # Answers for older dates that arrive late are never drawn.
    slow = "start_date=2020-03-01"

    def late(route: Any) -> None:
        page.wait_for_timeout(1500)
        with contextlib.suppress(playwright_api.Error):  # the page may have given up on it
            route.continue_()

    page.route(lambda url: slow in url, late)
    page.evaluate("document.body.dataset.state = 'changing'")
    page.locator("#start_date").fill("2020-03-01")
    page.wait_for_timeout(500)  # its requests are on their way
    page.locator("#start_date").fill("2021-02-01")
    page.wait_for_selector('body[data-state="ready"]')
    page.wait_for_timeout(2000)  # the late answers come in
    figures_belong_to_the_dates_shown(page)
    assert page.locator("#start_date").input_value() == "2021-02-01"
    page.unroute(lambda url: slow in url)


# --- phones ---------------------------------------------------------------------------------

CUT = """(table) => [...document.querySelectorAll(`${table} tbody td, ${table} thead th`)]
    .filter((cell) => cell.offsetParent !== null)
    .map((cell) => {
        const box = cell.getBoundingClientRect();
        return {
            text: cell.innerText,
            label: cell.dataset.label || null,
            cut: cell.scrollWidth > cell.clientWidth + 1 || box.right > innerWidth || box.left < 0,
            scrolls: (({ scrollWidth, clientWidth }) => scrollWidth > clientWidth)(
                cell.closest(".table-wrap")),
        };
    })"""


def test_tables_on_a_phone_show_every_column_whole(overview: Any) -> None:
    page = overview
    page.set_viewport_size(WIDTHS["phone"])
    after(page, page.reload)
    for table, columns in (
        ("#campaigns-table", ["Campaign", "Conversions", "Spend", "CPA", "ROAS", "Change"]),
        (
            "#measurements-table",
            ["Date", "Product", "Campaign type", "Campaign", "Channel", "Conversions", "Spend"],
        ),
    ):
        cells = page.evaluate(CUT, table)
        body = [cell for cell in cells if cell["label"]]
        assert body, table
        assert not [cell for cell in cells if cell["cut"] or cell["scrolls"]], table
        first_row = page.locator(f"{table} tbody tr").first.locator("td")
        assert first_row.evaluate_all("(tds) => tds.map((td) => td.dataset.label)") == columns
        for index in range(first_row.count()):
            expect(first_row.nth(index)).to_be_visible()
    names = page.locator("#campaigns-table tbody td:first-child").all_inner_texts()
    assert names == [row["campaign"] for row in shown(page)["campaigns"]["data"]]
    # The sort buttons stay on the phone.
    page.locator('#campaigns-table th[data-sort="spend"] button').click()
    assert "sort=-spend" in page.url
    page.locator("#campaigns-title").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "overview-tables-phone.png"), full_page=True)


# --- signing in to a demo instance ----------------------------------------------------------


def test_a_demo_instance_shows_its_demo_login_on_the_sign_in_page(watched: Watched) -> None:
    page = watched.page
    page.goto("/sign-in/")
    hint = page.locator("#demo-login")
    expect(hint).to_be_visible()
    assert hint.inner_text() == (
        f"This is a demo instance: sign in as {DEMO_LOGIN[0]} with the password {DEMO_LOGIN[1]}."
    )
    screenshot(page, "sign-in-demo")
    page.get_by_label("Username").fill(hint.locator("code").nth(0).inner_text())
    page.get_by_label("Password").fill(hint.locator("code").nth(1).inner_text())
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector('body[data-state="ready"]')
    assert page.locator("form.sign-out span").inner_text() == DEMO_LOGIN[0]


# --- downloads ------------------------------------------------------------------------------


def test_download_buttons_are_disabled_when_there_is_nothing_to_download(overview: Any) -> None:
    page = overview
    csv = page.get_by_role("link", name="Download CSV")
    parquet = page.get_by_role("link", name="Download Parquet")
    for link in (csv, parquet):
        expect(link).to_be_enabled()
        assert link.get_attribute("href")

    after(page, lambda: page.goto("/?preset=custom&start_date=2019-01-01&end_date=2019-01-31"))
    assert shown(page)["measurements"]["meta"]["total"] == 0
    for link in (csv, parquet):
        expect(link).to_be_disabled()
        assert link.get_attribute("href") is None
    assert page.locator("#downloads-label").inner_text() == "Nothing to download for these filters."
    with pytest.raises(playwright_api.TimeoutError), page.expect_download(timeout=1500):
        csv.click(force=True)  # a click anyway downloads nothing
