// Loss chart: train and test loss per epoch, raw curves drawn faintly behind their debiased-EMA
// smoothed versions, log-scale toggle. New points are appended with Plotly.extendTraces; the whole
// chart is redrawn only when the run, the smoothing weight or the theme changes.

import { DebiasedEma } from "./smoothing.js";
import { PLOT_CONFIG, baseLayout, palette } from "./theme.js";

const Plotly = window.Plotly;
// Trace order: raw train, raw test, smoothed train, smoothed test.
const TRACES = [0, 1, 2, 3];

export class LossChart {
  constructor(element, { smoothing = 0.6, logScale = false } = {}) {
    this.el = element;
    this.weight = smoothing;
    this.logScale = logScale;
    this.lossName = "MSE";
    this.revision = "empty";
    this.busy = false;
    this.minInterval = 150; // ms between appends (at most ~7 redraws per second, fewer when slow)
    this.clear();
  }

  /** True when points or a setting wait to be drawn. */
  hasPending() {
    return this.pending.epoch.length > 0;
  }

  /** Forgets all points (a new run, or no run). */
  clear(revision = "empty") {
    this.history = { epoch: [], train: [], test: [] };
    this.pending = { epoch: [], train: [], test: [] };
    this.lowest = Infinity; // smallest and largest positive loss seen (for the log axis ticks)
    this.highest = -Infinity;
    this.revision = revision;
    this.needsFull = true;
  }

  /** Replaces the whole history (from a snapshot). */
  reset(history, revision) {
    this.clear(revision);
    this.append(history);
  }

  /** Accumulates new history points; points at or before the last known epoch are ignored. */
  append(history) {
    if (!history || !history.epoch) return;
    const last = this.history.epoch.length ? this.history.epoch[this.history.epoch.length - 1] : -Infinity;
    const { epoch, train_loss: train = [], test_loss: test = [] } = history;
    for (let i = 0; i < epoch.length; i++) {
      if (!(epoch[i] > last)) continue;
      const point = [epoch[i], train[i] ?? null, test[i] ?? null];
      this.history.epoch.push(point[0]);
      this.history.train.push(point[1]);
      this.history.test.push(point[2]);
      this.pending.epoch.push(point[0]);
      this.pending.train.push(point[1]);
      this.pending.test.push(point[2]);
      for (const v of [point[1], point[2]]) {
        if (v > 0 && Number.isFinite(v)) {
          if (v < this.lowest) this.lowest = v;
          if (v > this.highest) this.highest = v;
        }
      }
    }
  }

  /**
   * Log-axis tick spacing: over a decade or more, label the decades and only the 2s and 5s
   * between them ("D2"); within less than a decade "D2" would leave one lone digit or none,
   * so plotly picks plain values (0.2, 0.3, ...).
   */
  logDtick() {
    return this.highest / this.lowest >= 10 ? "D2" : null;
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

  retheme() {
    this.needsFull = true;
  }

  /** Number of epochs currently drawn. */
  get length() {
    return this.history.epoch.length;
  }

  render() {
    if (this.busy) return "busy";
    if (this.needsFull) return this.drawAll();
    if (!this.pending.epoch.length) return false;
    // The empty chart has a fixed placeholder range: the first points need a full draw.
    if (this.drawnEmpty) return this.drawAll();
    const { epoch, train, test } = this.pending;
    const smoothTrain = train.map((v) => this.emaTrain.push(v));
    const smoothTest = test.map((v) => this.emaTest.push(v));
    this.pending = { epoch: [], train: [], test: [] };
    const started = performance.now();
    let drawn = Plotly.extendTraces(this.el, {
      x: [epoch, epoch, epoch, epoch],
      y: [train, test, smoothTrain, smoothTest],
    }, TRACES);
    // Plotly redraws every point of a line on each append: as the history grows, append less
    // often, so the chart never takes more than about a fifth of the time.
    this.minInterval = Math.max(150, 4 * (performance.now() - started));
    if (this.logScale && this.logDtick() !== this.drawnDtick) {
      this.drawnDtick = this.logDtick();
      const dtick = this.drawnDtick;
      drawn = Promise.resolve(drawn).then(() => Plotly.relayout(this.el, { "yaxis.dtick": dtick }));
    }
    this.track(drawn);
    return true;
  }

  drawAll() {
    this.needsFull = false;
    this.pending = { epoch: [], train: [], test: [] };
    this.emaTrain = new DebiasedEma(this.weight);
    this.emaTest = new DebiasedEma(this.weight);
    const { epoch, train, test } = this.history;
    const smoothTrain = train.map((v) => this.emaTrain.push(v));
    const smoothTest = test.map((v) => this.emaTest.push(v));
    const p = palette();
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
    ];
    const layout = baseLayout(p, { xTitle: "epoch", yTitle: `loss (${this.lossName})` });
    layout.uirevision = `${this.revision}:${this.logScale}`;
    layout.hovermode = "x unified";
    layout.yaxis.type = this.logScale ? "log" : "linear";
    layout.yaxis.exponentformat = "power";
    this.drawnDtick = this.logDtick();
    if (this.logScale && this.drawnDtick) layout.yaxis.dtick = this.drawnDtick;
    layout.xaxis.rangemode = "tozero";
    this.drawnEmpty = !epoch.length;
    if (!epoch.length) {
      layout.xaxis.range = [0, 10];
      Object.assign(layout.yaxis, { type: "linear", range: [0, 1], showticklabels: false });
      layout.annotations = [{
        text: "Train a network to see its loss here", showarrow: false,
        xref: "paper", yref: "paper", x: 0.5, y: 0.5, font: { color: p.muted, size: 13 },
      }];
    }
    this.track(Plotly.react(this.el, data, layout, PLOT_CONFIG));
    return true;
  }

  track(promise) {
    this.busy = true;
    Promise.resolve(promise).finally(() => { this.busy = false; });
  }
}
