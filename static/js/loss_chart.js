// Loss chart: train and test loss per epoch, raw curves drawn faintly behind their debiased-EMA
// smoothed versions (by epoch distance: the same curve whatever the snapshot's thinning), log-scale toggle, and the learning rate per epoch as a step line on a right
// axis (so a schedule and every live change of lr show). Appending, throttling and redrawing are
// AppendingChart's; the whole chart is also redrawn when the smoothing weight, the scale or the
// loss changes. On a log axis only decades are labelled: the range is widened to whole decades.
// A live change of batch size, L1, weight decay or momentum (history columns of the same names)
// is marked where it took effect: a dotted vertical line labelled "batch 32 → 8".

import { AppendingChart } from "./appending_chart.js";
import { decadeRange, decadeStep, logAxis } from "./log_axis.js";
import { DebiasedEma } from "./smoothing.js";
import { baseLayout, palette } from "./theme.js";

const Plotly = window.Plotly;
// Trace order: raw train, raw test, smoothed train, smoothed test, learning rate, and the
// overfitting gap's two edges (smoothed train, then smoothed test filled down to it), empty
// until the diagnosis says the run overfits: all of them grow by appends.
const TRACES = [0, 1, 2, 3, 4, 5, 6];
// History columns a run can be steered by (besides lr, which has its own line) and their labels.
const STEERED = [["batch_size", "batch"], ["l1", "L1"], ["weight_decay", "weight decay"],
  ["momentum", "momentum"]];
const LABELLED_CHANGES = 6; // only the newest changes carry a label (lines mark every one)

function short(value) {
  return Number.isInteger(value) ? String(value) : Number(value).toPrecision(3).replace(/\.?0+(e|$)/, "$1");
}

/**
 * The live changes in the last `added` rows of a history chunk: [{epoch, text}], given (and
 * updating) `last`, the latest value seen of each steered column.
 */
export function steeredChanges(history, added, last) {
  const changes = [];
  const { epoch } = history;
  for (const [column, label] of STEERED) {
    const values = history[column];
    if (!Array.isArray(values) || values.length !== epoch.length) continue;
    for (let i = values.length - added; i < values.length; i += 1) {
      const value = values[i];
      if (!Number.isFinite(value)) continue;
      const before = last[column];
      if (before !== undefined && value !== before) {
        changes.push({ epoch: epoch[i], text: `${label} ${short(before)} → ${short(value)}` });
      }
      last[column] = value;
    }
  }
  return changes.sort((a, b) => a.epoch - b.epoch);
}

export { decadeRange, decadeStep }; // (log_axis.js: one home for the log axes' ticks)

export class LossChart extends AppendingChart {
  constructor(element, { smoothing = 0.6, logScale = false } = {}) {
    super(element, {
      traces: TRACES,
      placeholder: "Train a network to see its loss here",
      placeholderYAxis: { type: "linear", range: [0, 1] },
    });
    this.weight = smoothing;
    this.logScale = logScale;
    this.lossName = "MSE";
  }

  /** Also keeps the learning rate of each new epoch (history column `lr`, when the run has it). */
  append(history) {
    const before = this.history.epoch.length;
    super.append(history);
    const added = this.history.epoch.length - before;
    if (!added) return;
    const changes = steeredChanges(history, added, this.steered);
    if (changes.length) {
      this.changes.push(...changes);
      this.needsFull = true; // markers are part of the layout
    }
    const column = history && Array.isArray(history.lr) && history.lr.length === history.epoch.length
      ? history.lr.slice(-added) : new Array(added).fill(null);
    for (const value of column) {
      const lr = Number.isFinite(value) && value > 0 ? value : null;
      this.lr.push(lr);
      this.lrPending.push(lr);
      if (lr !== null && !this.hasLr) {
        this.hasLr = true;
        this.needsFull = true; // the lr axis appears
      }
    }
  }

  /**
   * The run's best epoch (lowest test loss) and, when the diagnosis says the run overfits, the
   * epoch it began (fields `best_epoch` and `findings` of a snapshot, frame or done).
   */
  setMarks({ best_epoch: best, findings } = {}) {
    const overfitting = (findings || []).find((f) => f.kind === "overfitting");
    const marks = { best: best ?? null, overfit: overfitting ? overfitting.epoch : null };
    if (best === undefined) marks.best = this.marks.best;
    if (findings === undefined) marks.overfit = this.marks.overfit;
    if (marks.overfit !== this.marks.overfit) this.needsFull = true; // the gap's traces
    else if (marks.best !== this.marks.best) this.marksMoved = true; // a relayout will do
    this.marks = marks;
  }

  /** The epochs (indices into `epoch`) the overfitting gap covers: from its epoch on. */
  inGap(epoch) {
    const from = this.marks.overfit;
    return from === null ? [] : epoch.flatMap((e, i) => (e >= from ? [i] : []));
  }

  /** A moved best-epoch mark is redrawn by a relayout of the lines and labels alone (after
   * the append, when points wait too: see afterAppend). */
  render() {
    const drawn = !this.needsFull && this.visible && !this.busy && !this.drawnEmpty;
    if (this.marksMoved && drawn && !this.hasPending()) {
      this.marksMoved = false;
      this.track(Plotly.relayout(this.el, this.decorations(palette())));
      return true;
    }
    return super.render();
  }

  /** Forgets all points (a new run, or no run). */
  clear(revision = "empty") {
    super.clear(revision);
    this.marksMoved = false;
    this.lowest = Infinity; // smallest and largest positive loss seen (for the log axis ticks)
    this.highest = -Infinity;
    this.lr = [];
    this.lrPending = [];
    this.hasLr = false;
    this.steered = {}; // the latest value of each steered column
    this.changes = []; // [{epoch, text}] live changes, oldest first
    this.marks = { best: null, overfit: null }; // see setMarks
  }

  series(history) {
    if (!history || !history.epoch) return null;
    const { epoch, train_loss: train = [], test_loss: test = [] } = history;
    return { epoch, train, test };
  }

  pointValue(value) {
    return value ?? null;
  }

  addPoint(epoch, train, test) {
    super.addPoint(epoch, train, test);
    for (const v of [train, test]) {
      if (v > 0 && Number.isFinite(v)) {
        if (v < this.lowest) this.lowest = v;
        if (v > this.highest) this.highest = v;
      }
    }
  }

  /** The log axis's range (whole decades, as log10) and label spacing, or null (no data). */
  logAxis() {
    if (!(this.highest >= this.lowest && this.lowest > 0)) return null;
    const [lo, hi] = decadeRange(this.lowest, this.highest);
    return { range: [lo, hi], dtick: decadeStep(hi - lo), key: `${lo}:${hi}` };
  }

  setSmoothing(weight) {
    this.weight = weight;
    this.needsFull = true;
  }

  setLogScale(on) {
    this.logScale = on;
    this.needsFull = true;
  }

  setLossName(name) {
    if (name && name !== this.lossName) {
      this.lossName = name;
      this.needsFull = true;
    }
  }

  extension({ epoch, train, test }) {
    // by epoch distance: a thinned snapshot (every k-th epoch) smooths as the whole history
    const smoothTrain = train.map((v, i) => this.emaTrain.push(v, epoch[i]));
    const smoothTest = test.map((v, i) => this.emaTest.push(v, epoch[i]));
    const lr = this.lrPending;
    this.lrPending = [];
    const gap = this.inGap(epoch);
    const gapX = gap.map((i) => epoch[i]);
    return {
      x: [epoch, epoch, epoch, epoch, epoch, gapX, gapX],
      y: [train, test, smoothTrain, smoothTest, lr, gap.map((i) => smoothTrain[i]),
        gap.map((i) => smoothTest[i])],
    };
  }

  /** On a log axis, the range (whole decades) follows the losses seen so far. */
  afterAppend(drawn) {
    const update = {};
    const axis = this.logScale ? this.logAxis() : null;
    if (axis && axis.key !== this.drawnAxis) {
      this.drawnAxis = axis.key;
      Object.assign(update, { "yaxis.range": axis.range, "yaxis.dtick": axis.dtick, "yaxis.autorange": false });
    }
    const lr = logAxis(this.lr); // a live change of lr may leave the decades drawn
    if (lr.range && String(lr.range) !== this.drawnLrAxis) {
      this.drawnLrAxis = String(lr.range);
      Object.assign(update, { "yaxis2.range": lr.range, "yaxis2.dtick": lr.dtick, "yaxis2.autorange": false });
    }
    if (this.marksMoved) {
      this.marksMoved = false;
      Object.assign(update, this.decorations(palette()));
    }
    if (!Object.keys(update).length) return drawn;
    return Promise.resolve(drawn).then(() => Plotly.relayout(this.el, update));
  }

  figure(p) {
    this.emaTrain = new DebiasedEma(this.weight, { log: this.logScale });
    this.emaTest = new DebiasedEma(this.weight, { log: this.logScale });
    const { epoch, train, test } = this.history;
    const smoothTrain = train.map((v, i) => this.emaTrain.push(v, epoch[i]));
    const smoothTest = test.map((v, i) => this.emaTest.push(v, epoch[i]));
    const smoothed = this.weight > 0;
    const raw = (name, values, color, dash, group) => ({
      type: "scatter", mode: "lines", name, x: epoch.slice(), y: values.slice(),
      legendgroup: group, showlegend: !smoothed,
      line: { color, width: smoothed ? 1 : 2, dash },
      opacity: smoothed ? 0.28 : 1,
      hovertemplate: `%{y:.6g}<extra>${name}</extra>`,
    });
    const smooth = (name, values, color, dash, group) => ({
      type: "scatter", mode: "lines", name, x: epoch.slice(), y: values,
      legendgroup: group, visible: smoothed, line: { color, width: 2.2, dash },
      hovertemplate: `%{y:.6g}<extra>${name} (smoothed)</extra>`,
    });
    const data = [
      raw(smoothed ? "train (raw)" : "train", train, p.train, "solid", "train"),
      raw(smoothed ? "test (raw)" : "test", test, p.test, "dash", "test"),
      smooth("train", smoothTrain, p.train, "solid", "train"),
      smooth("test", smoothTest, p.test, "dash", "test"),
      {
        type: "scatter", mode: "lines", name: "learning rate", x: epoch.slice(), y: this.lr.slice(),
        yaxis: "y2", visible: this.hasLr, line: { color: p.muted, width: 1.2, dash: "dot", shape: "hv" },
        hovertemplate: "%{y:.3g}<extra>learning rate</extra>",
      },
    ];
    const gap = this.inGap(epoch);
    const edge = (name, values, fill) => ({
      type: "scatter", mode: "lines", name, x: gap.map((i) => epoch[i]),
      y: gap.map((i) => values[i]), line: { width: 0 }, hoverinfo: "skip", fill,
      fillcolor: p.overfitFill, showlegend: fill !== "none", visible: this.marks.overfit !== null,
    });
    data.push(edge("overfitting gap (train)", smoothTrain, "none"));
    data.push(edge("overfitting gap", smoothTest, "tonexty"));
    this.lrPending = [];
    const layout = baseLayout(p, { xTitle: "epoch", yTitle: `loss (${this.lossName})` });
    layout.uirevision = `${this.revision}:${this.logScale}`;
    layout.hovermode = "x unified";
    layout.yaxis.type = this.logScale ? "log" : "linear";
    layout.yaxis.exponentformat = "power";
    const axis = this.logScale ? this.logAxis() : null;
    this.drawnAxis = axis ? axis.key : null;
    if (axis) Object.assign(layout.yaxis, { range: axis.range, dtick: axis.dtick, autorange: false });
    // The lr trace lives on y2 even while it is empty: y2 must exist (hidden), or plotly draws
    // a default axis of its own over the loss axis.
    layout.yaxis2 = {
      type: "log", overlaying: "y", side: "right", showgrid: false, exponentformat: "power",
      dtick: 1, color: p.muted, linecolor: p.grid, title: { text: "lr", standoff: 10 },
      automargin: false, visible: this.hasLr, zeroline: false,
      ...logAxis(this.lr), // whole decades around the rates: two labels at least (lr = 0.003)
    };
    this.drawnLrAxis = String(layout.yaxis2.range);
    if (this.hasLr) layout.margin = { ...layout.margin, r: 64 };
    Object.assign(layout, this.decorations(p));
    layout.xaxis.rangemode = "tozero";
    return { data, layout };
  }

  /** The layout's lines and labels: every live change (labels for the newest), the best epoch
   * and the overfitting epoch. */
  decorations(p) {
    const shapes = this.changes.map((change) => ({
      type: "line", xref: "x", yref: "paper", x0: change.epoch, x1: change.epoch, y0: 0, y1: 1,
      line: { color: p.muted, width: 1, dash: "dot" }, name: "live change",
    }));
    const annotations = this.changes.slice(-LABELLED_CHANGES).map((change, k) => ({
      x: change.epoch, xref: "x", xanchor: "left", yref: "paper", y: 0.98 - 0.07 * (k % 3),
      yanchor: "top", text: change.text, showarrow: false, bgcolor: p.panel, opacity: 0.9,
      font: { size: 10.5, color: p.fg }, name: "live change",
    }));
    const marks = [];
    if (this.marks.best !== null) {
      marks.push([this.marks.best, `best: epoch ${this.marks.best}`, "best epoch", p.best, 0.02]);
    }
    if (this.marks.overfit !== null) {
      // labelled higher up: the two epochs are often close
      marks.push([this.marks.overfit, `overfits from epoch ${this.marks.overfit}`, "overfitting", p.test, 0.14]);
    }
    for (const [epoch, text, name, color, y] of marks) {
      shapes.push({
        type: "line", xref: "x", yref: "paper", x0: epoch, x1: epoch, y0: 0, y1: 1, name,
        line: { color, width: 1.5, dash: "dash" },
      });
      annotations.push({
        x: epoch, xref: "x", xanchor: "right", yref: "paper", y, yanchor: "bottom", text,
        showarrow: false, bgcolor: p.panel, opacity: 0.9, font: { size: 10.5, color: p.fg }, name,
      });
    }
    return { shapes, annotations };
  }
}
