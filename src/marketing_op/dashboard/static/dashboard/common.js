/* What every page of the dashboard shares: calls to the JSON API with the session of the
 * sign-in, errors in words, and numbers and dates formatted for the reader's locale. */
"use strict";

(function () {
  const body = document.body;

  class ApiError extends Error {
    constructor(message, status) {
      super(message);
      this.status = status;
    }
  }

  /** The API's own words for a refusal: its detail, or the first problem of a 422. */
  function describeRefusal(status, answer) {
    if (status === 401) {
      return "Your session has ended: sign in again.";
    }
    if (status === 429) {
      return "Too many requests: wait a minute and try again.";
    }
    if (answer && typeof answer.detail === "string") {
      return answer.detail;
    }
    if (answer && Array.isArray(answer.detail) && answer.detail.length) {
      const first = answer.detail[0];
      const where = (first.loc || []).filter((part) => part !== "query").join(".");
      return where ? `${where}: ${first.msg}` : String(first.msg);
    }
    return `The service answered with status ${status}.`;
  }

  /** GET or POST to the API with the session cookie; the JSON answer, or an ApiError. */
  async function api(path, options = {}) {
    const headers = Object.assign({ Accept: "application/json" }, options.headers || {});
    if (options.method && options.method !== "GET") {
      headers["X-CSRFToken"] = body.dataset.csrfToken;
    }
    let response;
    try {
      response = await fetch(path, {
        method: options.method || "GET",
        headers,
        body: options.body,
        credentials: "same-origin",
        signal: options.signal,
      });
    } catch (error) {
      if (error.name === "AbortError") {
        throw error;
      }
      throw new ApiError("The service could not be reached. Check the connection and try again.", 0);
    }
    let answer = null;
    const type = response.headers.get("Content-Type") || "";
    if (type.includes("json")) {
      answer = await response.json().catch(() => null);
    }
    if (!response.ok) {
      if (response.status === 401) {
        window.location.assign(`${body.dataset.signInUrl}?next=${encodeURIComponent(location.pathname + location.search)}`);
      }
      const error = new ApiError(describeRefusal(response.status, answer), response.status);
      error.answer = answer;
      throw error;
    }
    return answer;
  }

  /** A query string from an object whose values are strings or lists of strings. */
  function query(params) {
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(params)) {
      if (Array.isArray(value)) {
        value.forEach((item) => search.append(name, item));
      } else if (value !== undefined && value !== null && value !== "") {
        search.append(name, String(value));
      }
    }
    return search.toString();
  }

  const wholeNumber = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
  const ratio = new Intl.NumberFormat(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  const percent = new Intl.NumberFormat(undefined, {
    style: "percent",
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
  });
  const signedPercent = new Intl.NumberFormat(undefined, {
    style: "percent",
    minimumFractionDigits: 1,
    maximumFractionDigits: 1,
    signDisplay: "exceptZero",
  });
  // Spend in the organisation's currency (a setting of the organisation, on the page's body).
  const currency = body.dataset.currency || "EUR";
  const money = new Intl.NumberFormat(undefined, { style: "currency", currency, maximumFractionDigits: 0, minimumFractionDigits: 0 });
  const moneyCents = new Intl.NumberFormat(undefined, { style: "currency", currency });
  const day = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" });
  const month = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", timeZone: "UTC" });
  const moment = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

  function isoDay(text) {
    return new Date(`${text}T00:00:00Z`);
  }

  const format = {
    number: (value) => (value === null || value === undefined ? "—" : wholeNumber.format(value)),
    ratio: (value) => (value === null || value === undefined ? "—" : ratio.format(value)),
    share: (value) => (value === null || value === undefined ? "—" : percent.format(value)),
    change: (value) => (value === null || value === undefined ? "—" : signedPercent.format(value)),
    money: (value) => (value === null || value === undefined ? "—" : money.format(value)),
    moneyCents: (value) => (value === null || value === undefined ? "—" : moneyCents.format(value)),
    day: (text) => (text ? day.format(isoDay(text)) : "—"),
    month: (text) => month.format(isoDay(text)),
    moment: (text) => moment.format(new Date(text)),
  };

  /** Fourteen colours, one per channel in the order of the channel list. Every pair differs
   * by CIEDE2000 ΔE ≥ 20, and by ≥ 10 as deuteranopes and protanopes see them; each stands
   * 3:1 against white (tests/dashboard/test_quality.py measures all three). */
  const CHANNEL_COLOURS = [
    "#642d68", "#c6005c", "#bb6eb3", "#09777f", "#1b91fe", "#605755", "#b57157",
    "#852cff", "#335123", "#64a181", "#0a54a8", "#94949b", "#80651b", "#8a9b0a",
  ];

  function text(element, value) {
    element.textContent = value;
    return element;
  }

  function cell(value, className) {
    const td = document.createElement("td");
    if (className) {
      td.className = className;
    }
    td.textContent = value;
    return td;
  }

  // Chromium leaves a control that Tab reaches in a table scrolling sideways (a phone) half
  // outside the table: bring all of it into view.
  document.addEventListener("focusin", (event) => {
    if (event.target.closest(".table-wrap") && !event.target.classList.contains("table-wrap")) {
      event.target.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
  });

  window.MarketingOp = { api, ApiError, query, format, CHANNEL_COLOURS, text, cell };
})();
