// Shared part of the per-epoch charts (loss, accuracy): a train and a test series that only grow.
// The chart keeps every epoch (`history`) but draws a bounded number of points per line
// (decimation.js: each line's first, lowest, highest and last point per bucket of epochs), so a
// redraw costs the same at any length of the run. New epochs go into those lines, which are drawn
// on the chart's own canvas (line_canvas.js), throttled; Plotly redraws when an axis must widen
// (chart_ranges.js) or the pointer is over the chart (its hover data), and draws the chart whole
// (Plotly.react) only when the run, a setting or the theme changes, or when it is shown again.

import { fittedRanges, sameRange } from "./chart_ranges.js";
import { DecimatedLine } from "./decimation.js";
import { LineCanvas } from "./line_canvas.js";
import { PLOT_CONFIG, palette } from "./theme.js";

const Plotly = window.Plotly;

const MIN_INTERVAL = 250; // ms: at most 4 redraws with new points a second (a chart, not the fit)

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
    this.minInterval = MIN_INTERVAL; // ms between redraws with new points (fewer when slow)
    this.lineCanvas = new LineCanvas(element);
    this.hovered = false; // the pointer is over the chart (Plotly's hover data kept fresh)
    this.clear();
  }

  /** True when points wait to be drawn (or the axes to fit the lines of an ended run). */
  hasPending() {
    return this.pending.epoch.length > 0 || this.settling;
  }

  /** Forgets all points (a new run, or no run). */
  clear(revision = "empty") {
    this.history = emptySeries();
    this.pending = emptySeries();
    this.revision = revision;
    this.needsFull = true;
    this.settling = false;
    this.rangesSet = {};
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
    if (this.needsFull || (this.drawnEmpty && this.pending.epoch.length)) return this.drawAll();
    if (!this.pending.epoch.length) return this.settling ? this.fitAxes() : false;
    const update = this.extension(this.pending);
    this.pending = emptySeries();
    const started = performance.now();
    const x = [];
    const y = [];
    this.traces.forEach((trace, k) => {
      const line = this.lines[trace];
      line.extend(update.x[k], update.y[k]);
      const points = line.points();
      x.push(points.x);
      y.push(points.y);
    });
    let drawn;
    if (this.hovered) {
      // Plotly's hover reads its own copy of the points: while the pointer is over the chart,
      // Plotly is handed them too (a whole redraw; the canvas follows on plotly_restyle).
      drawn = Plotly.restyle(this.el, { x, y }, this.traces);
    } else {
      this.traces.forEach((trace, k) => Object.assign(this.el.data[trace], { x: x[k], y: y[k] }));
      this.plotlyStale = true;
      const ranges = fittedRanges(this.el, this.traces, this.rangesSet, this.yBounds);
      if (ranges) {
        this.rangesSet = ranges.set;
        drawn = Promise.resolve(Plotly.relayout(this.el, ranges.update)).then(() => this.lineCanvas.draw());
      } else this.lineCanvas.draw();
    }
    // A Plotly redraw is slow: draw less often when it was, so the chart never takes more than
    // about a sixth of the time.
    this.minInterval = Math.max(MIN_INTERVAL, 5 * (performance.now() - started));
    const after = this.afterAppend(drawn);
    // (an ended run's last points: nothing else will ask for the axes to fit them)
    this.track(this.settling ? Promise.resolve(after).then(() => this.fitAxes()) : after);
    return true;
  }

  /** The run ended: once its last points are drawn, the axes widened ahead of the lines fit
   * them exactly again (see fitAxes). */
  settle() {
    this.settling = this.visible && !this.needsFull && !this.drawnEmpty;
  }

  /** Axes widened here (chart_ranges.js) autorange to the lines again, with Plotly handed the
   * lines drawn; an axis the user zoomed keeps the user's range. */
  fitAxes() {
    this.settling = false;
    const full = this.el._fullLayout;
    const update = {};
    for (const key of ["x", "y"]) {
      const axis = full && full[`${key}axis`];
      if (axis && sameRange(axis.range, this.rangesSet[key])) update[`${key}axis.autorange`] = true;
    }
    if (!Object.keys(update).length) return false;
    this.rangesSet = {};
    this.plotlyStale = false;
    const data = this.traces.map((trace) => this.el.data[trace]);
    this.track(Plotly.update(this.el, { x: data.map((d) => d.x), y: data.map((d) => d.y) }, update, this.traces));
    return true;
  }

  /** Hands Plotly the lines drawn (for its hover), when it has an older copy. */
  refreshPlotly() {
    if (!this.plotlyStale || this.busy || !this.el.data) return;
    this.plotlyStale = false;
    const data = this.traces.map((trace) => this.el.data[trace]);
    this.track(Plotly.restyle(this.el, { x: data.map((d) => d.x), y: data.map((d) => d.y) }, this.traces));
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
    this.lines = {};
    for (const trace of this.traces) {
      const line = DecimatedLine.of(data[trace].x, data[trace].y);
      this.lines[trace] = line;
      Object.assign(data[trace], line.points());
    }
    this.drawnEmpty = !this.history.epoch.length;
    if (this.drawnEmpty) {
      layout.xaxis.range = [0, 10];
      Object.assign(layout.yaxis, this.placeholderYAxis, { showticklabels: false });
      layout.annotations = [{
        text: this.placeholder, showarrow: false,
        xref: "paper", yref: "paper", x: 0.5, y: 0.5, font: { color: p.muted, size: 13 },
      }];
    }
    this.plotlyStale = false;
    this.rangesSet = {};
    this.settling = false; // (a whole redraw autoranges)
    this.track(Promise.resolve(Plotly.react(this.el, data, layout, PLOT_CONFIG)).then(() => this.hook()));
    return true;
  }

  /** Once Plotly has drawn the chart: the canvas follows every Plotly redraw (zoom, pan, resize,
   * legend clicks, relayouts), and the pointer over the chart keeps Plotly's hover data fresh. */
  hook() {
    if (this.hooked || typeof this.el.on !== "function") return;
    this.hooked = true;
    const draw = () => this.lineCanvas.draw();
    for (const event of ["plotly_afterplot", "plotly_relayout", "plotly_restyle"]) this.el.on(event, draw);
    this.el.addEventListener("pointerenter", () => {
      this.hovered = true;
      this.refreshPlotly();
    });
    this.el.addEventListener("pointerleave", () => { this.hovered = false; });
    draw();
  }

  track(promise) {
    this.busy = true;
    Promise.resolve(promise).finally(() => {
      this.busy = false;
      if (this.hovered) this.refreshPlotly();
    });
  }
}
