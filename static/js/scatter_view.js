// Predicted vs actual (regression): each shown test point at (actual, predicted) with the
// line y = x where a perfect fit would put them all, live; the title gives the test R².

import { PLOT_CONFIG, baseLayout, palette } from "./theme.js";

const Plotly = window.Plotly;

export class ScatterView {
  constructor(container) {
    this.el = container;
    this.actual = [];
    this.predicted = null;
    this.r2 = null;
    this.dirty = true;
  }

  /** The shown test points' actual values (the last coordinate of snapshot.data.test). */
  setActual(actual) {
    this.actual = actual || [];
    this.predicted = null;
    this.dirty = true;
  }

  setPredicted(predicted, r2) {
    if (predicted) this.predicted = predicted;
    if (r2 !== undefined && r2 !== null) this.r2 = r2;
    this.dirty = true;
  }

  render() {
    if (!this.dirty || !Plotly || this.el.offsetParent === null) return false;
    this.dirty = false;
    const p = palette();
    const values = this.actual.concat(this.predicted || []).filter((v) => v !== null);
    const lo = values.length ? Math.min(...values) : 0;
    const hi = values.length ? Math.max(...values) : 1;
    const pad = (hi - lo) * 0.05 || 1;
    const range = [lo - pad, hi + pad];
    const layout = baseLayout(p, { xTitle: "actual", yTitle: "predicted" });
    layout.margin = { l: 58, r: 12, t: 30, b: 42 };
    layout.uirevision = "scatter";
    layout.title = { text: this.r2 === null ? "test set" : `test set · R² = ${this.r2.toFixed(3)}`, font: { size: 12 } };
    layout.xaxis.range = range;
    layout.yaxis.range = range;
    layout.showlegend = false;
    const data = [
      { type: "scatter", mode: "lines", x: range, y: range, name: "y = x",
        line: { color: p.target, dash: "dot", width: 1.5 }, hoverinfo: "skip" },
      { type: "scatter", mode: "markers", name: "test points", x: this.actual,
        y: this.predicted || [], marker: { color: p.testPoints, size: 5, opacity: 0.75 },
        hovertemplate: "actual %{x:.4g}<br>predicted %{y:.4g}<extra></extra>" },
    ];
    Plotly.react(this.el, data, layout, PLOT_CONFIG);
    return true;
  }

  retheme() {
    this.dirty = true;
  }
}
