// The sweep page (/sweeps/<id>): the sweep's configs compared live. A table per config (the
// varied values, parameters, mean and min–max over seeds of the best test loss / accuracy,
// time), sortable, the best marked; best metric against parameters (one point per config, the
// seeds' range as error bars, coloured by depth); parallel coordinates of the varied values; the
// loss curves of every config with seed bands (the runs page's Overlay). Polls the sweep every
// second while it runs.

import { formatNumber } from "./format.js";
import { logAxis } from "./log_axis.js";
import { Overlay } from "./runs_overlay.js";
import { baseLayout, OKABE_ITO, palette, PLOT_CONFIG } from "./theme.js";

const $ = (id) => document.getElementById(id);
const sweepId = $("sweep-main").dataset.sweepId;
const POLL_MS = 1000;
const CURVES_MS = 2500; // the loss curves are refetched at most this often while runs train
const DEPTH_COLOURS = [OKABE_ITO.black, OKABE_ITO.blue, OKABE_ITO.orange, OKABE_ITO.green,
  OKABE_ITO.purple, OKABE_ITO.vermillion, OKABE_ITO.skyBlue, OKABE_ITO.yellow];
const ENDED = new Set((document.body.dataset.terminalStatuses || "").split(" "));

// `final`: the runs whose history was fetched after they ended (never fetched again)
// (the metric's order is chosen once the kind is known: best first, `renderTable`)
const state = { sweep: null, sort: { key: "metric", descending: null }, chosen: null, curvesAt: 0,
  final: new Set() };
const overlay = new Overlay($("overlay-loss"), $("overlay-acc"), $("overlay-acc-figure"),
  $("overlay-hint"));

/** Mean, min and max of the finite numbers in `values` (null without any). */
export function stats(values) {
  const finite = values.filter((v) => typeof v === "number" && Number.isFinite(v));
  if (!finite.length) return null;
  return { mean: finite.reduce((a, b) => a + b, 0) / finite.length, min: Math.min(...finite),
    max: Math.max(...finite), n: finite.length };
}

function valueText(value) {
  if (Array.isArray(value)) return value.length ? value.join("-") : "none";
  if (value === null || value === undefined) return "default";
  return typeof value === "number" ? formatNumber(value) : String(value);
}

/** The sweep's runs grouped by config (their varied values), in the sweep's order. */
export function configsOf(sweep) {
  const classification = sweep.runs.some((run) => "best_test_acc" in run);
  const byKey = new Map();
  for (const run of sweep.runs) {
    const key = JSON.stringify(run.values);
    if (!byKey.has(key)) {
      byKey.set(key, { key, values: run.values, params: run.params, runs: [],
        depth: (run.config?.hidden ?? []).length });
    }
    byKey.get(key).runs.push(run);
  }
  const configs = [...byKey.values()];
  for (const config of configs) {
    config.loss = stats(config.runs.map((run) => run.best_test_loss));
    config.acc = classification ? stats(config.runs.map((run) => run.best_test_acc)) : null;
    config.seconds = stats(config.runs.map((run) => run.seconds));
    config.ended = config.runs.filter((run) => ENDED.has(run.status)).length;
    config.metric = classification ? config.acc : config.loss;
  }
  return { configs, classification };
}

/** The config with the best mean metric (lowest loss, highest accuracy), or null. */
export function bestConfig(configs, classification) {
  const scored = configs.filter((config) => config.metric);
  if (!scored.length) return null;
  const sign = classification ? -1 : 1;
  return scored.reduce((a, b) => (sign * b.metric.mean < sign * a.metric.mean ? b : a));
}

function columns(sweep, classification) {
  const axes = Object.keys(sweep.config.vary).map((axis) => ({ key: `axis:${axis}`, label: axis }));
  const metric = classification ? "Best test accuracy" : "Best test loss";
  return [...axes, { key: "params", label: "Params" }, { key: "runs", label: "Runs ended" },
    { key: "metric", label: `${metric} (mean)` }, { key: "range", label: "min–max" },
    ...(classification ? [{ key: "loss", label: "Best test loss (mean)" }] : []),
    { key: "seconds", label: "Time (s, mean)" }];
}

function sortValue(config, key) {
  if (key.startsWith("axis:")) {
    const value = config.values[key.slice(5)];
    return Array.isArray(value) ? value.reduce((a, b) => a * 1000 + b, value.length) : value;
  }
  if (key === "metric" || key === "range") return config.metric?.mean;
  if (key === "loss") return config.loss?.mean;
  if (key === "seconds") return config.seconds?.mean;
  if (key === "runs") return config.ended;
  return config[key];
}

function sorted(configs) {
  const { key, descending } = state.sort;
  return [...configs].sort((a, b) => {
    const x = sortValue(a, key), y = sortValue(b, key);
    if (x === undefined || x === null) return 1;
    if (y === undefined || y === null) return -1;
    const order = x < y ? -1 : x > y ? 1 : 0;
    return descending ? -order : order;
  });
}

function cellText(config, key) {
  if (key.startsWith("axis:")) return valueText(config.values[key.slice(5)]);
  if (key === "params") return String(config.params);
  if (key === "runs") {
    const cancelled = config.runs.filter((run) => run.status === "cancelled").length;
    return `${config.ended}/${config.runs.length}` + (cancelled ? ` (${cancelled} cancelled)` : "");
  }
  if (key === "metric") return config.metric ? formatNumber(config.metric.mean) : "–";
  if (key === "range") {
    return config.metric ? `${formatNumber(config.metric.min)}–${formatNumber(config.metric.max)}` : "–";
  }
  if (key === "loss") return config.loss ? formatNumber(config.loss.mean) : "–";
  if (key === "seconds") return config.seconds ? config.seconds.mean.toFixed(2) : "–";
  return "";
}

function renderHead(cols) {
  const head = $("sweep-head");
  if (head.dataset.built === "yes") return;
  head.dataset.built = "yes";
  for (const col of cols) {
    const th = document.createElement("th");
    th.scope = "col";
    th.dataset.sort = col.key;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "sort-button";
    button.textContent = col.label;
    button.addEventListener("click", () => {
      const same = state.sort.key === col.key;
      state.sort = { key: col.key, descending: same ? !state.sort.descending : false };
      render();
    });
    th.append(button);
    head.append(th);
  }
}

function renderTable(configs, classification) {
  if (state.sort.descending === null) state.sort.descending = classification; // best first
  const cols = columns(state.sweep, classification);
  renderHead(cols);
  for (const th of $("sweep-head").children) {
    if (th.dataset.sort === state.sort.key) {
      th.setAttribute("aria-sort", state.sort.descending ? "descending" : "ascending");
    } else th.removeAttribute("aria-sort");
  }
  const best = bestConfig(configs, classification);
  const body = $("sweep-body");
  body.replaceChildren();
  for (const config of sorted(configs)) {
    const tr = document.createElement("tr");
    tr.dataset.config = config.key;
    tr.tabIndex = 0;
    tr.setAttribute("aria-selected", String(state.chosen === config.key));
    if (config === best) tr.classList.add("best");
    for (const col of cols) {
      const td = document.createElement("td");
      td.textContent = cellText(config, col.key);
      if (!col.key.startsWith("axis:")) td.className = "num";
      tr.append(td);
    }
    const choose = () => { state.chosen = config.key; render(); };
    tr.addEventListener("click", choose);
    tr.addEventListener("keydown", (event) => { if (event.key === "Enter") choose(); });
    body.append(tr);
  }
}

function runUrl(run) {
  const params = new URLSearchParams({ run: run.id });
  if (run.config?.expression) params.set("expression", run.config.expression);
  return `/fit/${encodeURIComponent(run.config?.task ?? "sin")}?${params}`;
}

function renderRuns(configs) {
  const config = configs.find((entry) => entry.key === state.chosen);
  $("sweep-runs").hidden = !config;
  if (!config) return;
  const axes = Object.entries(config.values).map(([axis, value]) => `${axis} ${valueText(value)}`);
  $("sweep-runs-heading").textContent = `Runs of ${axes.join(", ")}`;
  const list = $("sweep-runs-list");
  list.replaceChildren();
  for (const run of config.runs) {
    const item = document.createElement("li");
    const metric = run.best_test_acc ?? run.best_test_loss;
    const status = run.id ? run.status
      : run.status === "cancelled" ? "cancelled, never started" : "not started yet";
    const text = ` seed ${run.seed}: ${status}${run.reason ? ` (${run.reason})` : ""}`
      + (metric !== null && metric !== undefined ? `, best ${formatNumber(metric)}` : "");
    if (run.id) {
      const link = document.createElement("a");
      link.href = runUrl(run);
      link.className = "run-id";
      link.textContent = run.id.slice(0, 8);
      item.append(link);
    }
    item.append(run.id ? text : text.trimStart());
    list.append(item);
  }
}

function depthLabel(depth) {
  return depth === 1 ? "1 hidden layer" : `${depth} hidden layers`;
}

/** The parameters chart's traces: one per depth, one point per config with a seed range. */
export function paramsTraces(configs) {
  const byDepth = new Map();
  for (const config of configs.filter((entry) => entry.metric)) {
    if (!byDepth.has(config.depth)) byDepth.set(config.depth, []);
    byDepth.get(config.depth).push(config);
  }
  return [...byDepth.entries()].sort((a, b) => a[0] - b[0]).map(([depth, group]) => ({
    type: "scatter", mode: "markers", name: depthLabel(depth),
    x: group.map((config) => config.params), y: group.map((config) => config.metric.mean),
    text: group.map((config) => Object.entries(config.values)
      .map(([axis, value]) => `${axis} ${valueText(value)}`).join(", ")),
    error_y: { type: "data", symmetric: false, visible: true,
      array: group.map((config) => config.metric.max - config.metric.mean),
      arrayminus: group.map((config) => config.metric.mean - config.metric.min) },
    marker: { size: 9, color: DEPTH_COLOURS[depth % DEPTH_COLOURS.length], symbol: depth % 6 },
  }));
}

function renderParams(configs, classification) {
  const p = palette();
  const metric = classification ? "best test accuracy" : "best test loss";
  // the captions name the metric the charts plot
  document.querySelectorAll(".sweep-metric").forEach((span, k) => {
    span.textContent = k === 0 ? metric[0].toUpperCase() + metric.slice(1) : metric;
  });
  const layout = { ...baseLayout(p, { xTitle: "parameters", yTitle: metric }), uirevision: "params" };
  const traces = paramsTraces(configs);
  // whole decades only, as on every log axis of the app (Plotly's own labelled 2 3 4 … 100 2 3)
  const decades = (values) => ({ type: "log", exponentformat: "power", ...logAxis(values) });
  layout.xaxis = { ...layout.xaxis, ...decades(traces.flatMap((trace) => trace.x)) };
  if (!classification) {
    const ends = traces.flatMap((trace) => trace.y.flatMap((y, i) => [y + trace.error_y.array[i],
      y - trace.error_y.arrayminus[i]]));
    layout.yaxis = { ...layout.yaxis, ...decades(ends) };
  }
  window.Plotly.react($("sweep-params"), traces, layout, PLOT_CONFIG);
}

function dimension(axis, configs) {
  const values = configs.map((config) => config.values[axis]);
  if (values.every((value) => typeof value === "number")) {
    return { label: axis, values, tickformat: "~g" };
  }
  const texts = values.map(valueText);
  const distinct = [...new Set(texts)];
  return { label: axis, values: texts.map((text) => distinct.indexOf(text)),
    tickvals: distinct.map((_, i) => i), ticktext: distinct };
}

function renderParallel(configs, classification) {
  const scored = configs.filter((config) => config.metric);
  const p = palette();
  const metric = classification ? "best test acc." : "best test loss";
  const dimensions = [...Object.keys(state.sweep.config.vary).map((axis) => dimension(axis, scored)),
    { label: metric, values: scored.map((config) => config.metric.mean), tickformat: ".3~g" }];
  const trace = { type: "parcoords", dimensions,
    line: { color: scored.map((config) => config.metric.mean), colorscale: "Viridis",
      reversescale: !classification, showscale: true } };
  const layout = { ...baseLayout(p), margin: { l: 60, r: 40, t: 40, b: 20 }, uirevision: "parallel" };
  window.Plotly.react($("sweep-parallel"), scored.length ? [trace] : [], layout, PLOT_CONFIG);
}

function renderCurves(sweep) {
  const now = Date.now();
  const running = sweep.runs.some((run) => run.id && !ENDED.has(run.status));
  if (now - state.curvesAt < CURVES_MS && running) return;
  state.curvesAt = now;
  const started = sweep.runs.filter((run) => run.id && run.epoch > 0).map((run) => ({
    ...run, task: run.config.task,
    name: Object.entries(run.values).map(([axis, value]) => `${axis} ${valueText(value)}`).join(", "),
  }));
  // a history fetched while its run trained is refetched, until one fetched after its end
  for (const run of started) {
    if (state.final.has(run.id)) continue;
    overlay.histories.delete(run.id);
    if (ENDED.has(run.status)) state.final.add(run.id);
  }
  overlay.update(started);
}

function render() {
  const sweep = state.sweep;
  const { configs, classification } = configsOf(sweep);
  const counts = sweep.counts;
  // runs a stop cancelled never started: named apart, not counted as ended
  $("sweep-status").textContent = `${sweep.status}: ${counts.ended} of ${sweep.total} runs ended, `
    + `${counts.running} running, ${counts.waiting} waiting`
    + (counts.cancelled ? `, ${counts.cancelled} cancelled (not started)` : "");
  $("sweep-stop").disabled = sweep.status !== "running";
  renderTable(configs, classification);
  renderRuns(configs);
  renderParams(configs, classification);
  renderParallel(configs, classification);
}

async function poll() {
  const answer = await fetch(`/api/sweeps/${encodeURIComponent(sweepId)}`);
  if (answer.ok) {
    state.sweep = await answer.json();
    render();
    renderCurves(state.sweep);
    document.dispatchEvent(new CustomEvent("sweep-drawn"));
  }
  if (!answer.ok || state.sweep.status === "running") setTimeout(poll, POLL_MS);
}

$("sweep-stop").addEventListener("click", async () => {
  await fetch(`/api/sweeps/${encodeURIComponent(sweepId)}/stop`, { method: "POST" });
  poll();
});

window.addEventListener("load", poll);
