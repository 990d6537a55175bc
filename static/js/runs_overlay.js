// The runs page's overlay: the loss and accuracy curves of the ticked runs, in fixed colour-blind
// safe colours (Okabe-Ito, in the order the runs were ticked), x by epoch or by training time.
// Runs whose configs differ only by seed form one group: one line for the mean and a band from
// the min to the max of the group at each epoch.

import { formatNumber } from "./format.js";
import { logAxis } from "./log_axis.js";
import { taskLabel } from "./task_names.js";
import { palette } from "./theme.js";

const COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442",
  "#999999"];

/** True for a classification run (its kind, accuracy columns or cross-entropy loss say so). */
function classifies(run, history) {
  return run.kind === "classification" || run.task_kind === "classification"
    || run.test_acc !== undefined || run.best_test_acc !== undefined
    || Boolean(history && "test_acc" in history) || run.config?.loss === "cross_entropy";
}

/**
 * The config without its seed and what a run derives by itself, as a stable string: runs with
 * equal keys differ only by seed. A classification run's domain is derived from its own points
 * (the grid box around them, so it differs by seed) and only frames the plot: not a difference.
 */
export function seedlessKey(run, history) {
  const config = { ...run.config, task: run.task, lr: changedPath(run, "lr") ?? run.config?.lr };
  delete config.seed;
  if (classifies(run, history)) delete config.domain;
  const sorted = Object.keys(config).sort().map((key) => [key, config[key]]);
  return JSON.stringify(sorted);
}

/**
 * A seed group's x on the training-time axis: its runs' mean seconds per epoch, added up epoch
 * by epoch (a run that has ended stops counting). Never runs backwards, unlike the mean time of
 * the runs present at each epoch, which jumps back where a slower run ends.
 */
export function groupSeconds(columns) {
  const length = Math.max(0, ...columns.map((column) => column.length));
  const x = [];
  let total = 0;
  for (let i = 0; i < length; i += 1) {
    const steps = columns.filter((column) => i < column.length && Number.isFinite(column[i]))
      .map((column) => column[i] - (i > 0 && Number.isFinite(column[i - 1]) ? column[i - 1] : 0));
    if (steps.length) total += Math.max(0, steps.reduce((a, b) => a + b, 0) / steps.length);
    x.push(total);
  }
  return x;
}

export const TIME_NOTE = "Training time of a seed group: its runs' mean seconds per epoch, added "
  + "up epoch by epoch (a run that ended early stops counting).";

function rgba(hex, alpha) {
  const value = parseInt(hex.slice(1), 16);
  return `rgba(${value >> 16}, ${(value >> 8) & 255}, ${value & 255}, ${alpha})`;
}

/** Mean, min and max over `columns` (arrays of possibly different lengths; nulls skipped). */
function spread(columns) {
  const length = Math.max(...columns.map((column) => column.length));
  const mean = [], low = [], high = [];
  for (let i = 0; i < length; i += 1) {
    const values = columns.map((column) => column[i]).filter((v) => v !== null && v !== undefined);
    if (!values.length) { mean.push(null); low.push(null); high.push(null); continue; }
    mean.push(values.reduce((a, b) => a + b, 0) / values.length);
    low.push(Math.min(...values));
    high.push(Math.max(...values));
  }
  return { mean, low, high };
}

/** What a legend says of a config value: numbers and words as they are, lists joined. */
function shown(value) {
  if (Array.isArray(value)) return `[${value.join(",")}]`;
  if (value && typeof value === "object") return value.name ?? JSON.stringify(value);
  return String(value);
}

/** A learning rate changed live as a legend tells it, its path "0.05→0.2" (the config holds the
 * last one only); null for any other field or a rate never changed. */
function changedPath(run, name) {
  const path = name === "lr" ? run.lr_changes ?? [] : [];
  if (path.length < 2) return null;
  return `${formatNumber(path[0].lr, 3)}→${formatNumber(path.at(-1).lr, 3)}`;
}

/**
 * The config fields (the seed, the layers and what a run derives by itself aside) whose values
 * differ between `runs` (one per drawn line), in the configs' own order: a legend names them, so
 * two lines of the same task and layers say what tells them apart ("lr 0.01" / "lr 0.1").
 */
export function differingFields(runs) {
  if (runs.length < 2) return ["task", "hidden"]; // one line: say what it is
  const names = [...new Set(runs.flatMap((run) => Object.keys(run.config ?? {})))];
  // not what a run learns: the seed (grouped), the layers (in the label), the plotted box and
  // the pace it was shown at (epochs_per_second: Auto, full speed or a rate)
  const differs = (value) => new Set(runs.map(value)).size > 1;
  return [
    ...(differs((run) => run.task) ? ["task"] : []),
    ...(differs((run) => JSON.stringify(run.config?.hidden ?? [])) ? ["hidden"] : []),
    ...names.filter((name) => !["seed", "hidden", "domain", "epochs_per_second"].includes(name)
      && differs((run) => changedPath(run, name) ?? JSON.stringify(run.config?.[name] ?? null))),
  ];
}

/**
 * A line's legend name: the run's name, else its short id and what tells it apart from the other
 * lines — the task and the layers when they differ (`fields` then holds "task" / "hidden"), then
 * the differing config fields.
 */
function label(run, fields = []) {
  if (run.name) return run.name;
  const parts = [run.id.slice(0, 8)];
  if (fields.includes("task")) parts.push(taskLabel(run.task));
  if (fields.includes("hidden")) parts.push(`[${(run.config?.hidden ?? []).join(",")}]`);
  for (const name of fields.filter((field) => field !== "task" && field !== "hidden")) {
    parts.push(`${name} ${changedPath(run, name) ?? shown(run.config?.[name])}`);
  }
  return parts.join(" ");
}

/** "3 seeds" when a group's runs differ by seed; "2 runs, 1 seed" when some repeat a seed. */
export function groupSize(runs) {
  const seeds = new Set(runs.map((run) => run.config?.seed)).size;
  if (seeds === runs.length) return `${seeds} seeds`;
  return `${runs.length} runs, ${seeds} seed${seeds === 1 ? "" : "s"}`;
}

export class Overlay {
  constructor(lossEl, accEl, accFigure, hintEl) {
    this.lossEl = lossEl;
    this.accEl = accEl;
    this.accFigure = accFigure;
    this.hintEl = hintEl;
    this.axis = "epoch";
    this.grouping = true;
    this.histories = new Map(); // run id -> history JSON
    this.runs = [];
    this.colours = new Map(); // run id -> colour (a group takes its first run's)
    this.lines = [];
    this.differing = []; // the config fields the legend names (`differingFields`)
    // The charts follow their boxes, not only the window: showing the accuracy chart halves the
    // loss chart's box, and a chart drawn before its page's layout settles (the sweep page's)
    // would keep that first width; Plotly's own resize (on window resizes) sees neither.
    if (typeof ResizeObserver === "undefined") return; // (node tests)
    for (const chart of [lossEl, accEl]) {
      new ResizeObserver(() => {
        if (chart.data && chart.offsetParent !== null) window.Plotly.Plots.resize(chart);
      }).observe(chart);
    }
  }

  colourOf(runId) {
    const line = this.lines.find((entry) => entry.runs.some((run) => run.id === runId));
    return line ? line.colour : null;
  }

  setAxis(axis) { this.axis = axis; this.draw(); }

  setGrouping(on) { this.grouping = on; this.draw(); }

  async update(runs, { refetch = false } = {}) {
    this.runs = runs;
    await Promise.all(runs.map(async (run) => {
      if (this.histories.has(run.id) && !refetch) return;
      const answer = await fetch(`/api/runs/${run.id}/history?format=json`);
      if (answer.ok) this.histories.set(run.id, await answer.json());
    }));
    this.draw();
    document.dispatchEvent(new CustomEvent("overlay-drawn"));
  }

  /**
   * Each ticked run keeps the colour it got when first drawn (the first one no other ticked run
   * has), whatever the grouping or the x axis; a group is drawn in the colour of its first run.
   * Only the drawn lines' first runs take colours (`drawn`), so that seed groups use distinct
   * colours before any repeats.
   */
  assignColours(drawn = this.runs) {
    const keep = new Set(drawn.map((run) => run.id));
    for (const id of [...this.colours.keys()]) if (!keep.has(id)) this.colours.delete(id);
    const used = new Set(this.colours.values());
    for (const run of drawn) {
      if (this.colours.has(run.id)) continue;
      const colour = COLOURS.find((c) => !used.has(c)) ?? COLOURS[this.colours.size % COLOURS.length];
      this.colours.set(run.id, colour);
      used.add(colour);
    }
  }

  /** Lines: one per run, or one per seed group (with its runs). Colours follow the first tick. */
  groupLines() {
    const lines = [];
    const byKey = new Map();
    for (const run of this.runs) {
      if (!this.histories.has(run.id)) continue;
      const key = this.grouping ? seedlessKey(run, this.histories.get(run.id)) : run.id;
      if (!byKey.has(key)) {
        const line = { key, runs: [] };
        byKey.set(key, line);
        lines.push(line);
      }
      byKey.get(key).runs.push(run);
    }
    this.assignColours(lines.map((line) => line.runs[0]));
    for (const line of lines) line.colour = this.colours.get(line.runs[0].id);
    return lines;
  }

  traces(line, column, dash) {
    const histories = line.runs.map((run) => this.histories.get(run.id));
    if (!histories.every((history) => column in history)) return [];
    const xs = histories.map((history) => (this.axis === "epoch" ? history.epoch : history.seconds));
    const first = label(line.runs[0], this.differing);
    const name = line.runs.length > 1 ? `${first} (${groupSize(line.runs)})` : first;
    // one legend entry a line: the test loss's; the dotted train loss goes with it
    const base = { type: "scatter", mode: "lines", line: { color: line.colour, width: 2, dash },
      legendgroup: line.key, name, meta: { group: line.key, column, runs: line.runs.length },
      ...(dash === "solid" ? {} : { showlegend: false }) };
    if (line.runs.length === 1) return [{ ...base, x: xs[0], y: histories[0][column] }];
    const { mean, low, high } = spread(histories.map((history) => history[column]));
    const longest = xs.reduce((a, b) => (b.length > a.length ? b : a));
    const x = this.axis === "epoch" ? longest : groupSeconds(xs); // monotonic: see TIME_NOTE
    if (dash !== "solid") return [{ ...base, x, y: mean, showlegend: false }];
    const band = { type: "scatter", mode: "lines", x, line: { width: 0, color: line.colour },
      hoverinfo: "skip", showlegend: false, legendgroup: line.key };
    return [
      { ...band, y: low, meta: { group: line.key, column, kind: "band-low" } },
      { ...band, y: high, fill: "tonexty", fillcolor: rgba(line.colour, 0.2),
        meta: { group: line.key, column, kind: "band", runs: line.runs.length } },
      { ...base, x, y: mean },
    ];
  }

  layout(title, logScale, traces = []) {
    const colours = palette();
    return {
      margin: { l: 56, r: 10, t: 10, b: 44 },
      paper_bgcolor: colours.panel, plot_bgcolor: colours.panel, font: { color: colours.fg },
      xaxis: { title: { text: this.axis === "epoch" ? "epoch" : "training time (s)", standoff: 6 },
        automargin: true },
      // on a log axis only whole decades are labelled (as on the dashboard), two at least
      yaxis: { title: { text: title }, type: logScale ? "log" : "linear",
        ...(logScale ? { dtick: 1, exponentformat: "power",
          ...logAxis(traces.flatMap((trace) => trace.y ?? [])) } : {}) },
      // above the plot (it pushes the top margin as it wraps): never over the x axis's title
      legend: { orientation: "h", x: 0, xanchor: "left", y: 1.02, yanchor: "bottom" },
      uirevision: this.axis,
    };
  }

  draw() {
    this.lines = this.groupLines();
    this.differing = differingFields(this.lines.map((line) => line.runs[0]));
    const loss = this.lines.flatMap((line) => [...this.traces(line, "test_loss", "solid"),
      ...this.traces(line, "train_loss", "dot")]);
    const accuracy = this.lines.flatMap((line) => this.traces(line, "test_acc", "solid"));
    this.hintEl.hidden = this.runs.length > 0;
    const grouped = this.axis !== "epoch" && this.lines.some((line) => line.runs.length > 1);
    for (const note of document.querySelectorAll(".axis-note")) {
      note.textContent = grouped ? TIME_NOTE : "";
      note.hidden = !grouped;
    }
    const config = (el) => ({ responsive: true, toImageButtonOptions: { filename: el.id } });
    window.Plotly.react(this.lossEl, loss, this.layout("loss (test solid, train dotted)", true, loss),
      config(this.lossEl));
    this.accFigure.hidden = accuracy.length === 0;
    window.Plotly.react(this.accEl, accuracy, this.layout("accuracy", false), config(this.accEl));
    for (const box of document.querySelectorAll("tr[data-run-id] .swatch")) box.remove();
    for (const tr of document.querySelectorAll("tr[data-run-id]")) {
      const colour = this.colourOf(tr.dataset.runId);
      if (!colour) continue;
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = colour;
      tr.cells[0].append(swatch);
    }
  }

  downloadPng(chartId) {
    window.Plotly.downloadImage(document.getElementById(chartId),
      { format: "png", filename: chartId, width: 1000, height: 500 });
  }
}
