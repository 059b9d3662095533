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
  const FIGURE_METRICS = ["conversions", "spend", "roas"];

  const shown = {
    state: null, range: null, figures: null, trend: null, shares: null, campaigns: null,
    measurements: null,
  };
  window.MarketingOp.overview = shown;

  let dimensions = null;
  const choices = {};
  let state = null;
  let loading = null;
  let measurementCursors = [null];
  let measurementLoading = null;
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

  /** The range of a preset, counted back from the last day with data (so that data that
   * ends in May shows May, not an empty page). */
  function presetRange(preset) {
    const first = parseDay(dimensions.first_date);
    const last = parseDay(dimensions.last_date);
    if (preset === "last-4-weeks") {
      return [addDays(last, -27), last];
    }
    if (preset === "last-quarter") {
      let year = last.getUTCFullYear();
      let quarter = Math.floor(last.getUTCMonth() / 3);
      const quarterEnd = new Date(Date.UTC(year, quarter * 3 + 3, 0));
      if (isoDay(quarterEnd) !== isoDay(last)) {
        quarter -= 1;
        if (quarter < 0) {
          quarter = 3;
          year -= 1;
        }
      }
      return [new Date(Date.UTC(year, quarter * 3, 1)), new Date(Date.UTC(year, quarter * 3 + 3, 0))];
    }
    if (preset === "year-to-date") {
      return [new Date(Date.UTC(last.getUTCFullYear(), 0, 1)), last];
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
    const next = {
      preset: read("preset", ["last-4-weeks", "last-quarter", "year-to-date", "all", "custom"]),
      compare: read("compare", ["previous_period", "previous_year", "none"]),
      granularity: read("granularity", ["week", "month"]),
      sort: read("sort", ["campaign", "-campaign", "conversions", "-conversions", "spend", "-spend", "roas", "-roas", "change", "-change"]),
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
    label.append(box, document.createTextNode(` ${choice.name}`));
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
      summary.textContent = picked.length === 0 ? "All" : picked.length === 1 ? picked[0] : `${picked.length} selected`;
    }
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
      input.addEventListener("change", () => {
        const start = $("#start_date").value;
        const end = $("#end_date").value;
        if (!start || !end) {
          return;
        }
        if (start > end) {
          showStatus("The first date is after the last date: choose a first date on or before the last.", true);
          return;
        }
        commit(Object.assign({}, state, { preset: "custom", start_date: start, end_date: end }));
      });
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

  async function load() {
    if (loading) {
      loading.abort();
    }
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
    const downloads = query(filters);
    $("#download-csv").href = `/api/marketing/measurements/?${downloads}&format=csv`;
    $("#download-parquet").href = `/api/marketing/measurements/?${downloads}&format=parquet`;
    measurementCursors = [null];
    const charts = [
      report(Object.assign({ granularity: "total", metrics: FIGURE_METRICS.join(",") }, comparison()), signal).then(showFigures),
      report({ dimensions: "channel", granularity: state.granularity, metrics: "conversions", page_size: 10000 }, signal)
        .then(showTrend, failed("#trend-message")),
      report({ dimensions: "channel", metrics: "conversions,share", order_by: "-conversions" }, signal)
        .then(showShares, failed("#share-message")),
    ];
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
      ).then((answer) => {
        shown.campaigns = answer;
        showCampaigns();
      }, failed("#campaigns-message"));
    });
    const parts = [...charts, campaigns, loadMeasurements()];
    const outcomes = await Promise.allSettled(parts);
    if (signal.aborted) {
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
    showStatus(empty ? "No data for these filters." : `${format.day(start)} to ${format.day(end)}${compared}.`);
    document.body.dataset.state = "ready";
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
    const formats = { conversions: format.number, spend: format.number, roas: format.ratio };
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
      if (moved) {
        change.classList.add(moved > 0 ? "up" : "down");
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

  /** The x axis of the trend names a week by its first day alone, as the tooltip says "Week of". */
  function periodTick(value) {
    const period = shown.trend.periods[value];
    return state.granularity === "month" ? format.month(period) : format.day(period);
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
    };
    const hasData = channels.some((channel) => series.get(channel).some((value) => value > 0));
    $("#trend-box").hidden = !hasData;
    showMessage("#trend-message", hasData ? "" : "No data for these filters.");
    if (!hasData) {
      return;
    }
    const label = state.granularity === "month" ? format.month : (day) => `Week of ${format.day(day)}`;
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
              label: (context) => `${context.dataset.label}: ${format.number(context.parsed.y)}`,
            },
          },
        },
      },
    });
  }

  function showShares(answer) {
    const rows = answer.data.filter((row) => row.conversions > 0);
    shown.shares = answer.data.map((row) => ({ channel: row.channel, conversions: row.conversions, share: row.share }));
    $("#share-box").hidden = rows.length === 0;
    showMessage("#share-message", rows.length ? "" : "No data for these filters.");
    if (!rows.length) {
      return;
    }
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
      charts.share.update("none");
      return;
    }
    charts.share = new window.Chart($("#share-chart"), {
      type: "bar",
      data,
      options: {
        indexAxis: "y",
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: { min: 0, ticks: Object.assign({ callback: (value) => format.share(value) }, axisFont) },
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
        const tr = document.createElement("tr");
        tr.append(
          cell(row.campaign),
          cell(format.number(row.conversions), "number"),
          cell(format.number(row.spend), "number"),
          cell(format.ratio(row.roas), "number"),
        );
        if (state.compare !== "none") {
          tr.append(cell(format.change(campaignValue(row, "change")), "number"));
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
        const tr = document.createElement("tr");
        tr.append(
          cell(format.day(row.date)),
          cell(row.product),
          cell(row.campaign_type),
          cell(row.campaign),
          cell(row.channel),
          cell(format.number(row.conversions), "number"),
          cell(format.number(row.spend), "number"),
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
