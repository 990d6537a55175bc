// The whole test set of a task of more than two inputs in one picture: each shown test point on
// the first two principal components of the standardised training inputs (PCA, computed by the
// server: snapshot.data.projection), coloured by the network's prediction, live. Classes get a
// colour and a marker shape each (ten distinct), so a class is never told by colour alone; a
// regression's prediction is a colour scale. Unlike a slice through two inputs with the others
// at their median, it shows every point the network is tested on.

import { CLASS_SYMBOLS } from "./decision_colours.js";
import { PLOT_CONFIG, baseLayout, palette } from "./theme.js";

export class ProjectionView {
  constructor(container, caption) {
    this.el = container;
    this.caption = caption;
    this.projection = null;
    this.truth = null;
    this.classes = [];
    this.predicted = null;
    this.dirty = true;
  }

  /** `projection` {x, y, axes, explained} of the shown test points; `truth` their labels
   * (classification) or actual values; `classes` the class names ([] for regression). */
  setProjection(projection, truth, classes) {
    this.projection = projection || null;
    this.truth = truth || null;
    this.classes = classes || [];
    this.predicted = null;
    this.dirty = true;
    if (this.caption) {
      const [first, second] = this.projection ? this.projection.axes : ["", ""];
      this.caption.textContent = this.projection
        ? `Every shown test point on the two directions in which the inputs vary most (PCA of the standardised inputs: ${first}, ${second}), coloured by the network's prediction.`
        : "";
    }
  }

  setPredicted(predicted) {
    if (predicted) {
      this.predicted = predicted;
      this.dirty = true;
    }
  }

  /** The Plotly traces: one per predicted class (classification), or one coloured by value. */
  traces(p) {
    const { x, y } = this.projection;
    const predicted = this.predicted;
    if (this.classes.length) {
      const traces = [];
      for (let c = -1; c < this.classes.length; c += 1) {
        const rows = x.map((_, i) => i).filter((i) => (predicted ? predicted[i] === c : c === -1));
        if (!rows.length) continue;
        const named = c >= 0;
        traces.push({
          type: "scattergl", mode: "markers", name: named ? `predicted ${this.classes[c]}` : "not predicted yet",
          x: rows.map((i) => x[i]), y: rows.map((i) => y[i]),
          text: rows.map((i) => `true ${this.classes[this.truth?.[i]] ?? "?"}`),
          hovertemplate: `%{text}<extra>${named ? `predicted ${this.classes[c]}` : ""}</extra>`,
          marker: named
            ? { color: p.classes[c % p.classes.length], symbol: CLASS_SYMBOLS[c % CLASS_SYMBOLS.length], size: 7,
              line: { width: 0.5, color: p.panel }, opacity: 0.85 }
            : { color: p.muted, size: 5, opacity: 0.6 },
          meta: { predictedClass: c },
        });
      }
      return traces;
    }
    return [{
      type: "scattergl", mode: "markers", name: "test points", x, y,
      marker: predicted
        ? { color: predicted, colorscale: "Viridis", size: 6, showscale: true,
          colorbar: { title: { text: "prediction" }, thickness: 10 } }
        : { color: p.muted, size: 5 },
      text: (this.truth || []).map((v) => `actual ${v}`),
      hovertemplate: "%{text}<br>predicted %{marker.color:.4g}<extra></extra>",
    }];
  }

  render() {
    const Plotly = window.Plotly;
    if (!this.dirty || !Plotly || !this.projection || this.el.offsetParent === null) return false;
    this.dirty = false;
    const p = palette();
    const layout = baseLayout(p, { xTitle: this.projection.axes[0], yTitle: this.projection.axes[1] });
    layout.margin = { l: 52, r: 12, t: 8, b: 42 };
    layout.uirevision = "projection";
    layout.legend = { ...layout.legend, orientation: "v", x: 1.02, y: 1, yanchor: "top", xanchor: "left" };
    layout.margin.r = this.classes.length ? 120 : 12;
    Plotly.react(this.el, this.traces(p), layout, PLOT_CONFIG);
    return true;
  }
}
