"""The dashboard in a real browser: Debian's Chromium driven by Playwright against the real
server (``marketing-op serve``, as ``make run`` starts it, with the demo data and the static
files collected with hashed names).

Every figure and chart is compared with what the report API answers for the same question,
asked by the test itself from the filters it chose. Every page must load without a console
error or a Content-Security-Policy violation. Screenshots of each page at 1280 and 375 px
go to ``var/screenshots/`` for review.
"""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.dashboard.browser import (
    DEMO_LOGIN,
    PROVIDER_NAME,
    PROVIDER_SUBJECT,
    PROVIDER_USER,
    Watched,
    after,
    api,
    screenshot,
    sign_in,
    signed_percent,
    whole,
)
from tests.identity_provider import IdentityProvider

REPORTS = "/api/marketing/reports/"

pytestmark = pytest.mark.browser


def shown(page: Any) -> dict[str, Any]:
    return page.evaluate("JSON.parse(JSON.stringify(window.MarketingOp.overview))")


def chart_data(page: Any, canvas: str) -> dict[str, Any]:
    return page.evaluate(
        """(id) => { const chart = Chart.getChart(id); return chart ? {
            labels: chart.data.labels,
            datasets: chart.data.datasets.map((set) => ({label: set.label, data: set.data})),
        } : null; }""",
        canvas,
    )


# --- what the test expects, computed on its own ---------------------------------------------


def month_start(year: int, month: int) -> datetime.date:
    """The first day of ``month`` (0 is the December before, -1 the November)."""
    return datetime.date(year + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def preset_range(preset: str, first: str, last: str) -> tuple[str, str]:
    """The preset's dates, counted back from the last day with data, as the guide says."""
    last_day = datetime.date.fromisoformat(last)
    year, month = last_day.year, last_day.month
    quarter = month - (month - 1) % 3
    day_before = datetime.timedelta(days=1)
    ranges = {
        "last-7-days": (last_day - datetime.timedelta(days=6), last_day),
        "last-28-days": (last_day - datetime.timedelta(days=27), last_day),
        "last-90-days": (last_day - datetime.timedelta(days=89), last_day),
        "this-month": (month_start(year, month), last_day),
        "last-month": (month_start(year, month - 1), month_start(year, month) - day_before),
        "this-quarter": (month_start(year, quarter), last_day),
        "last-quarter": (month_start(year, quarter - 3), month_start(year, quarter) - day_before),
        "year-to-date": (month_start(year, 1), last_day),
    }
    if preset not in ranges:
        return first, last
    start, end = ranges[preset]
    return start.isoformat(), end.isoformat()


def expected_query(page: Any, state: dict[str, Any]) -> dict[str, Any]:
    dimensions = api(page, "/api/marketing/dimensions/")["data"]
    start, end = preset_range(state["preset"], dimensions["first_date"], dimensions["last_date"])
    query: dict[str, Any] = {"start_date": start, "end_date": end}
    for name in ("products", "campaign_types", "channels", "campaigns"):
        if state.get(name):
            query[name] = state[name]
    return query


def check_everything_matches_the_api(page: Any, state: dict[str, Any]) -> None:
    """The figures, both charts and the campaigns equal the report API's answers to the
    question that ``state`` (the filters the test chose) asks."""
    query = expected_query(page, state)
    drawn = shown(page)
    assert drawn["range"] == [query["start_date"], query["end_date"]]
    compare = {} if state["compare"] == "none" else {"compare": state["compare"]}
    metrics = "conversions,spend,cpa,roas"

    figures = api(page, REPORTS, {**query, **compare, "granularity": "total", "metrics": metrics})
    assert drawn["figures"]["totals"] == figures["meta"]["totals"]
    assert drawn["figures"]["previous_totals"] == figures["meta"]["previous_totals"]
    conversions = figures["meta"]["totals"]["conversions"]
    assert page.locator("#figure-conversions").inner_text() == f"{whole(conversions):,}"
    if compare:
        before = figures["meta"]["previous_totals"]["conversions"]
        change = page.locator("#change-conversions").inner_text()
        start, end = query["start_date"], query["end_date"]
        if state["compare"] == "previous_year" and f"{int(end[:4]) - 1}{end[4:]}" >= start:
            assert change == "No comparison: the same days a year earlier overlap this range."
        elif not figures["data"] or figures["data"][0]["previous"] is None:
            assert change == "No comparison: nothing was measured in the comparison range."
        elif before:
            assert change.startswith(signed_percent((conversions - before) / before))
        else:
            assert change.startswith("Nothing to compare with")

    trend = api(
        page,
        REPORTS,
        {**query, "dimensions": "channel", "granularity": state["granularity"], "page_size": 10000},
    )
    periods = list(dict.fromkeys(row["period_start"] for row in trend["data"]))
    series: dict[str, list[float]] = {}
    for row in trend["data"]:
        series.setdefault(row["channel"], [0.0] * len(periods))
        series[row["channel"]][periods.index(row["period_start"])] = row["conversions"]
    assert drawn["trend"]["periods"] == periods
    assert drawn["trend"]["series"] == series
    drawn_trend = chart_data(page, "trend-chart")
    if any(value for values in series.values() for value in values):
        assert {d["label"]: d["data"] for d in drawn_trend["datasets"]} == series
        assert len(drawn_trend["labels"]) == len(periods)

    shares = api(
        page,
        REPORTS,
        {
            **query,
            "dimensions": "channel",
            "metrics": "conversions,share",
            "order_by": "-conversions",
        },
    )
    assert drawn["shares"] == [
        {"channel": row["channel"], "conversions": row["conversions"], "share": row["share"]}
        for row in shares["data"]
    ]
    drawn_shares = chart_data(page, "share-chart")
    selling = [row for row in shares["data"] if row["conversions"] > 0]
    if selling:
        assert drawn_shares["labels"] == [row["channel"] for row in selling]
        assert drawn_shares["datasets"][0]["data"] == [row["share"] for row in selling]

    campaigns = api(
        page,
        REPORTS,
        {
            **query,
            **compare,
            "dimensions": "campaign",
            "metrics": metrics,
            "order_by": "-conversions",
            "page_size": 20,
        },
    )
    assert drawn["campaigns"]["data"] == campaigns["data"]

    measurements = api(page, "/api/marketing/measurements/", {**query, "page_size": 20})
    assert drawn["measurements"]["data"] == measurements["data"]
    empty = page.locator("#status").inner_text() == "No data for these filters."
    assert empty == (measurements["meta"]["total"] == 0)


def pick(page: Any, filter_name: str, value: str, search: str | None = None) -> None:
    picker = page.locator(f'.picker[data-filter="{filter_name}"]')
    picker.locator("summary").click()
    if search is not None:
        picker.get_by_label("Search campaigns").fill(search)
    after(page, lambda: picker.locator(f'input[value="{value}"]').check())
    picker.locator("summary").click()


# --- the tests ------------------------------------------------------------------------------


def test_a_stranger_signs_in_and_lands_on_the_overview_they_asked_for(watched: Watched) -> None:
    page = watched.page
    page.goto("/?preset=all&channels=tv")
    assert page.url.endswith("/sign-in/?next=/%3Fpreset%3Dall%26channels%3Dtv")
    screenshot(page, "sign-in")
    page.get_by_label("Username").fill(DEMO_LOGIN[0])
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    assert "Please enter a correct username and password" in page.locator("main").inner_text()

    page.get_by_label("Password").fill(DEMO_LOGIN[1])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_selector('body[data-state="ready"]')

    assert page.url.endswith("/?preset=all&channels=tv")
    assert page.locator('.picker[data-filter="channels"] summary').inner_text() == "tv"
    cookies = {cookie["name"]: cookie for cookie in page.context.cookies()}
    assert cookies["sessionid"]["httpOnly"] is True
    assert cookies["sessionid"]["sameSite"] == "Lax"
    assert (
        page.evaluate("Object.keys(localStorage).length + Object.keys(sessionStorage).length") == 0
    )


def test_every_filter_draws_what_the_report_api_answers(overview: Any) -> None:
    page = overview
    state: dict[str, Any] = {
        "preset": "year-to-date",
        "compare": "previous_year",
        "granularity": "week",
    }
    check_everything_matches_the_api(page, state)
    screenshot(page, "overview")

    for preset in (
        "last-7-days",
        "last-28-days",
        "last-90-days",
        "this-month",
        "last-month",
        "this-quarter",
        "last-quarter",
        "all",
    ):
        after(
            page,
            lambda preset=preset: page.get_by_label("Period", exact=True).select_option(preset),
        )
        state["preset"] = preset
        check_everything_matches_the_api(page, state)

    dimensions = api(page, "/api/marketing/dimensions/")["data"]
    product = dimensions["products"][0]
    pick(page, "products", product)
    state["products"] = [product]
    check_everything_matches_the_api(page, state)

    pick(page, "campaign_types", "performance")
    state["campaign_types"] = ["performance"]
    check_everything_matches_the_api(page, state)

    channel = api(
        page,
        REPORTS,
        {
            "dimensions": "channel",
            "products": product,
            "campaign_types": "performance",
            "order_by": "-conversions",
        },
    )["data"][0]["channel"]
    pick(page, "channels", channel)
    state["channels"] = [channel]
    check_everything_matches_the_api(page, state)

    campaign = api(
        page,
        REPORTS,
        {
            "dimensions": "campaign",
            "products": product,
            "campaign_types": "performance",
            "channels": channel,
            "order_by": "-conversions",
        },
    )["data"][0]["campaign"]
    pick(page, "campaigns", campaign, search=campaign.split(" #")[0][:8])
    state["campaigns"] = [campaign]
    check_everything_matches_the_api(page, state)

    after(page, lambda: page.get_by_label("Compare with").select_option("previous_period"))
    state["compare"] = "previous_period"
    check_everything_matches_the_api(page, state)

    after(page, lambda: page.get_by_label("Compare with").select_option(""))
    state["compare"] = "none"
    check_everything_matches_the_api(page, state)
    assert page.locator("#change-conversions").inner_text() == "No comparison."

    after(page, lambda: page.get_by_label("Monthly").check())
    state["granularity"] = "month"
    check_everything_matches_the_api(page, state)


def test_a_filter_with_no_data_says_so_in_words(overview: Any) -> None:
    page = overview
    after(page, lambda: page.goto("/?preset=custom&start_date=2019-01-01&end_date=2019-01-31"))

    assert page.locator("#status").inner_text() == "No data for these filters."
    assert page.locator("#trend-message").inner_text() == "No data for these filters."
    assert page.locator("#share-message").inner_text() == "No data for these filters."
    assert page.locator("#measurements-message").inner_text() == "No data for these filters."
    assert page.locator("#figure-conversions").inner_text() == "0"


@pytest.mark.parametrize(
    ("query", "why"),
    [
        # Two years against the same days a year earlier: the ranges share a year.
        ("start_date=2021-01-01&end_date=2022-12-31&compare=previous_year",
         "No comparison: the same days a year earlier overlap this range."),
        # The demo data start on 1 January 2020: nothing a year before.
        ("start_date=2020-01-01&end_date=2020-03-31&compare=previous_year",
         "No comparison: nothing was measured in the comparison range."),
    ],
)  # fmt: skip
def test_the_figures_say_why_they_have_no_comparison(overview: Any, query: str, why: str) -> None:
    """Not "+37 %" against a range that overlaps this one, or that holds nothing."""
    page = overview
    after(page, lambda: page.goto(f"/?preset=custom&{query}"))

    for metric in ("conversions", "spend", "roas"):
        assert page.locator(f"#change-{metric}").inner_text() == why


def test_the_state_lives_in_the_url_and_back_restores_it(overview: Any) -> None:
    page = overview
    after(page, lambda: page.get_by_label("Period", exact=True).select_option("all"))
    pick(page, "channels", "tv")
    assert "channels=tv" in page.url
    assert "preset=all" in page.url

    after(page, page.go_back)
    assert "channels=tv" not in page.url
    assert shown(page)["state"]["channels"] == []
    assert page.locator('.picker[data-filter="channels"] summary').inner_text() == "All"

    after(page, page.go_forward)
    assert shown(page)["state"]["channels"] == ["tv"]
    bookmarked = page.url
    after(page, lambda: page.goto(bookmarked))
    check_everything_matches_the_api(
        page,
        {"preset": "all", "compare": "previous_year", "granularity": "week", "channels": ["tv"]},
    )


def test_the_filters_answer_the_keyboard(overview: Any) -> None:
    page = overview
    picker = page.locator('.picker[data-filter="channels"]')
    first_channel = api(page, "/api/marketing/dimensions/")["data"]["channels"][0]

    picker.locator("summary").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")  # the picker's "All" button
    page.keyboard.press("Tab")  # its first channel
    after(page, lambda: page.keyboard.press("Space"))
    page.keyboard.press("Escape")

    assert shown(page)["state"]["channels"] == [first_channel]
    assert picker.get_attribute("open") is None
    assert page.evaluate("document.activeElement.tagName") == "SUMMARY"


def test_the_campaign_table_sorts_by_any_column(overview: Any) -> None:
    page = overview
    header = page.locator('#campaigns-table th[data-sort="conversions"]')
    header.get_by_role("button").click()
    assert header.get_attribute("aria-sort") == "ascending"
    rows = shown(page)["campaigns"]["data"]
    listed = page.locator("#campaigns-table tbody tr td:first-child").all_inner_texts()
    assert listed == [row["campaign"] for row in sorted(rows, key=lambda row: row["conversions"])]

    by_name = page.locator('#campaigns-table th[data-sort="campaign"]').get_by_role("button")
    by_name.click()
    descending = page.locator("#campaigns-table tbody tr td:first-child").all_inner_texts()
    assert "sort=-campaign" in page.url
    by_name.click()
    ascending = page.locator("#campaigns-table tbody tr td:first-child").all_inner_texts()
    assert "sort=campaign" in page.url
    assert ascending == descending[::-1]
    assert sorted(ascending) == sorted(row["campaign"] for row in rows)
    assert ascending != descending


def test_the_measurements_table_pages_with_cursors(overview: Any) -> None:
    page = overview
    after(page, lambda: page.get_by_label("Period", exact=True).select_option("all"))
    query = expected_query(page, {"preset": "all"})
    first = api(page, "/api/marketing/measurements/", {**query, "page_size": 20})
    second = api(
        page,
        "/api/marketing/measurements/",
        {**query, "page_size": 20, "cursor": first["meta"]["next_cursor"]},
    )

    total = first["meta"]["total"]
    position = expect(page.locator("#measurements-position"))
    page.get_by_role("button", name="Next page").click()
    position.to_have_text(f"Rows 21 to 40 of {total:,}")
    assert shown(page)["measurements"]["data"] == second["data"]
    first_date = datetime.date.fromisoformat(second["data"][0]["date"])
    cell = page.locator("#measurements-table tbody tr:first-child td:first-child").inner_text()
    assert cell == f"{first_date:%b} {first_date.day}, {first_date.year}"

    page.get_by_role("button", name="Previous page").click()
    position.to_have_text(f"Rows 1 to 20 of {total:,}")
    assert shown(page)["measurements"]["data"] == first["data"]
    assert page.get_by_role("button", name="Previous page").is_disabled()


def test_download_csv_gives_the_apis_export_of_the_filters(overview: Any) -> None:
    page = overview
    after(page, lambda: page.get_by_label("Period", exact=True).select_option("last-28-days"))
    link = page.get_by_role("link", name="Download CSV")
    href = link.get_attribute("href")
    assert "format=csv" in href
    assert "format=parquet" in page.get_by_role("link", name="Download Parquet").get_attribute(
        "href"
    )
    export = page.request.get(href)
    assert export.status == 200
    assert export.headers["content-type"].startswith("text/csv"), export.headers

    with page.expect_download() as download:
        link.click()
    saved = Path(download.value.path()).read_bytes()

    assert saved == export.body()
    rows = list(csv.DictReader(io.StringIO(saved.decode())))
    query = expected_query(page, {"preset": "last-28-days"})
    assert len(rows) == api(page, "/api/marketing/measurements/", query)["meta"]["total"]


GOOD_FILE = (
    "product,campaign_type,campaign,channel,date,conversions\n"
    "browser soda,performance,browser launch,tv,2019-06-03,10.5\n"
    "browser soda,performance,browser launch,radio,2019-06-03,4\n"
)
BAD_FILE = (
    "product,campaign_type,campaign,channel,date,conversions\n"
    "browser soda,performance,browser launch,tv,2019-06-31,10.5\n"
    "browser soda,performance,browser launch,tv,2019-06-04,lots\n"
)


def test_imports_accept_a_good_file_and_show_the_rejected_rows_of_a_bad_one(
    watched: Watched,
) -> None:
    page = watched.page
    sign_in(page, "/imports/")
    screenshot(page, "imports")

    page.get_by_label("Choose a file").set_input_files(
        {"name": "good.csv", "mimeType": "text/csv", "buffer": GOOD_FILE.encode()}
    )
    after(page, lambda: page.get_by_role("button", name="Import").click())
    result = page.evaluate("window.MarketingOp.imports.result")
    assert (result["rows"], result["inserted"], result["updated"]) == (2, 2, 0)
    summary = page.locator("#upload-result").inner_text()
    assert "Imported." in summary
    assert "Inserted\n2" in summary
    newest = page.locator("#history-table tbody tr").first.locator("td").all_inner_texts()
    assert newest[1:5] == ["good.csv", DEMO_LOGIN[0], "accepted", "2"]
    assert newest[9] == result["sha256"]

    page.evaluate(
        """(text) => {
            const transfer = new DataTransfer();
            transfer.items.add(new File([text], "bad.csv", {type: "text/csv"}));
            const zone = document.getElementById("drop-zone");
            zone.dispatchEvent(new DragEvent("dragover", {dataTransfer: transfer, bubbles: true}));
            zone.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true}));
        }""",
        BAD_FILE,
    )
    assert page.locator("#chosen-file").inner_text().startswith("Chosen: bad.csv")
    # The refusal is an answer of the API (422), which Chromium notes in the console.
    after(page, lambda: page.get_by_role("button", name="Import").click())
    watched.problems = [p for p in watched.problems if "status of 422" not in p]
    problems = page.locator("#rejected-rows tbody tr")
    assert problems.count() == 2
    assert problems.nth(0).locator("td").all_inner_texts()[:3] == ["2", "date", "2019-06-31"]
    assert problems.nth(1).locator("td").all_inner_texts()[:3] == ["3", "conversions", "lots"]
    assert "Rejected: nothing was imported." in page.locator("#upload-result").inner_text()
    newest = page.locator("#history-table tbody tr").first.locator("td").all_inner_texts()
    assert newest[1:4] == ["bad.csv", DEMO_LOGIN[0], "rejected"]
    screenshot(page, "imports-rejected")


def test_a_stranger_signs_in_through_the_identity_provider(
    watched: Watched, identity_provider_server: IdentityProvider
) -> None:
    """The whole authorization code flow in the browser: the service's sign-in page, the
    provider's page (on another port of loopback), and back to the page asked for."""
    page = watched.page
    page.goto("/imports/")
    page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()
    page.wait_for_selector("text=Test identity provider")
    assert page.url.startswith(f"{identity_provider_server.issuer}/authorize?")
    page.get_by_label("Subject").fill(PROVIDER_SUBJECT)
    page.get_by_role("button", name="Approve").click()
    page.wait_for_url("**/imports/")
    page.wait_for_selector('body[data-state="ready"]')

    assert page.locator("form.sign-out span").inner_text() == PROVIDER_USER
    assert page.request.get("/api/marketing/dimensions/").status == 200
    screenshot(page, "imports-after-provider-sign-in")


def test_a_provider_subject_without_a_user_gets_a_page_saying_why(watched: Watched) -> None:
    page = watched.page
    page.goto("/sign-in/")
    page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()
    page.get_by_label("Subject").fill("somebody-the-service-does-not-know")
    page.get_by_role("button", name="Approve").click()
    page.wait_for_selector("text=Not signed in")

    assert "no user of Marketing OP has that subject" in page.locator("main").inner_text()
    assert page.request.get("/api/marketing/dimensions/").status == 401
    screenshot(page, "sign-in-refused")
    # The refusal is a 403 page, which Chromium logs as a failed load; nothing else may be.
    expected = "Failed to load resource: the server responded with a status of 403"
    watched.problems = [problem for problem in watched.problems if expected not in problem]


def test_signing_out_ends_the_session_for_the_pages_and_the_api(overview: Any) -> None:
    page = overview
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url("**/sign-in/")

    assert page.request.get("/api/marketing/dimensions/").status == 401
    page.goto("/imports/")
    assert "/sign-in/?next=/imports/" in page.url


def test_static_files_have_hashed_names_and_are_cached_for_long(overview: Any) -> None:
    page = overview
    sources = page.evaluate("[...document.scripts].map((script) => script.src)")
    assert len(sources) == 3
    for source in sources:
        name = source.rsplit("/", 1)[1]
        assert len(name.split(".")) >= 3, name  # chart.umd.min.<hash>.js, common.<hash>.js
        response = page.request.get(source)
        assert response.status == 200
        assert "immutable" in response.headers["cache-control"]
        assert "max-age=315360000" in response.headers["cache-control"]
