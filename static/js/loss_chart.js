// Loss chart: train and test loss per epoch, raw curves drawn faintly behind their debiased-EMA
// smoothed versions, log-scale toggle. Appending, throttling and redrawing are AppendingChart's;
// the whole chart is also redrawn when the smoothing weight, the scale or the loss changes.

import { AppendingChart } from "./appending_chart.js";
import { DebiasedEma } from "./smoothing.js";
import { baseLayout } from "./theme.js";

const Plotly = window.Plotly;
// Trace order: raw train, raw test, smoothed train, smoothed test.
const TRACES = [0, 1, 2, 3];

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

  /** Forgets all points (a new run, or no run). */
  clear(revision = "empty") {
    super.clear(revision);
    this.lowest = Infinity; // smallest and largest positive loss seen (for the log axis ticks)
    this.highest = -Infinity;
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

  extension({ epoch, train, test }) {
    const smoothTrain = train.map((v) => this.emaTrain.push(v));
    const smoothTest = test.map((v) => this.emaTest.push(v));
    return { x: [epoch, epoch, epoch, epoch], y: [train, test, smoothTrain, smoothTest] };
  }

  /** On a log axis, the tick spacing follows the range of losses seen so far. */
  afterAppend(drawn) {
    if (!this.logScale || this.logDtick() === this.drawnDtick) return drawn;
    this.drawnDtick = this.logDtick();
    const dtick = this.drawnDtick;
    return Promise.resolve(drawn).then(() => Plotly.relayout(this.el, { "yaxis.dtick": dtick }));
  }

  figure(p) {
    this.emaTrain = new DebiasedEma(this.weight);
    this.emaTest = new DebiasedEma(this.weight);
    const { epoch, train, test } = this.history;
    const smoothTrain = train.map((v) => this.emaTrain.push(v));
    const smoothTest = test.map((v) => this.emaTest.push(v));
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
    return { data, layout };
  }
}
