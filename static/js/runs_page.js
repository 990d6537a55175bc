// The runs page (/runs): a sortable, filterable table of every run (stored and live), with rename,
// notes, delete and export; ticking runs overlays their curves (runs_overlay.js). Each row has
// data-run-id="<id>", shows the id's first 8 characters and a checkbox for the overlay; a click
// elsewhere on the row opens the run on the dashboard. With owners (a token), each row names its
// run's owner and "only mine" keeps this browser's runs.

import { formatNumber, formatTime } from "./format.js";
import { installMyName } from "./my_name.js";
import { Overlay } from "./runs_overlay.js";
import { isEnded } from "./statuses.js";
import { loadTaskNames, taskLabel } from "./task_names.js";

const REFRESH_MS = 4000;

const state = {
  runs: null, // null until the list first comes
  trouble: "", // why the list could not be read (it is asked for again every few seconds)
  sort: { key: "created", descending: true },
  selected: [], // ids in the order they were ticked (fixes each run's colour)
};

const $ = (id) => document.getElementById(id);
// a server with an access token has owners (issue 31): an Owner column and the "only mine" filter
const OWNERS = $("runs-table").dataset.owners === "true";

function layersOf(run) {
  const hidden = run.config?.hidden ?? [];
  return hidden.length ? hidden.join(",") : "none";
}

/** The value a column sorts by. */
function sortValue(run, key) {
  switch (key) {
    case "layers": return (run.config?.hidden ?? []).reduce((a, b) => a * 10000 + b, 0);
    case "activation": case "optimizer": case "lr": case "batch_size": case "seed":
      return run.config?.[key];
    case "epochs": return run.config?.epochs;
    case "task": return taskLabel(run.task);
    default: return run[key];
  }
}

function compare(a, b) {
  const { key, descending } = state.sort;
  const x = sortValue(a, key);
  const y = sortValue(b, key);
  const missingX = x === null || x === undefined;
  const missingY = y === null || y === undefined;
  if (missingX || missingY) return missingX - missingY; // missing values last
  const order = typeof x === "string" ? x.localeCompare(y) : x - y;
  return descending ? -order : order;
}


function formatDuration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${Math.round(seconds - 60 * minutes)} s`;
}


function matchesFilters(run) {
  const task = $("filter-task").value;
  const status = $("filter-status").value;
  const text = $("filter-text").value.trim().toLowerCase();
  if (OWNERS && $("filter-mine").checked && !run.mine) return false;
  if (task && run.task !== task) return false;
  if (status && run.status !== status) return false;
  if (!text) return true;
  const haystack = [run.id, run.name, run.owner, run.notes, run.task, taskLabel(run.task), layersOf(run), run.config?.activation,
    run.config?.optimizer, lrText(run)].join(" ").toLowerCase();
  return haystack.includes(text);
}

export function dashboardUrl(run) {
  const params = new URLSearchParams({ run: run.id });
  if (run.task === "custom" && run.config?.expression) params.set("expression", run.config.expression);
  return `/fit/${encodeURIComponent(run.task)}?${params}`;
}

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function textInput(className, value, label, field, run) {
  const input = document.createElement("input");
  input.type = "text";
  input.className = className;
  input.value = value ?? "";
  input.setAttribute("aria-label", `${label} of run ${run.id.slice(0, 8)}`);
  input.addEventListener("change", () => saveMeta(run, { [field]: input.value }, input));
  input.readOnly = run.yours === false; // someone else's run (owners: only its owner renames it)
  return input;
}

async function saveMeta(run, fields, input) {
  const answer = await fetch(`/api/runs/${run.id}/meta`, {
    method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify(fields),
  });
  input.classList.toggle("invalid", !answer.ok);
  if (answer.ok) Object.assign(run, await answer.json());
}

function exportLinks(run) {
  const td = document.createElement("td");
  td.className = "exports";
  const links = [["CSV", "history?format=csv"], ["JSON", "history?format=json"],
    ["npz", "model?format=npz"], ["torch", "model?format=torch"]];
  for (const [label, path] of links) {
    const link = document.createElement("a");
    link.href = `/api/runs/${run.id}/${path}`;
    link.textContent = label;
    link.download = "";
    link.dataset.export = label.toLowerCase();
    link.title = label === "CSV" || label === "JSON" ? `history as ${label}` : `model as ${label}`;
    if (label === "npz" || label === "torch") link.addEventListener("click", (event) => exportModel(event, link, td));
    td.append(link);
  }
  return td;
}

/** The file name of a download, from its Content-Disposition. */
function fileName(disposition, fallback) {
  const match = /filename="?([^";]+)"?/.exec(disposition || "");
  return match ? match[1] : fallback;
}

/**
 * A model export fetched first: a run the format cannot carry (input features are expressions,
 * not layers) or that has no weights yet answers why, shown beside the links, instead of a
 * download that silently does nothing.
 */
async function exportModel(event, link, td) {
  event.preventDefault();
  td.querySelector(".export-note")?.remove();
  let answer;
  try {
    answer = await fetch(link.href);
  } catch (error) {
    answer = { ok: false, status: 0, json: async () => ({ error: error.message }) };
  }
  if (!answer.ok) {
    const body = await answer.json().catch(() => ({}));
    const why = body.errors ? Object.values(body.errors).join(" ") : body.error || `HTTP ${answer.status}`;
    const note = document.createElement("span");
    note.className = "export-note";
    note.setAttribute("role", "status");
    note.textContent = `${link.textContent}: ${why}`;
    td.append(note);
    link.setAttribute("aria-disabled", "true");
    link.title = why;
    return;
  }
  const url = URL.createObjectURL(await answer.blob());
  const save = document.createElement("a");
  save.href = url;
  save.download = fileName(answer.headers.get("Content-Disposition"), `${link.dataset.export}`);
  document.body.append(save);
  save.click();
  save.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function deleteButton(run) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "delete-run";
  button.textContent = "Delete";
  button.setAttribute("aria-label", `Delete run ${run.id.slice(0, 8)}`);
  if (run.yours === false) { // someone else's run: only its owner deletes it
    button.disabled = true;
    button.title = `Only ${run.owner} can delete this run`;
  }
  button.addEventListener("click", async () => {
    if (!window.confirm(`Delete run ${run.id.slice(0, 8)} and its stored data?`)) return;
    const answer = await fetch(`/api/runs/${run.id}`, { method: "DELETE" });
    if (answer.ok || answer.status === 404) {
      state.runs = state.runs.filter((known) => known.id !== run.id);
      state.selected = state.selected.filter((id) => id !== run.id);
      render();
      overlay.update(selectedRuns());
    }
  });
  return button;
}

function selectBox(run) {
  const box = document.createElement("input");
  box.type = "checkbox";
  box.className = "select-run";
  box.checked = state.selected.includes(run.id);
  box.setAttribute("aria-label", `Overlay run ${run.id.slice(0, 8)}`);
  box.addEventListener("change", () => {
    state.selected = box.checked ? [...state.selected, run.id]
      : state.selected.filter((id) => id !== run.id);
    render();
    overlay.update(selectedRuns());
  });
  return box;
}

/** The learning rate; one changed live shows its path, "0.05 → 0.2", every change in the title. */
function lrText(run) {
  const path = run.lr_changes ?? [];
  return path.length < 2 ? formatNumber(run.config?.lr, 3)
    : `${formatNumber(path[0].lr, 3)} → ${formatNumber(path.at(-1).lr, 3)}`;
}

function lrCell(tr, run) {
  const td = cell(tr, lrText(run), "num run-lr");
  const path = run.lr_changes ?? [];
  if (path.length < 2) return;
  td.dataset.changed = "true";
  td.title = ["learning rate changed live:", ...path.map((change) => (change.epoch
    ? `${formatNumber(change.lr, 3)} from epoch ${change.epoch + 1}`
    : `${formatNumber(change.lr, 3)} from the start`))].join("\n");
}

/** The seed; under it, for a run a sweep started, a link to that sweep's page. */
function seedCell(tr, run) {
  const td = cell(tr, run.config?.seed ?? "", "num run-seed");
  if (!run.sweep) return;
  const link = document.createElement("a");
  link.className = "run-sweep";
  link.href = `/sweeps/${encodeURIComponent(run.sweep)}`;
  link.textContent = "sweep";
  link.title = `from sweep ${run.sweep}`;
  td.append(link);
}

function row(run) {
  const tr = document.createElement("tr");
  tr.dataset.runId = run.id;
  tr.dataset.status = run.status;
  const select = tr.insertCell();
  select.append(selectBox(run));
  const colour = overlay.colourOf(run.id);
  if (colour) {
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = colour;
    select.append(swatch);
  }
  cell(tr, run.id.slice(0, 8), "run-id").title = run.id;
  tr.insertCell().append(textInput("run-name", run.name, "Name", "name", run));
  if (OWNERS) cell(tr, run.mine ? `${run.owner} (you)` : run.owner ?? "—", "run-owner");
  cell(tr, taskLabel(run.task), "run-task").title = run.task;
  const layers = cell(tr, "", "run-layers"); // wraps after a comma: 8 wide layers fit
  layersOf(run).split(",").forEach((size, i) => layers.append(...(i ? [",", document.createElement("wbr")] : []), size));
  cell(tr, run.config?.activation ?? "");
  cell(tr, run.config?.optimizer ?? "");
  lrCell(tr, run);
  cell(tr, run.config?.batch_size ?? "", "num");
  seedCell(tr, run);
  cell(tr, `${run.epoch}/${run.epochs}`, "num");
  const best = cell(tr, formatNumber(run.best_test_loss), "num best-test-loss");
  if (run.best_epoch) { // the best epoch, a marker under the loss
    const mark = document.createElement("span");
    mark.className = "best-epoch";
    mark.textContent = `epoch ${run.best_epoch}`;
    best.append(mark);
    best.title = `lowest test loss, at epoch ${run.best_epoch}`;
  }
  cell(tr, formatNumber(run.test_loss), "num");
  cell(tr, run.test_acc === undefined || run.test_acc === null ? "—"
    : `${(100 * run.test_acc).toFixed(1)} %`, "num");
  const warned = run.status === "finished" && (run.warnings ?? []).length > 0;
  // a run that finished but did not learn (the diagnosis warned) is not shown as a success
  const status = cell(tr, warned ? "finished ⚠" : run.status, "run-status");
  status.dataset.status = run.status;
  if (warned) status.dataset.warned = "true";
  const why = [run.reason, ...(warned ? run.warnings : [])].filter(Boolean);
  if (why.length) status.title = why.join("\n");
  cell(tr, formatTime(run.created), "run-started");
  cell(tr, formatDuration(run.elapsed), "num");
  tr.insertCell().append(textInput("run-notes", run.notes, "Notes", "notes", run));
  tr.append(exportLinks(run));
  tr.insertCell().append(deleteButton(run));
  labelCells(tr);
  tr.addEventListener("click", (event) => {
    if (event.target.closest("input, button, a, select, textarea")) return;
    window.location.href = dashboardUrl(run);
  });
  return tr;
}

/** Each cell names its column (data-label), which a narrow screen shows beside the value. */
function labelCells(tr) {
  // a header only for screen readers (Overlay, Delete) labels nothing a box or button does not say
  const heads = [...document.querySelectorAll("#runs-table thead th")]
    .map((th) => (th.querySelector(".sr-only") ? "" : th.textContent.trim()));
  [...tr.cells].forEach((td, k) => { if (heads[k]) td.dataset.label = heads[k]; });
}

/** The one row of an empty table: what is loading, or why nothing shows. */
function emptyRow(text) {
  const tr = document.createElement("tr");
  tr.className = "runs-empty";
  const td = tr.insertCell();
  td.colSpan = document.querySelectorAll("#runs-table thead th").length;
  td.textContent = text;
  return tr;
}

function render() {
  const runs = state.runs ?? [];
  const shown = runs.filter(matchesFilters).sort(compare);
  const body = $("runs-body");
  const empty = state.runs === null ? (state.trouble || "Loading the runs…")
    : runs.length ? "No run matches the filters." : "No runs yet: press Train on the dashboard.";
  body.replaceChildren(...(shown.length ? shown.map(row) : [emptyRow(empty)]));
  $("runs-count").textContent = state.trouble
    || (state.runs === null ? "" : `${shown.length} of ${runs.length} runs`);
  for (const th of document.querySelectorAll("th[data-sort]")) {
    const sorted = th.dataset.sort === state.sort.key;
    if (sorted) th.setAttribute("aria-sort", state.sort.descending ? "descending" : "ascending");
    else th.removeAttribute("aria-sort");
  }
}

function selectedRuns() {
  const byId = new Map((state.runs ?? []).map((run) => [run.id, run]));
  return state.selected.map((id) => byId.get(id)).filter(Boolean);
}

function fillTaskFilter() {
  const select = $("filter-task");
  const chosen = select.value;
  const tasks = [...new Set((state.runs ?? []).map((run) => run.task))].sort();
  select.replaceChildren(new Option("all tasks", ""),
    ...tasks.map((task) => new Option(taskLabel(task), task)));
  select.value = tasks.includes(chosen) ? chosen : "";
}

async function load() {
  const answer = await fetch("/api/runs?limit=5000").catch(() => null);
  const trouble = answer?.ok ? "" : `The runs could not be read (${answer ? `HTTP ${answer.status}`
    : "no answer"}): trying again every ${REFRESH_MS / 1000} s.`;
  if (trouble !== state.trouble) {
    state.trouble = trouble;
    render();
  }
  if (trouble) return;
  const runs = await answer.json();
  const editing = document.activeElement?.matches?.("tbody input[type=text]");
  const changed = JSON.stringify(runs) !== JSON.stringify(state.runs);
  state.runs = runs;
  const named = await loadTaskNames(runs.map((run) => run.task));
  if ((!changed && !named) || editing) return;
  fillTaskFilter();
  render();
  const unfinished = selectedRuns().some((run) => !isEnded(run.status));
  if (unfinished) overlay.update(selectedRuns(), { refetch: true });
}

const overlay = new Overlay($("overlay-loss"), $("overlay-acc"), $("overlay-acc-figure"),
  $("overlay-hint"));
for (const th of document.querySelectorAll("th[data-sort]")) {
  th.tabIndex = 0;
  const sortBy = () => {
    const key = th.dataset.sort;
    state.sort = { key, descending: state.sort.key === key ? !state.sort.descending : false };
    render();
  };
  th.addEventListener("click", sortBy);
  th.addEventListener("keydown", (event) => { if (event.key === "Enter") sortBy(); });
}
for (const id of ["filter-task", "filter-status", "filter-text", ...(OWNERS ? ["filter-mine"] : [])]) {
  $(id).addEventListener("input", render);
}
for (const radio of document.querySelectorAll("input[name=x-axis]")) {
  radio.addEventListener("change", () => overlay.setAxis(radio.value));
}
$("group-seeds").addEventListener("change", (event) => overlay.setGrouping(event.target.checked));
for (const button of document.querySelectorAll("button.png")) {
  button.addEventListener("click", () => overlay.downloadPng(button.dataset.chart));
}

render(); // "Loading the runs…"
await load();
render();
setInterval(load, REFRESH_MS);
installMyName(() => { state.runs = null; load(); });
