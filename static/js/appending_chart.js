// Shared part of the per-epoch charts (loss, accuracy): a train and a test series that only grow.
// New epochs are appended with Plotly.extendTraces, throttled as the history grows; the chart is
// redrawn whole only when the run, a setting or the theme changes, or when it is shown again.

import { PLOT_CONFIG, palette } from "./theme.js";

const Plotly = window.Plotly;

const emptySeries = () => ({ epoch: [], train: [], test: [] });

/**
 * Base class: history/pending accumulation, append of new epochs only, throttled appends,
 * visibility, retheme and the empty-state placeholder. A subclass says how it reads the history
 * (`series`, `pointValue`), what it appends (`extension`) and how it draws whole (`figure`).
 */
export class AppendingChart {
  /**
   * traces: the trace indices `extension` extends; placeholder: the empty chart's message;
   * placeholderYAxis: the empty chart's fixed y axis; visible: whether it starts shown.
   */
  constructor(element, { traces, placeholder, placeholderYAxis, visible = true }) {
    this.el = element;
    this.traces = traces;
    this.placeholder = placeholder;
    this.placeholderYAxis = placeholderYAxis;
    this.visible = visible;
    this.busy = false;
    this.minInterval = 150; // ms between appends (at most ~7 redraws per second, fewer when slow)
    this.clear();
  }

  /** True when points wait to be drawn. */
  hasPending() {
    return this.pending.epoch.length > 0;
  }

  /** Forgets all points (a new run, or no run). */
  clear(revision = "empty") {
    this.history = emptySeries();
    this.pending = emptySeries();
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
    const series = this.series(history);
    if (!series) return;
    const known = this.history.epoch;
    const last = known.length ? known[known.length - 1] : -Infinity;
    const { epoch, train, test } = series;
    for (let i = 0; i < epoch.length; i++) {
      if (!(epoch[i] > last)) continue;
      this.addPoint(epoch[i], this.pointValue(train[i]), this.pointValue(test[i]));
    }
  }

  /** Records one new epoch in the history and in what waits to be drawn. */
  addPoint(epoch, train, test) {
    for (const store of [this.history, this.pending]) {
      store.epoch.push(epoch);
      store.train.push(train);
      store.test.push(test);
    }
  }

  /** A chart drawn while hidden would have no size: a hidden chart waits, and redraws when shown. */
  setVisible(visible) {
    if (visible && !this.visible) this.needsFull = true;
    this.visible = visible;
  }

  retheme() {
    this.needsFull = true;
  }

  /** Number of epochs currently known. */
  get length() {
    return this.history.epoch.length;
  }

  render() {
    if (!this.visible) return false;
    if (this.busy) return "busy";
    // The empty chart has a fixed placeholder range: the first points need a full draw.
    if (this.needsFull || (this.drawnEmpty && this.hasPending())) return this.drawAll();
    if (!this.hasPending()) return false;
    const update = this.extension(this.pending);
    this.pending = emptySeries();
    const started = performance.now();
    const drawn = Plotly.extendTraces(this.el, update, this.traces);
    // Plotly redraws every point of a line on each append: as the history grows, append less
    // often, so the chart never takes more than about a fifth of the time.
    this.minInterval = Math.max(150, 4 * (performance.now() - started));
    this.track(this.afterAppend(drawn));
    return true;
  }

  /** What to do once an append is drawn (a promise to wait for); nothing by default. */
  afterAppend(drawn) {
    return drawn;
  }

  drawAll() {
    this.needsFull = false;
    this.pending = emptySeries();
    const p = palette();
    const { data, layout } = this.figure(p);
    this.drawnEmpty = !this.history.epoch.length;
    if (this.drawnEmpty) {
      layout.xaxis.range = [0, 10];
      Object.assign(layout.yaxis, this.placeholderYAxis, { showticklabels: false });
      layout.annotations = [{
        text: this.placeholder, showarrow: false,
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
