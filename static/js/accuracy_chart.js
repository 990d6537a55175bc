// Accuracy chart (classification runs): train and test accuracy per epoch, in percent. New points
// are appended with Plotly.extendTraces; the chart is redrawn whole only when the run or the
// theme changes, or when it is shown again.

import { PLOT_CONFIG, baseLayout, palette } from "./theme.js";

const Plotly = window.Plotly;
const TRACES = [0, 1];

const toPercent = (value) => (value === null || value === undefined ? null : 100 * value);

export class AccuracyChart {
  constructor(element) {
    this.el = element;
    this.visible = false;
    this.busy = false;
    this.minInterval = 150; // ms between appends, as for the loss chart
    this.clear();
  }

  hasPending() {
    return this.pending.epoch.length > 0;
  }

  /** Forgets all points (a new run, or no run). */
  clear(revision = "empty") {
    this.history = { epoch: [], train: [], test: [] };
    this.pending = { epoch: [], train: [], test: [] };
    this.revision = revision;
    this.needsFull = true;
  }

  /** Replaces the whole history (from a snapshot). */
  reset(history, revision) {
    this.clear(revision);
    this.append(history);
  }

  /** Accumulates new points; epochs at or before the last known one are ignored. */
  append(history) {
    if (!history || !history.epoch || !history.train_acc) return;
    const known = this.history.epoch;
    const last = known.length ? known[known.length - 1] : -Infinity;
    const { epoch, train_acc: train = [], test_acc: test = [] } = history;
    for (let i = 0; i < epoch.length; i++) {
      if (!(epoch[i] > last)) continue;
      for (const store of [this.history, this.pending]) {
        store.epoch.push(epoch[i]);
        store.train.push(toPercent(train[i]));
        store.test.push(toPercent(test[i]));
      }
    }
  }

  /** Shown for classification tasks only; a chart drawn while hidden would have no size. */
  setVisible(visible) {
    if (visible && !this.visible) this.needsFull = true;
    this.visible = visible;
  }

  retheme() {
    this.needsFull = true;
  }

  get length() {
    return this.history.epoch.length;
  }

  render() {
    if (!this.visible) return false;
    if (this.busy) return "busy";
    if (this.needsFull || (this.drawnEmpty && this.pending.epoch.length)) return this.drawAll();
    if (!this.pending.epoch.length) return false;
    const { epoch, train, test } = this.pending;
    this.pending = { epoch: [], train: [], test: [] };
    const started = performance.now();
    this.track(Plotly.extendTraces(this.el, { x: [epoch, epoch], y: [train, test] }, TRACES));
    this.minInterval = Math.max(150, 4 * (performance.now() - started));
    return true;
  }

  drawAll() {
    this.needsFull = false;
    this.pending = { epoch: [], train: [], test: [] };
    const { epoch, train, test } = this.history;
    const p = palette();
    const line = (name, values, color, dash) => ({
      type: "scatter", mode: "lines", name, x: epoch.slice(), y: values.slice(),
      line: { color, width: 2.2, dash },
      hovertemplate: `%{y:.2f} %<extra>${name}</extra>`,
    });
    const data = [
      line("train", train, p.train, "solid"),
      line("test", test, p.test, "dash"),
    ];
    const layout = baseLayout(p, { xTitle: "epoch", yTitle: "accuracy" });
    layout.uirevision = this.revision;
    layout.hovermode = "x unified";
    layout.xaxis.rangemode = "tozero";
    Object.assign(layout.yaxis, { ticksuffix: " %", autorangeoptions: { maxallowed: 100 } });
    this.drawnEmpty = !epoch.length;
    if (!epoch.length) {
      layout.xaxis.range = [0, 10];
      Object.assign(layout.yaxis, { range: [0, 100], showticklabels: false });
      layout.annotations = [{
        text: "Accuracy per epoch<br>appears here", showarrow: false,
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
