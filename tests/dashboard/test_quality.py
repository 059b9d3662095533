"""What a user notices beyond the numbers, in Debian's Chromium against the real server: every
page fits a phone (375 px) and a laptop (1280 x 800) without sideways scrolling or cut-off and
overlapping controls; text passes WCAG AA contrast; the fourteen channels' colours stay
apart, also for deuteranopes and protanopes; every control has a name, Tab reaches all of
them in order and shows where the focus is; numbers and dates follow the browser's locale.

Colours are measured as the browser computes them (``getComputedStyle``), with the
background found by walking up the ancestors and compositing their backgrounds; contrast
ratios and colour differences are computed here with ColorAide (WCAG 2.1 contrast,
CIEDE2000, Machado 2009 colour vision deficiency simulation).
"""

from __future__ import annotations

import datetime
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from coloraide import Color

from tests.dashboard.browser import SCREENSHOTS, WIDTHS, Watched, after, api, sign_in, whole

pytestmark = pytest.mark.browser

FOCUSABLE = (
    'a[href], button, input:not([type="hidden"]), select, textarea, summary, '
    '[tabindex]:not([tabindex="-1"])'
)

# Shared by the page-side checks: what a reader can see, and the background behind it.
MEASURE = (Path(__file__).parent / "quality.js").read_text()


# --- colour arithmetic ----------------------------------------------------------------------


def over(colour: Color, background: Color) -> Color:
    """``colour`` painted over an opaque ``background`` (source-over, in sRGB as browsers do)."""
    alpha = colour.alpha()
    mixed = [
        alpha * top + (1 - alpha) * bottom
        for top, bottom in zip(colour.coords(), background.coords(), strict=True)
    ]
    return Color("srgb", mixed)


def effective_background(layers: list[str]) -> Color:
    assert not [layer for layer in layers if layer.startswith("image:")], layers
    background = Color("white")  # the canvas behind everything
    for layer in reversed(layers):
        background = over(Color(layer).convert("srgb"), background)
    return background


def contrast(text: dict[str, Any]) -> float:
    background = effective_background(text["backgrounds"])
    colour = Color(text["colour"]).convert("srgb")
    colour.set("alpha", colour.alpha() * text["opacity"])
    return over(colour, background).contrast(background, method="wcag21")


def is_large(text: dict[str, Any]) -> bool:
    """WCAG's large text: 18 pt (24 px), or 14 pt (18.66 px) bold."""
    return text["size"] >= 24 or (text["size"] >= 18.66 and text["weight"] >= 700)


def simulated(colour: str, deficiency: str | None) -> Color:
    if deficiency is None:
        return Color(colour)
    return Color(colour).filter(deficiency, method="machado").convert("srgb").clip()


# --- the pages in their states --------------------------------------------------------------

STATES = SCREENSHOTS / "states"  # each state at each width, for review
STRANGERS = itertools.count()  # one unknown username per failed sign-in: no lock-out
REJECTED_FILE = (
    b"product,campaign_type,campaign,channel,date,conversions\n"
    b"quality soda,performance,quality launch,tv,2019-06-31,1\n"
)


def page_states(page: Any) -> Any:
    """Each page in each state worth looking at, the page left in that state at each step."""
    page.context.clear_cookies()
    page.goto("/sign-in/")
    yield "sign-in"
    page.get_by_label("Username").fill(f"nobody-{next(STRANGERS)}")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    yield "sign-in with an error"
    sign_in(page, "/?preset=all")
    yield "overview"
    page.locator('.picker[data-filter="channels"] summary').click()
    yield "overview with the channels picker open"
    page.keyboard.press("Escape")
    page.locator('.picker[data-filter="campaigns"] summary').click()
    yield "overview with the campaign picker open"
    page.keyboard.press("Escape")
    after(page, lambda: page.goto("/imports/"))
    yield "imports"
    page.get_by_label("Choose a file").set_input_files(
        {"name": "bad.csv", "mimeType": "text/csv", "buffer": REJECTED_FILE}
    )
    after(page, lambda: page.get_by_role("button", name="Import").click())
    yield "imports with a rejected file"


def each_state(watched: Watched, check: Callable[[str], None]) -> None:
    page = watched.page
    for state in page_states(page):
        page.evaluate(MEASURE)
        check(state)
    # The rejected file is an answer of the API (422), which Chromium notes in the console.
    watched.problems = [p for p in watched.problems if "status of 422" not in p]


# --- the tests ------------------------------------------------------------------------------


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_no_page_scrolls_sideways_or_cuts_or_overlaps_a_control(
    watched: Watched, width: str
) -> None:
    page = watched.page
    page.set_viewport_size(WIDTHS[width])
    problems: list[str] = []

    def check(state: str) -> None:
        layout = page.evaluate("(s) => __quality.layout(s)", FOCUSABLE)
        assert layout["controls"] > 2, state
        found = list(layout["problems"])
        if layout["scrollWidth"] > layout["clientWidth"]:
            found.append(f"scrolls sideways: {layout['scrollWidth']} > {layout['clientWidth']}")
        if found:
            problems.append(f"{state}: {'; '.join(found)}")
        name = state.replace(" ", "-")
        page.screenshot(path=str(STATES / f"{name}-{width}.png"), full_page=True)

    STATES.mkdir(parents=True, exist_ok=True)
    each_state(watched, check)
    assert not problems, "\n".join(problems)


def test_every_text_passes_wcag_aa_contrast(watched: Watched) -> None:
    page = watched.page
    failures: list[str] = []
    counted: list[int] = []

    def check(state: str) -> None:
        for viewport in WIDTHS.values():
            page.set_viewport_size(viewport)
            texts = page.evaluate("__quality.texts()")
            counted.append(len(texts))
            for text in texts:
                ratio = contrast(text)
                needed = 3.0 if is_large(text) else 4.5
                if ratio < needed:
                    failures.append(
                        f"{state}, {viewport['width']} px: {text['what']} {text['colour']} on "
                        f"{text['backgrounds']}: {ratio:.2f} < {needed}"
                    )

    each_state(watched, check)
    assert min(counted) > 5
    assert not failures, "\n".join(failures)


def test_contrast_is_measured_as_wcag_defines_it() -> None:
    """The arithmetic above, on known pairs: black on white 21:1, WCAG's own example
    #767676 on white just passes 4.5, text at half opacity loses contrast."""
    white = ["rgb(255, 255, 255)"]
    text = {"backgrounds": white, "opacity": 1.0, "size": 15.0, "weight": 400}
    assert contrast({**text, "colour": "rgb(0, 0, 0)"}) == pytest.approx(21)
    assert contrast({**text, "colour": "rgb(118, 118, 118)"}) == pytest.approx(4.54, abs=0.01)
    assert contrast({**text, "colour": "rgb(0, 0, 0)", "opacity": 0.5}) < 4.5
    on_dark = {**text, "colour": "rgb(255, 255, 255)"}
    assert contrast({**on_dark, "backgrounds": ["rgba(0, 0, 0, 0)", "rgb(20, 33, 61)"]}) > 15
    assert contrast({**on_dark, "backgrounds": ["rgba(0, 0, 0, 0.5)", "rgb(255, 255, 255)"]}) < 4.5


CHANNEL_DIFFERENCES = {None: 20.0, "deutan": 10.0, "protan": 10.0}


def test_the_fourteen_channel_colours_stay_apart_for_every_reader(overview: Any) -> None:
    """Every pair of the palette's colours differs by CIEDE2000 ΔE ≥ 20 as seen with full
    colour vision and ≥ 10 as seen with deuteranopia or protanopia (Machado 2009, full
    severity); every colour stands 3:1 against the white of the charts (WCAG's non-text
    contrast)."""
    palette = overview.evaluate("window.MarketingOp.CHANNEL_COLOURS")
    assert len(palette) == 14
    closest = {}
    for deficiency, needed in CHANNEL_DIFFERENCES.items():
        seen = [simulated(colour, deficiency) for colour in palette]
        closest[deficiency] = min(
            (seen[a].delta_e(seen[b], method="2000"), palette[a], palette[b])
            for a, b in itertools.combinations(range(len(palette)), 2)
        )
        assert closest[deficiency][0] >= needed, (deficiency, closest[deficiency])
    for colour in palette:
        assert Color(colour).contrast("white", method="wcag21") >= 3, colour


def test_the_charts_give_fourteen_channels_fourteen_colours(overview: Any) -> None:
    page = overview
    after(page, lambda: page.get_by_label("Period", exact=True).select_option("all"))
    channels = api(page, "/api/marketing/dimensions/")["data"]["channels"]
    assert len(channels) == 14
    palette = [colour.lower() for colour in page.evaluate("window.MarketingOp.CHANNEL_COLOURS")]

    trend = page.evaluate(
        """Chart.getChart("trend-chart").data.datasets.map(
            (set) => [set.label, set.backgroundColor.toLowerCase()])"""
    )
    assert sorted(label for label, _ in trend) == sorted(channels)
    assert dict(trend) == {channel: palette[channels.index(channel)] for channel, _ in trend}
    assert len({colour for _, colour in trend}) == 14

    share = page.evaluate(
        """(() => { const chart = Chart.getChart("share-chart");
            return chart.data.labels.map((label, index) =>
                [label, chart.data.datasets[0].backgroundColor[index].toLowerCase()]); })()"""
    )
    assert share
    assert all(dict(trend)[channel] == colour for channel, colour in share)


def cdp_names(page: Any) -> dict[int, str]:
    """The accessible name Chromium computes for each element marked with data-control."""
    session = page.context.new_cdp_session(page)
    root = session.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
    marked = session.send("DOM.querySelectorAll", {"nodeId": root, "selector": "[data-control]"})
    names = {}
    for node in marked["nodeIds"]:
        attributes = session.send("DOM.getAttributes", {"nodeId": node})["attributes"]
        stop = int(attributes[attributes.index("data-control") + 1])
        tree = session.send(
            "Accessibility.getPartialAXTree", {"nodeId": node, "fetchRelatives": False}
        )
        name = tree["nodes"][0].get("name", {}).get("value", "")
        names[stop] = str(name).strip()
    session.detach()
    return names


@pytest.mark.parametrize("width", ["desktop", "phone"])
def test_every_control_has_a_name_and_tab_reaches_each_in_order_with_a_visible_focus(
    watched: Watched, width: str
) -> None:
    page = watched.page
    page.set_viewport_size(WIDTHS[width])
    problems: list[str] = []

    def check(state: str) -> None:
        controls = page.evaluate("(s) => __quality.markControls(s)", FOCUSABLE)
        stops = [control["what"] for control in controls]
        names = cdp_names(page)
        assert sorted(names) == list(range(len(controls))), state
        nameless = [stops[stop] for stop, name in names.items() if not name]
        problems.extend(f"{state}: {what} has no accessible name" for what in nameless)
        named = sorted(name for name in names.values() if name)
        twice = {name for name, count in itertools.groupby(named) if len(list(count)) > 1}
        problems.extend(f"{state}: more than one control is called {name!r}" for name in twice)

        page.evaluate("__quality.tabFromTheTop()")
        expected = [index for index, control in enumerate(controls) if control["tabbable"]]
        reached: list[int | None] = []
        for _ in range(3 * len(stops) + 10):
            page.keyboard.press("Tab")
            focused = page.evaluate("__quality.focused()")
            if focused is None:
                break
            if reached and reached[-1] == focused["stop"]:
                continue  # the day, month and year of a date field
            reached.append(focused["stop"])
            if focused["stop"] is None:
                problems.append(f"{state}: Tab reached {focused['what']}, not a listed control")
                continue
            if not focused["inView"]:
                problems.append(
                    f"{state}: {focused['what']} is out of view when focused: {focused['box']}"
                )
            ring = focused["ring"]
            if ring is None or ring["width"] < 2:
                problems.append(f"{state}: {focused['what']} shows no focus ring")
                continue
            background = effective_background(ring["backgrounds"])
            ratio = Color(ring["colour"]).contrast(background, method="wcag21")
            if ratio < 3:
                problems.append(
                    f"{state}: the focus ring of {focused['what']} stands {ratio:.2f}:1 "
                    f"against {ring['backgrounds']}"
                )
        if reached != expected:
            problems.append(
                f"{state}: Tab order {[stops[s] if s is not None else s for s in reached]} "
                f"is not {[stops[s] for s in expected]}"
            )

    each_state(watched, check)
    assert not problems, "\n".join(problems)


def test_numbers_percentages_and_dates_follow_a_german_browser(browser: Any, site: str) -> None:
    context = browser.new_context(
        base_url=site, locale="de-DE", timezone_id="Europe/Berlin", viewport=WIDTHS["desktop"]
    )
    watched = Watched(context.new_page())
    page = watched.page
    sign_in(page, "/?preset=year-to-date")
    german = page.evaluate("navigator.language")
    assert german == "de-DE"
    shown = page.evaluate("JSON.parse(JSON.stringify(window.MarketingOp.overview))")
    totals = shown["figures"]["totals"]
    before = shown["figures"]["previous_totals"]

    def intl(value: float, options: dict[str, Any]) -> str:
        return page.evaluate(
            "([value, options]) => new Intl.NumberFormat('de-DE', options).format(value)",
            [value, options],
        )

    conversions = page.locator("#figure-conversions").inner_text()
    assert conversions == f"{whole(totals['conversions']):,}".replace(",", ".")
    assert conversions == intl(totals["conversions"], {"maximumFractionDigits": 0})
    assert "." in conversions  # the demo sells more than a thousand
    roas = page.locator("#figure-roas").inner_text()
    assert roas == intl(totals["roas"], {"minimumFractionDigits": 2, "maximumFractionDigits": 2})
    assert roas == f"{totals['roas']:.2f}".replace(".", ",")

    change = (totals["conversions"] - before["conversions"]) / before["conversions"]
    percent = intl(
        change,
        {
            "style": "percent",
            "minimumFractionDigits": 1,
            "maximumFractionDigits": 1,
            "signDisplay": "exceptZero",
        },
    )
    assert f"{change * 100:+.1f}".replace(".", ",") in percent
    assert page.locator("#change-conversions").inner_text().startswith(percent)

    tick = page.evaluate(
        """(() => { const scale = Chart.getChart("share-chart").options.scales.x;
            return scale.ticks.callback.call(scale, 0.25, 0, []); })()"""
    )
    assert tick == intl(
        0.25, {"style": "percent", "minimumFractionDigits": 1, "maximumFractionDigits": 1}
    )
    assert tick.startswith("25,0")

    first_row = shown["measurements"]["data"][0]
    day = datetime.date.fromisoformat(first_row["date"])
    cell = page.locator("#measurements-table tbody tr:first-child td:first-child").inner_text()
    assert cell == f"{day:%d.%m.%Y}"
    assert cell == page.evaluate(
        """(text) => new Intl.DateTimeFormat('de-DE', {dateStyle: 'medium', timeZone: 'UTC'})
            .format(new Date(text + 'T00:00:00Z'))""",
        first_row["date"],
    )
    total = shown["measurements"]["meta"]["total"]
    assert (
        page.locator("#measurements-position").inner_text().endswith(f"{total:,}".replace(",", "."))
    )
    context.close()
    assert watched.problems == [], "\n".join(watched.problems)
