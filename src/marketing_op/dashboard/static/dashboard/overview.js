/* The overview: filters kept in the page's URL, figures, charts and tables drawn from the
 * report and measurement APIs. What each part shows is kept in window.MarketingOp.overview
 * (the numbers as the API gave them) so that a test can compare them with the API. */
"use strict";

(function () {
  const { api, query, format, CHANNEL_COLOURS, text, cell } = window.MarketingOp;
  const $ = (selector) => document.querySelector(selector);

  const PICKED = ["products", "campaign_types", "channels", "campaigns"];
  const DEFAULTS = { preset: "year-to-date", compare: "previous_year", granularity: "week", sort: "-conversions" };
  const MEASUREMENT_PAGE_SIZE = 20;
  const TOP_CAMPAIGNS = 20;
  const MAX_CAMPAIGN_CHOICES = 100;
  const FIGURE_METRICS = ["conversions", "spend", "cpa", "roas"];
  /** Which way a figure gets better (green) or worse (red): a lower CPA is better; spend is
   * neither. */
  const BETTER = { conversions: 1, spend: 0, cpa: -1, roas: 1 };
  const PRESETS = [
    "last-7-days", "last-28-days", "last-90-days", "this-month", "last-month", "this-quarter",
    "last-quarter", "year-to-date", "all", "custom",
  ];
  /** Older addresses keep working: the preset a bookmark named then. */
  const PRESET_ALIASES = { "last-4-weeks": "last-28-days" };
  /** How long the dates wait for the next keystroke before the figures follow them. */
  const DATE_SETTLE_MS = 350;

  const shown = {
    state: null, range: null, figures: null, trend: null, shares: null, campaigns: null,
    measurements: null, channelsWithData: null,
  };
  window.MarketingOp.overview = shown;

  let dimensions = null;
  const choices = {};
  let state = null;
  let loading = null;
  /** The number of the newest load: an answer to an older one is never drawn. */
  let loadNumber = 0;
  let dateTimer = null;
  let measurementCursors = [null];
  let measurementLoading = null;
  let measurementNumber = 0;
  const charts = { trend: null, share: null };

  // --- dates and ranges ---------------------------------------------------------------------

  function parseDay(textValue) {
    return new Date(`${textValue}T00:00:00Z`);
  }
  function isoDay(date) {
    return date.toISOString().slice(0, 10);
  }
  function addDays(date, days) {
    return new Date(date.getTime() + days * 86400000);
  }

  function monthStart(year, month) {
    return new Date(Date.UTC(year, month, 1));
  }

  /** The range of a preset, counted back from the last day with data (not today), so that
   * data that ends in May shows May rather than an empty page. "This month", "this quarter"
   * and "year to date" end on that day; "last month" and "last quarter" are the whole
   * calendar month and quarter before the one that holds it. */
  function presetRange(preset) {
    const first = parseDay(dimensions.first_date);
    const last = parseDay(dimensions.last_date);
    const year = last.getUTCFullYear();
    const month = last.getUTCMonth();
    const quarter = month - (month % 3);
    const days = { "last-7-days": 7, "last-28-days": 28, "last-90-days": 90 }[preset];
    if (days) {
      return [addDays(last, 1 - days), last];
    }
    if (preset === "this-month") {
      return [monthStart(year, month), last];
    }
    if (preset === "last-month") {
      return [monthStart(year, month - 1), addDays(monthStart(year, month), -1)];
    }
    if (preset === "this-quarter") {
      return [monthStart(year, quarter), last];
    }
    if (preset === "last-quarter") {
      return [monthStart(year, quarter - 3), addDays(monthStart(year, quarter), -1)];
    }
    if (preset === "year-to-date") {
      return [monthStart(year, 0), last];
    }
    return [first, last];
  }

  function currentRange() {
    if (state.preset === "custom" && state.start_date && state.end_date) {
      return [state.start_date, state.end_date];
    }
    const [start, end] = presetRange(state.preset === "custom" ? "all" : state.preset);
    return [isoDay(start), isoDay(end)];
  }

  // --- state in the URL ---------------------------------------------------------------------

  function stateFromUrl() {
    const search = new URLSearchParams(location.search);
    const read = (name, allowed) => {
      const value = search.get(name);
      return value !== null && (!allowed || allowed.includes(value)) ? value : DEFAULTS[name];
    };
    const preset = PRESET_ALIASES[search.get("preset")] || search.get("preset");
    const next = {
      preset: PRESETS.includes(preset) ? preset : DEFAULTS.preset,
      compare: read("compare", ["previous_period", "previous_year", "none"]),
      granularity: read("granularity", ["week", "month"]),
      sort: read("sort", ["campaign", "-campaign", "conversions", "-conversions", "spend", "-spend", "cpa", "-cpa", "roas", "-roas", "change", "-change"]),
      start_date: search.get("start_date") || "",
      end_date: search.get("end_date") || "",
    };
    for (const name of PICKED) {
      next[name] = search.getAll(name);
    }
    return next;
  }

  function urlOf(next) {
    const params = {};
    for (const name of ["preset", "compare", "granularity", "sort"]) {
      if (next[name] !== DEFAULTS[name]) {
        params[name] = next[name];
      }
    }
    if (next.preset === "custom") {
      params.start_date = next.start_date;
      params.end_date = next.end_date;
    }
    for (const name of PICKED) {
      params[name] = next[name];
    }
    const search = query(params);
    return search ? `${location.pathname}?${search}` : location.pathname;
  }

  function commit(next) {
    clearTimeout(dateTimer);
    state = next;
    history.pushState(null, "", urlOf(state));
    showControls();
    load();
  }

  // --- the filter bar -----------------------------------------------------------------------

  function pickerChoices(filter) {
    if (filter === "campaigns") {
      const seen = new Map();
      for (const campaign of dimensions.campaigns) {
        const hint = `${campaign.product}, ${campaign.campaign_type}`;
        seen.set(campaign.name, seen.has(campaign.name) ? `${seen.get(campaign.name)}; ${hint}` : hint);
      }
      return [...seen.entries()].map(([name, hint]) => ({ name, hint }));
    }
    return dimensions[filter].map((name) => ({ name, hint: "" }));
  }

  /** The labelled check box of a picker's choice. */
  function choiceBox(filter, choice) {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = choice.name;
    box.name = filter;
    box.checked = state[filter].includes(choice.name);
    label.append(box);
    if (filter === "channels") {
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.backgroundColor = channelColour(choice.name);
      label.append(swatch);
    }
    label.append(document.createTextNode(` ${choice.name}`));
    if (choice.hint) {
      const hint = document.createElement("span");
      hint.className = "hint";
      hint.textContent = `(${choice.hint})`;
      label.append(hint);
    }
    return label;
  }

  /**
   * Lists a picker's choices. The campaign picker lists only the picked campaigns and the
   * first MAX_CAMPAIGN_CHOICES that match its search: an organisation may have tens of
   * thousands, and a page with a check box for each would be slow to change.
   */
  function showChoices(picker) {
    const filter = picker.dataset.filter;
    let shownChoices = choices[filter];
    let more = null;
    if (filter === "campaigns") {
      const wanted = $("#campaign-search").value.trim().toLowerCase();
      const picked = new Set(state.campaigns);
      const matching = shownChoices.filter((choice) => !picked.has(choice.name) && choice.name.toLowerCase().includes(wanted));
      shownChoices = [...shownChoices.filter((choice) => picked.has(choice.name)), ...matching.slice(0, MAX_CAMPAIGN_CHOICES)];
      if (matching.length > MAX_CAMPAIGN_CHOICES) {
        more = document.createElement("p");
        more.className = "hint";
        more.textContent = `The first ${MAX_CAMPAIGN_CHOICES} of ${format.number(matching.length)}: type to narrow the list.`;
      }
    }
    if (filter === "channels" && shown.channelsWithData) {
      // Only the channels that sold in the period (under the other filters), and those picked.
      const selling = new Set(shown.channelsWithData);
      const kept = shownChoices.filter((choice) => selling.has(choice.name) || state.channels.includes(choice.name));
      if (kept.length < shownChoices.length) {
        const without = shownChoices.length - kept.length;
        more = document.createElement("p");
        more.className = "hint";
        more.textContent = `${format.number(without)} channel${without === 1 ? "" : "s"} without data in this period not listed.`;
      }
      shownChoices = kept;
    }
    const boxes = shownChoices.map((choice) => choiceBox(filter, choice));
    picker.querySelector(".options").replaceChildren(...boxes, ...(more ? [more] : []));
  }

  function buildPickers() {
    for (const picker of document.querySelectorAll(".picker")) {
      const filter = picker.dataset.filter;
      choices[filter] = pickerChoices(filter);
      picker.querySelector('[data-action="none"]').addEventListener("click", () => {
        commit(Object.assign({}, state, { [filter]: [] }));
      });
      picker.querySelector(".options").addEventListener("change", (event) => {
        const box = event.target;
        const others = state[filter].filter((name) => name !== box.value);
        commit(Object.assign({}, state, { [filter]: box.checked ? [...others, box.value] : others }));
      });
    }
    $("#campaign-search").addEventListener("input", () => {
      showChoices(document.querySelector('.picker[data-filter="campaigns"]'));
    });
  }

  /** What a picker's summary says: "All", the name picked, two names, or two names and how
   * many more (all of them in its tooltip). */
  function pickedSummary(picked) {
    if (picked.length === 0) {
      return "All";
    }
    if (picked.length <= 2) {
      return picked.join(", ");
    }
    return `${picked.slice(0, 2).join(", ")} +${picked.length - 2} more`;
  }

  function showControls() {
    $("#preset").value = state.preset;
    const [start, end] = currentRange();
    $("#start_date").value = start;
    $("#end_date").value = end;
    for (const input of [$("#start_date"), $("#end_date")]) {
      input.min = dimensions.first_date || "";
      input.max = dimensions.last_date || "";
    }
    $("#compare").value = state.compare === "none" ? "" : state.compare;
    for (const radio of document.querySelectorAll('input[name="granularity"]')) {
      radio.checked = radio.value === state.granularity;
    }
    for (const picker of document.querySelectorAll(".picker")) {
      const picked = state[picker.dataset.filter];
      showChoices(picker);
      const summary = picker.querySelector("summary");
      summary.textContent = pickedSummary(picked);
      summary.title = picked.length > 1 ? picked.join(", ") : "";
    }
  }

  /**
   * The dates as typed. Chromium reports a change at every keystroke that makes a whole date
   * (typing 2022 passes through 0002, 0020 and 0202), so the figures follow once the typing
   * settles. Whatever the dates show, the figures are theirs: while they are no range (empty,
   * or the first after the last) no figures are shown, and an answer for older dates is
   * never drawn (see load).
   */
  function datesChanged() {
    clearTimeout(dateTimer);
    const start = $("#start_date").value;
    const end = $("#end_date").value;
    if (!start || !end || start > end) {
      abandonLoad();
      showInvalidRange(start, end);
      return;
    }
    dateTimer = setTimeout(() => {
      commit(Object.assign({}, state, { preset: "custom", start_date: start, end_date: end }));
    }, DATE_SETTLE_MS);
  }

  /** Stops drawing what is on its way: the dates no longer ask for it. */
  function abandonLoad() {
    loadNumber += 1;
    if (loading) {
      loading.abort();
      loading = null;
    }
    measurementNumber += 1;
    if (measurementLoading) {
      measurementLoading.abort();
      measurementLoading = null;
    }
  }

  /** No figures, charts or tables for dates that are no range: nothing can disagree with them. */
  function showInvalidRange(start, end) {
    $("#preset").value = "custom";
    const message = !start || !end
      ? "Choose both dates to see the figures."
      : `The first date (${format.day(start)}) is after the last (${format.day(end)}): choose a first date on or before the last.`;
    showStatus(message, true);
    shown.range = null;
    shown.figures = null;
    for (const metric of FIGURE_METRICS) {
      text($(`#figure-${metric}`), "—");
      text($(`#change-${metric}`), "");
    }
    for (const id of ["#trend-message", "#share-message", "#campaigns-message", "#measurements-message"]) {
      showMessage(id, "No figures: the dates are not a range.");
    }
    for (const id of ["#trend-box", "#share-box", "#campaigns-table", "#measurements-table", "#trend-partial"]) {
      $(id).hidden = true;
    }
    text($("#measurements-position"), "");
    for (const id of ["#next-page", "#previous-page", "#first-page"]) {
      $(id).disabled = true;
    }
    setDownloads(null);
    for (const section of document.querySelectorAll("[aria-busy]")) {
      section.removeAttribute("aria-busy");
    }
    document.body.dataset.state = "invalid";
  }

  function listenToControls() {
    $("#preset").addEventListener("change", (event) => {
      const preset = event.target.value;
      const next = Object.assign({}, state, { preset });
      if (preset === "custom") {
        [next.start_date, next.end_date] = currentRange();
      }
      commit(next);
    });
    for (const input of [$("#start_date"), $("#end_date")]) {
      input.addEventListener("change", datesChanged);
    }
    $("#compare").addEventListener("change", (event) => {
      commit(Object.assign({}, state, { compare: event.target.value || "none" }));
    });
    for (const radio of document.querySelectorAll('input[name="granularity"]')) {
      radio.addEventListener("change", () => {
        if (radio.checked) {
          commit(Object.assign({}, state, { granularity: radio.value }));
        }
      });
    }
    for (const header of document.querySelectorAll("#campaigns-table th[data-sort]")) {
      header.querySelector("button").addEventListener("click", () => {
        const key = header.dataset.sort;
        const sort = state.sort === `-${key}` ? key : `-${key}`;
        state = Object.assign({}, state, { sort });
        history.pushState(null, "", urlOf(state));
        showCampaigns();
      });
    }
    $("#next-page").addEventListener("click", () => {
      const next = shown.measurements && shown.measurements.meta.next_cursor;
      if (next) {
        measurementCursors.push(next);
        loadMeasurements().catch(shownWhereItHappened);
      }
    });
    $("#previous-page").addEventListener("click", () => {
      if (measurementCursors.length > 1) {
        measurementCursors.pop();
        loadMeasurements().catch(shownWhereItHappened);
      }
    });
    $("#first-page").addEventListener("click", () => {
      measurementCursors = [null];
      loadMeasurements().catch(shownWhereItHappened);
    });
    // A picker closes with Escape (focus back on its summary) or a click elsewhere.
    document.addEventListener("keydown", (event) => {
      const open = event.key === "Escape" && document.querySelector(".picker[open]");
      if (open) {
        open.open = false;
        open.querySelector("summary").focus();
      }
    });
    document.addEventListener("click", (event) => {
      for (const picker of document.querySelectorAll(".picker[open]")) {
        if (!picker.contains(event.target)) {
          picker.open = false;
        }
      }
    });
    window.addEventListener("popstate", () => {
      clearTimeout(dateTimer);
      state = stateFromUrl();
      showControls();
      load();
    });
  }

  // --- loading ------------------------------------------------------------------------------

  /** For errors that the part has already shown in words (see loadMeasurements). */
  function shownWhereItHappened() {}

  function showStatus(message, isError) {
    const status = $("#status");
    status.textContent = message;
    status.classList.toggle("error", Boolean(isError));
  }

  function showMessage(id, message, isError) {
    const element = $(id);
    element.hidden = !message;
    element.textContent = message || "";
    element.classList.toggle("error", Boolean(isError));
  }

  function filterParams() {
    const [start_date, end_date] = currentRange();
    const params = { start_date, end_date };
    for (const name of PICKED) {
      params[name] = state[name];
    }
    return params;
  }

  function comparison() {
    return state.compare === "none" ? {} : { compare: state.compare };
  }

  function report(params, signal) {
    return api(`/api/marketing/reports/?${query(Object.assign(filterParams(), params))}`, { signal });
  }

  /** ``show`` for the answers of load number ``number`` only: a late answer to an older
   * question (dates changed since) is dropped, even one that arrived before its abort. */
  function ifCurrent(number, show) {
    return (answer) => {
      if (number === loadNumber) {
        show(answer);
      }
    };
  }

  /** The download links: to the export of these filters, or disabled when they select
   * nothing (or while the page does not know yet: ``loading``). */
  function setDownloads(filters, loading) {
    for (const [id, fileFormat] of [["#download-csv", "csv"], ["#download-parquet", "parquet"]]) {
      const link = $(id);
      if (filters) {
        link.href = `/api/marketing/measurements/?${query(filters)}&format=${fileFormat}`;
        link.removeAttribute("aria-disabled");
      } else {
        link.removeAttribute("href");
        link.setAttribute("aria-disabled", "true");
      }
    }
    text($("#downloads-label"), filters || loading ? "Everything these filters select:" : "Nothing to download for these filters.");
  }

  async function load() {
    if (loading) {
      loading.abort();
    }
    clearTimeout(dateTimer);
    const number = ++loadNumber;
    const controller = new AbortController();
    loading = controller;
    const signal = controller.signal;
    document.body.dataset.state = "loading";
    document.body.dataset.charts = "loading";
    shown.state = Object.assign({}, state);
    shown.range = currentRange();
    showStatus("Loading…");
    for (const id of ["#trend-message", "#share-message", "#campaigns-message"]) {
      showMessage(id, "Loading…");
    }
    for (const section of document.querySelectorAll(".figures, .charts, .panel")) {
      section.setAttribute("aria-busy", "true");
    }
    const filters = filterParams();
    setDownloads(null, true);
    measurementCursors = [null];
    const charts = [
      report(Object.assign({ granularity: "total", metrics: FIGURE_METRICS.join(",") }, comparison()), signal).then(ifCurrent(number, showFigures)),
      report({ dimensions: "channel", granularity: state.granularity, metrics: "conversions", page_size: 10000 }, signal)
        .then(ifCurrent(number, showTrend), failed("#trend-message")),
      report({ dimensions: "channel", metrics: "conversions,share", order_by: "-conversions" }, signal)
        .then(ifCurrent(number, (answer) => {
          showShares(answer);
          if (!state.channels.length) {
            showChannelsWithData(answer);
          }
        }), failed("#share-message")),
    ];
    if (state.channels.length) {
      // The channel picker lists the channels that sold in the period under the other
      // filters: with channels picked, the share chart's answer holds only those.
      charts.push(report({ dimensions: "channel", metrics: "conversions", channels: [] }, signal)
        .then(ifCurrent(number, showChannelsWithData)));
    }
    // The figures and both charts come from the summaries; the campaign table reads every
    // measurement of the period, which on a large organisation keeps the database's cores
    // busy for seconds: it is asked for once the charts are drawn, so that they come first.
    const chartsDrawn = Promise.allSettled(charts).then(() => {
      if (!signal.aborted) {
        document.body.dataset.charts = "drawn";
      }
    });
    const campaigns = chartsDrawn.then(() => {
      if (signal.aborted) {
        return undefined;
      }
      return report(
        Object.assign(
          { dimensions: "campaign", metrics: FIGURE_METRICS.join(","), order_by: "-conversions", page_size: TOP_CAMPAIGNS },
          comparison(),
        ),
        signal,
      ).then(ifCurrent(number, (answer) => {
        shown.campaigns = answer;
        showCampaigns();
      }), failed("#campaigns-message"));
    });
    const parts = [...charts, campaigns, loadMeasurements()];
    const outcomes = await Promise.allSettled(parts);
    if (signal.aborted || number !== loadNumber) {
      return;
    }
    for (const section of document.querySelectorAll("[aria-busy]")) {
      section.removeAttribute("aria-busy");
    }
    const refused = outcomes.find((outcome) => outcome.status === "rejected");
    if (refused) {
      showStatus(`Some figures could not be loaded: ${refused.reason.message}`, true);
      document.body.dataset.state = "error";
      return;
    }
    const empty = shown.measurements && shown.measurements.meta.total === 0;
    const [start, end] = currentRange();
    const compared = state.compare === "none" ? "" : state.compare === "previous_year" ? ", compared with the same days a year earlier" : ", compared with the period just before";
    setDownloads(empty ? null : filters);
    showStatus(empty ? "No data for these filters." : `${format.day(start)} to ${format.day(end)}${compared}.${presetNote()}`);
    document.body.dataset.state = "ready";
  }

  /** Says what a preset counts from, when the data end before today. */
  function presetNote() {
    if (state.preset === "custom" || state.preset === "all") {
      return "";
    }
    const today = new Date().toISOString().slice(0, 10);
    return dimensions.last_date < today ? ` The period counts back from the last day with data, ${format.day(dimensions.last_date)}.` : "";
  }

  function showChannelsWithData(answer) {
    shown.channelsWithData = answer.data.filter((row) => row.conversions > 0).map((row) => row.channel);
    showChoices(document.querySelector('.picker[data-filter="channels"]'));
  }

  /** Shows a part's error where the part would be, and passes it on to the status line. */
  function failed(id) {
    return (error) => {
      if (error.name !== "AbortError") {
        showMessage(id, `Could not load this part: ${error.message}`, true);
      }
      throw error;
    };
  }

  // --- figures ------------------------------------------------------------------------------

  function relativeChange(now, before) {
    if (now === null || now === undefined || before === null || before === undefined || before === 0) {
      return null;
    }
    return (now - before) / before;
  }

  /** Why the figures are not compared with the comparison range ("" when they are): none
   * was asked for, it overlaps the range (a year earlier, for a range over a year long), or
   * nothing was measured in it (the report's row then has a null `previous`). */
  function whyNoComparison(answer) {
    if (!answer.meta.previous_totals) {
      return "No comparison.";
    }
    const [start, end] = currentRange();
    const endAYearEarlier = `${Number(end.slice(0, 4)) - 1}${end.slice(4)}`;
    if (state.compare === "previous_year" && endAYearEarlier >= start) {
      return "No comparison: the same days a year earlier overlap this range.";
    }
    if (!answer.data.length || answer.data[0].previous === null) {
      return "No comparison: nothing was measured in the comparison range.";
    }
    return "";
  }

  function showFigures(answer) {
    const totals = answer.meta.totals || {};
    const previous = answer.meta.previous_totals;
    shown.figures = { totals, previous_totals: previous };
    const formats = { conversions: format.number, spend: format.money, cpa: format.moneyCents, roas: format.ratio };
    const why = whyNoComparison(answer);
    for (const metric of FIGURE_METRICS) {
      const value = $(`#figure-${metric}`);
      const change = $(`#change-${metric}`);
      change.classList.remove("up", "down");
      text(value, formats[metric](totals[metric]));
      if (why) {
        text(change, why);
        continue;
      }
      const moved = relativeChange(totals[metric], previous[metric]);
      text(change, moved === null ? `Nothing to compare with (${formats[metric](previous[metric])} before).` : `${format.change(moved)} against ${formats[metric](previous[metric])}`);
      if (moved && BETTER[metric]) {
        change.classList.add(moved * BETTER[metric] > 0 ? "up" : "down");
      }
    }
  }

  // --- charts -------------------------------------------------------------------------------

  function channelColour(channel) {
    const index = dimensions.channels.indexOf(channel);
    return CHANNEL_COLOURS[(index < 0 ? dimensions.channels.length : index) % CHANNEL_COLOURS.length];
  }

  const axisFont = { color: "#1b1f24" };
  /** The phone layout of dashboard.css, where the channel chart is tall enough for names on
   * two lines. */
  const phone = window.matchMedia("(max-width: 600px)");

  /** A long name in lines of at most `width` characters, broken at spaces (for narrow charts). */
  function lines(name, width) {
    const out = [];
    for (const word of name.split(" ")) {
      const last = out[out.length - 1];
      if (last !== undefined && `${last} ${word}`.length <= width) {
        out[out.length - 1] = `${last} ${word}`;
      } else {
        out.push(word);
      }
    }
    return out;
  }

  /** The x axis of the trend names a week by its first day alone, as the tooltip says "Week
   * of"; a partial period says so on a second line. */
  function periodTick(value) {
    const period = shown.trend.periods[value];
    const name = shown.trend.granularity === "month" ? format.month(period) : format.day(period);
    return shown.trend.partial[value] ? [name, "(partial)"] : name;
  }

  /** The last day of the week or month that starts on ``start``. */
  function periodEnd(start, granularity) {
    if (granularity === "month") {
      return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + 1, 0));
    }
    return addDays(start, 6);
  }

  /**
   * For each period, null when the range (and the data) cover all its days, or how many of
   * them they cover: the first and last weeks of a range that does not start on a Monday
   * and end on a Sunday hold only some of their days, and drawn like the others they would
   * look like a collapse.
   */
  function partialPeriods(periods, granularity, range) {
    const first = Math.max(parseDay(range[0]), parseDay(dimensions.first_date));
    const last = Math.min(parseDay(range[1]), parseDay(dimensions.last_date));
    return periods.map((period) => {
      const start = parseDay(period);
      const end = periodEnd(start, granularity);
      const days = Math.round((end - start) / 86400000) + 1;
      const covered = Math.round((Math.min(end, last) - Math.max(start, first)) / 86400000) + 1;
      return covered < days ? { days: Math.max(covered, 0), of: days } : null;
    });
  }

  /** Hatches the bars of partial periods with white stripes, over the channels' colours. */
  const partialHatch = {
    id: "partialHatch",
    afterDatasetsDraw(chart) {
      const partial = shown.trend && shown.trend.partial;
      if (!partial) {
        return;
      }
      const { ctx, chartArea } = chart;
      partial.forEach((part, index) => {
        if (!part) {
          return;
        }
        let top = Infinity;
        let bottom = -Infinity;
        let left = null;
        let width = 0;
        chart.data.datasets.forEach((_, datasetIndex) => {
          const bar = chart.getDatasetMeta(datasetIndex).data[index];
          if (!bar || !chart.isDatasetVisible(datasetIndex)) {
            return;
          }
          const { x, y, base, width: barWidth } = bar.getProps(["x", "y", "base", "width"], true);
          top = Math.min(top, y, base);
          bottom = Math.max(bottom, y, base);
          left = x - barWidth / 2;
          width = barWidth;
        });
        if (left === null || bottom - top < 1) {
          return;
        }
        ctx.save();
        ctx.beginPath();
        ctx.rect(left, top, width, bottom - top);
        ctx.clip();
        ctx.strokeStyle = "rgba(255, 255, 255, 0.75)";
        ctx.lineWidth = 3;
        ctx.beginPath();
        for (let offset = -(bottom - top); offset < width; offset += 8) {
          ctx.moveTo(left + offset, bottom);
          ctx.lineTo(left + offset + (bottom - top), top);
        }
        ctx.stroke();
        ctx.restore();
        ctx.save();
        ctx.strokeStyle = "#4a5360";
        ctx.setLineDash([4, 3]);
        ctx.lineWidth = 1;
        ctx.strokeRect(left + 0.5, Math.max(top, chartArea.top) + 0.5, width - 1, bottom - Math.max(top, chartArea.top) - 1);
        ctx.restore();
      });
    },
  };

  /** The note under the trend that names the partial periods. */
  function showPartialNote(periods, partial, label) {
    const parts = periods
      .map((period, index) => (partial[index] ? `${label(period)} (${partial[index].days} of ${partial[index].of} days)` : null))
      .filter(Boolean);
    const note = $("#trend-partial");
    note.hidden = parts.length === 0;
    const unit = shown.trend.granularity === "month" ? "months" : "weeks";
    text(note, parts.length ? `Hatched bars are partial ${unit}, with only some of their days in the period: ${parts.join("; ")}.` : "");
  }

  function channelTick(value) {
    const name = this.getLabelForValue(value);
    return phone.matches ? lines(name, 14) : name;
  }

  function showTrend(answer) {
    const periods = [];
    const series = new Map();
    for (const row of answer.data) {
      if (!periods.includes(row.period_start)) {
        periods.push(row.period_start);
      }
    }
    for (const row of answer.data) {
      if (!series.has(row.channel)) {
        series.set(row.channel, new Array(periods.length).fill(0));
      }
      series.get(row.channel)[periods.indexOf(row.period_start)] = row.conversions;
    }
    const channels = [...series.keys()].sort((a, b) => dimensions.channels.indexOf(a) - dimensions.channels.indexOf(b));
    shown.trend = {
      granularity: state.granularity,
      periods,
      series: Object.fromEntries(channels.map((channel) => [channel, series.get(channel)])),
      partial: partialPeriods(periods, state.granularity, currentRange()),
    };
    const hasData = channels.some((channel) => series.get(channel).some((value) => value > 0));
    $("#trend-box").hidden = !hasData;
    showMessage("#trend-message", hasData ? "" : "No data for these filters.");
    const label = state.granularity === "month" ? format.month : (day) => `Week of ${format.day(day)}`;
    showPartialNote(periods, hasData ? shown.trend.partial : [], label);
    if (!hasData) {
      return;
    }
    const data = {
      labels: periods.map(label),
      datasets: channels.map((channel) => ({
        label: channel,
        data: series.get(channel),
        backgroundColor: channelColour(channel),
        borderWidth: 0,
      })),
    };
    if (charts.trend) {
      charts.trend.data = data;
      charts.trend.update("none");
      return;
    }
    charts.trend = new window.Chart($("#trend-chart"), {
      type: "bar",
      data,
      plugins: [partialHatch],
      options: {
        animation: false,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: true, ticks: Object.assign({ callback: periodTick }, axisFont) },
          y: { stacked: true, ticks: Object.assign({ callback: (value) => format.number(value) }, axisFont) },
        },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12, color: "#1b1f24" } },
          tooltip: {
            callbacks: {
              title: (items) => {
                const part = items.length ? shown.trend.partial[items[0].dataIndex] : null;
                const title = items.length ? items[0].label : "";
                return part ? `${title} (partial: ${part.days} of ${part.of} days)` : title;
              },
              label: (context) => `${context.dataset.label}: ${format.number(context.parsed.y)}`,
            },
          },
        },
      },
    });
  }

  /** A round end for the share axis above the largest share, with room for its label, and
   * a step that gives it at most five intervals: 0 to 80 % by 20, 0 to 5 % by 1. */
  function shareAxis(largest) {
    const wanted = Math.min(1, largest * 1.18);
    for (const step of [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25]) {
      const max = Math.ceil(wanted / step - 1e-9) * step;
      if (max / step <= 5) {
        return { max: Math.min(1, Math.max(max, step)), step };
      }
    }
    return { max: 1, step: 0.25 };
  }

  /** Each bar's share written beside it. */
  const shareLabels = {
    id: "shareLabels",
    afterDatasetsDraw(chart) {
      const { ctx } = chart;
      const meta = chart.getDatasetMeta(0);
      ctx.save();
      ctx.fillStyle = "#1b1f24";
      ctx.font = "12px system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif";
      ctx.textBaseline = "middle";
      meta.data.forEach((bar, index) => {
        const { x, y } = bar.getProps(["x", "y"], true);
        ctx.fillText(format.share(chart.data.datasets[0].data[index]), x + 4, y);
      });
      ctx.restore();
    },
  };

  function showShares(answer) {
    const rows = answer.data.filter((row) => row.conversions > 0);
    shown.shares = answer.data.map((row) => ({ channel: row.channel, conversions: row.conversions, share: row.share }));
    $("#share-box").hidden = rows.length === 0;
    showMessage("#share-message", rows.length ? "" : "No data for these filters.");
    if (!rows.length) {
      return;
    }
    // As tall as its bars need: two channels make two bars of a usual width, not two slabs.
    const perBar = phone.matches ? 48 : 26;
    $("#share-box").style.height = `${Math.max(140, rows.length * perBar + 60)}px`;
    const axis = shareAxis(Math.max(...rows.map((row) => row.share)));
    const data = {
      labels: rows.map((row) => row.channel),
      datasets: [{
        label: "Share of conversions",
        data: rows.map((row) => row.share),
        backgroundColor: rows.map((row) => channelColour(row.channel)),
        borderWidth: 0,
      }],
    };
    if (charts.share) {
      charts.share.data = data;
      Object.assign(charts.share.options.scales.x, { max: axis.max });
      charts.share.options.scales.x.ticks.stepSize = axis.step;
      charts.share.update("none");
      return;
    }
    charts.share = new window.Chart($("#share-chart"), {
      type: "bar",
      data,
      plugins: [shareLabels],
      options: {
        indexAxis: "y",
        animation: false,
        maintainAspectRatio: false,
        datasets: { bar: { maxBarThickness: 22 } },
        scales: {
          x: {
            min: 0,
            max: axis.max,
            ticks: Object.assign({ callback: (value) => format.share(value), stepSize: axis.step, maxRotation: 0 }, axisFont),
          },
          y: { ticks: Object.assign({ callback: channelTick, autoSkip: false }, axisFont) },
        },
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: (context) => format.share(context.parsed.x) } },
        },
      },
    });
  }

  // --- tables -------------------------------------------------------------------------------

  /** A cell that names its column, for the phone layout, where each row is a card of lines. */
  function labelled(td, label) {
    td.dataset.label = label;
    td.setAttribute("role", "cell");
    return td;
  }

  /** A table row that stays a row for assistive technology in the phone's card layout. */
  function tableRow() {
    const tr = document.createElement("tr");
    tr.setAttribute("role", "row");
    return tr;
  }

  function campaignValue(row, key) {
    if (key === "change") {
      return row.change ? row.change.conversions : null;
    }
    return row[key] === undefined ? null : row[key];
  }

  function showCampaigns() {
    const answer = shown.campaigns;
    if (!answer) {
      return;
    }
    const table = $("#campaigns-table");
    const key = state.sort.replace(/^-/, "");
    const descending = state.sort.startsWith("-");
    const rows = answer.data.slice();
    rows.sort((a, b) => {
      const x = campaignValue(a, key);
      const y = campaignValue(b, key);
      if (x === y) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      const order = typeof x === "string" ? x.localeCompare(y) : x - y;
      return descending ? -order : order;
    });
    shown.campaignRows = rows.map((row) => row.campaign);
    for (const header of table.querySelectorAll("th[data-sort]")) {
      if (header.dataset.sort === key) {
        header.setAttribute("aria-sort", descending ? "descending" : "ascending");
      } else {
        header.removeAttribute("aria-sort");
      }
      if (header.dataset.sort === "change") {
        header.hidden = state.compare === "none";
      }
    }
    const body = table.querySelector("tbody");
    body.replaceChildren(
      ...rows.map((row) => {
        const tr = tableRow();
        tr.append(
          labelled(cell(row.campaign, "name"), "Campaign"),
          labelled(cell(format.number(row.conversions), "number"), "Conversions"),
          labelled(cell(format.money(row.spend), "number"), "Spend"),
          labelled(cell(format.moneyCents(row.cpa), "number"), "CPA"),
          labelled(cell(format.ratio(row.roas), "number"), "ROAS"),
        );
        if (state.compare !== "none") {
          tr.append(labelled(cell(format.change(campaignValue(row, "change")), "number"), "Change"));
        }
        return tr;
      }),
    );
    table.hidden = rows.length === 0;
    showMessage("#campaigns-message", rows.length ? "" : "No data for these filters.");
  }

  async function loadMeasurements() {
    if (measurementLoading) {
      measurementLoading.abort();
    }
    const number = ++measurementNumber;
    const controller = new AbortController();
    measurementLoading = controller;
    const cursor = measurementCursors[measurementCursors.length - 1];
    const params = Object.assign(filterParams(), { page_size: MEASUREMENT_PAGE_SIZE });
    if (cursor) {
      params.cursor = cursor;
    }
    showMessage("#measurements-message", "Loading…");
    for (const id of ["#next-page", "#previous-page", "#first-page"]) {
      $(id).disabled = true;
    }
    try {
      const answer = await api(`/api/marketing/measurements/?${query(params)}`, { signal: controller.signal });
      if (number !== measurementNumber) {
        return;
      }
      shown.measurements = answer;
      showMeasurements(answer);
    } catch (error) {
      if (error.name !== "AbortError") {
        showMessage("#measurements-message", `Could not load the measurements: ${error.message}`, true);
      }
      throw error;
    }
  }

  function showMeasurements(answer) {
    const table = $("#measurements-table");
    table.querySelector("tbody").replaceChildren(
      ...answer.data.map((row) => {
        const tr = tableRow();
        tr.append(
          labelled(cell(format.day(row.date), "name"), "Date"),
          labelled(cell(row.product), "Product"),
          labelled(cell(row.campaign_type), "Campaign type"),
          labelled(cell(row.campaign), "Campaign"),
          labelled(cell(row.channel), "Channel"),
          labelled(cell(format.number(row.conversions), "number"), "Conversions"),
          labelled(cell(format.money(row.spend), "number"), "Spend"),
        );
        return tr;
      }),
    );
    const first = (measurementCursors.length - 1) * MEASUREMENT_PAGE_SIZE;
    const total = answer.meta.total;
    table.hidden = answer.data.length === 0;
    showMessage("#measurements-message", total === 0 ? "No data for these filters." : "");
    text(
      $("#measurements-position"),
      total === 0 ? "" : `Rows ${format.number(first + 1)} to ${format.number(first + answer.data.length)} of ${format.number(total)}`,
    );
    $("#next-page").disabled = !answer.meta.next_cursor;
    $("#previous-page").disabled = measurementCursors.length <= 1;
    $("#first-page").disabled = measurementCursors.length <= 1;
    shown.measurementPage = measurementCursors.length;
  }

  // --- start --------------------------------------------------------------------------------

  async function start() {
    try {
      const answer = await api("/api/marketing/dimensions/");
      dimensions = answer.data;
    } catch (error) {
      showStatus(`The filters could not be loaded: ${error.message}`, true);
      document.body.dataset.state = "error";
      return;
    }
    if (!dimensions.first_date) {
      showStatus("No data yet: import a measurement file on the Imports page.");
      for (const id of ["#trend-message", "#share-message", "#campaigns-message", "#measurements-message"]) {
        showMessage(id, "No data for these filters.");
      }
      document.body.dataset.state = "ready";
      return;
    }
    buildPickers();
    state = stateFromUrl();
    history.replaceState(null, "", urlOf(state));
    showControls();
    listenToControls();
    load();
  }

  start();
})();
