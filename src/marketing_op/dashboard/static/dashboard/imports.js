/* The imports page: upload a measurement file to the import API (picked or dropped), show
 * its summary or the rejected rows, and the history of imports. */
"use strict";

(function () {
  const { api, query, format, text, cell } = window.MarketingOp;
  const $ = (selector) => document.querySelector(selector);
  const HISTORY_PAGE_SIZE = 20;
  const shown = { result: null, rejected: null, history: null };
  window.MarketingOp.imports = shown;

  let chosen = null;
  let historyOffset = 0;

  function choose(file) {
    chosen = file || null;
    text($("#chosen-file"), chosen ? `Chosen: ${chosen.name} (${format.number(chosen.size)} bytes)` : "No file chosen.");
    $("#upload-button").disabled = !chosen;
  }

  /** A file name that fits in a header (ASCII, no quotes). */
  function headerName(name) {
    return name.replace(/[^\x20-\x7e]/g, "_").replace(/["\\]/g, "_").slice(0, 200);
  }

  function summaryList(pairs) {
    const list = document.createElement("dl");
    list.className = "summary";
    for (const [term, value] of pairs) {
      const dt = document.createElement("dt");
      dt.textContent = term;
      const dd = document.createElement("dd");
      dd.textContent = value;
      list.append(dt, dd);
    }
    return list;
  }

  function showAccepted(summary) {
    shown.result = summary;
    shown.rejected = null;
    const heading = document.createElement("h3");
    heading.textContent = summary.replayed ? "Already imported: nothing changed." : "Imported.";
    $("#upload-result").replaceChildren(
      heading,
      summaryList([
        ["Rows", format.number(summary.rows)],
        ["Inserted", format.number(summary.inserted)],
        ["Updated", format.number(summary.updated)],
        ["Unchanged", format.number(summary.unchanged)],
        ["Deleted", format.number(summary.deleted)],
        ["Dates", summary.first_date ? `${format.day(summary.first_date)} to ${format.day(summary.last_date)}` : "—"],
        ["SHA-256", summary.sha256],
      ]),
    );
  }

  function showRejected(answer) {
    shown.result = null;
    shown.rejected = answer;
    const heading = document.createElement("h3");
    heading.className = "message error";
    heading.textContent = "Rejected: nothing was imported.";
    const parts = [heading];
    if (!Array.isArray(answer.errors) || !answer.errors.length) {
      const detail = document.createElement("p");
      detail.textContent = answer.detail;
      parts.push(detail);
    } else {
      const table = document.createElement("table");
      table.id = "rejected-rows";
      const caption = document.createElement("caption");
      caption.textContent = answer.error_count > answer.errors.length
        ? `The first ${format.number(answer.errors.length)} of ${format.number(answer.error_count)} problems`
        : `${format.number(answer.error_count)} problem${answer.error_count === 1 ? "" : "s"}`;
      const head = document.createElement("thead");
      const headRow = document.createElement("tr");
      for (const title of ["Line", "Column", "Value", "Problem"]) {
        const th = document.createElement("th");
        th.scope = "col";
        th.textContent = title;
        headRow.append(th);
      }
      head.append(headRow);
      const body = document.createElement("tbody");
      for (const problem of answer.errors) {
        const tr = document.createElement("tr");
        tr.append(cell(String(problem.line), "number"), cell(problem.column), cell(problem.value), cell(problem.message));
        body.append(tr);
      }
      table.append(caption, head, body);
      const wrap = document.createElement("div");
      wrap.className = "table-wrap";
      wrap.setAttribute("role", "region");
      wrap.setAttribute("aria-label", "Rejected rows");
      wrap.tabIndex = 0;
      wrap.append(table);
      parts.push(wrap);
    }
    $("#upload-result").replaceChildren(...parts);
  }

  async function upload(event) {
    event.preventDefault();
    if (!chosen) {
      return;
    }
    const gzip = /\.gz$/i.test(chosen.name);
    const replace = $("#upload-replace").checked;
    $("#upload-button").disabled = true;
    document.body.dataset.state = "uploading";
    text($("#upload-result"), `Importing ${chosen.name}…`);
    try {
      const answer = await api(`/api/marketing/measurements/${replace ? "?replace=true" : ""}`, {
        method: "POST",
        headers: {
          "Content-Type": gzip ? "application/gzip" : "text/csv",
          "Content-Disposition": `attachment; filename="${headerName(chosen.name)}"`,
        },
        body: chosen,
      });
      showAccepted(answer.data);
    } catch (error) {
      if (error.status === 422 && error.answer && Array.isArray(error.answer.errors)) {
        showRejected(error.answer);
      } else {
        shown.result = null;
        shown.rejected = { detail: error.message };
        const message = document.createElement("p");
        message.className = "message error";
        message.textContent = `The file was not imported: ${error.message}`;
        $("#upload-result").replaceChildren(message);
      }
    } finally {
      $("#upload-button").disabled = !chosen;
      historyOffset = 0;
      await loadHistory();
      document.body.dataset.state = "ready";
    }
  }

  async function loadHistory() {
    try {
      const answer = await api(`/api/marketing/imports/?${query({ offset: historyOffset, page_size: HISTORY_PAGE_SIZE })}`);
      shown.history = answer;
      const table = $("#history-table");
      table.querySelector("tbody").replaceChildren(
        ...answer.data.map((record) => {
          const tr = document.createElement("tr");
          const hash = document.createElement("td");
          const code = document.createElement("code");
          code.className = "hash";
          code.textContent = record.sha256;
          hash.append(code);
          tr.append(
            cell(format.moment(record.created_at)),
            cell(record.file_name || "(no name)"),
            cell(record.uploaded_by),
            cell(record.status),
            cell(format.number(record.rows), "number"),
            cell(format.number(record.inserted), "number"),
            cell(format.number(record.updated), "number"),
            cell(format.number(record.unchanged), "number"),
            cell(format.number(record.deleted), "number"),
            hash,
          );
          return tr;
        }),
      );
      const total = answer.meta.total;
      table.hidden = total === 0;
      text($("#history-message"), total === 0 ? "No imports yet." : "");
      $("#history-message").hidden = total !== 0;
      text(
        $("#history-position"),
        total === 0 ? "" : `${format.number(historyOffset + 1)} to ${format.number(historyOffset + answer.data.length)} of ${format.number(total)}`,
      );
      $("#history-newer").disabled = historyOffset === 0;
      $("#history-older").disabled = historyOffset + answer.data.length >= total;
    } catch (error) {
      const message = $("#history-message");
      message.hidden = false;
      message.classList.add("error");
      text(message, `The import history could not be loaded: ${error.message}`);
    }
  }

  const zone = $("#drop-zone");
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) {
      $("#upload-file").value = "";
      choose(file);
    }
  });
  $("#upload-file").addEventListener("change", (event) => choose(event.target.files[0]));
  $("#upload-form").addEventListener("submit", upload);
  $("#history-newer").addEventListener("click", () => {
    historyOffset = Math.max(0, historyOffset - HISTORY_PAGE_SIZE);
    loadHistory();
  });
  $("#history-older").addEventListener("click", () => {
    historyOffset += HISTORY_PAGE_SIZE;
    loadHistory();
  });
  loadHistory().then(() => {
    document.body.dataset.state = "ready";
  });
})();
