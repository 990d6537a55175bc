// Decision regions of a classifier: each grid cell coloured by the class the network predicts
// there, fading toward the background where it is unsure; training points filled, test points
// outlined, misclassified test points crossed out.
//
// Three stacked layers share one set of axis ranges (as the 1-D curve view does with two):
//   below   the regions, a canvas of one pixel per grid cell (redrawn per frame, region_canvas.js),
//   middle  axes, the data points, hover and zoom (a Plotly plot drawn once per run),
//   on top  crosses over the misclassified test points (redrawn per frame; few points).
// Redrawing some 1600 SVG markers on every frame would cost far more than the regions.
//
// The regions encode z' = class + fraction per cell, where fraction is how far the confidence
// is above chance: (p − 1/k) / (1 − 1/k) in [0, 1]. Their colour scale has one band per class,
// from almost the background (at chance) to the class colour (sure), so one value shows both
// the class and the confidence. Cells are drawn without smoothing (smoothing would blend class
// indices across a boundary into a third class's colour).
//
// The legend is HTML above the plots (Plotly's wraps out of sight when a narrow plot has many
// classes); each key is a toggle button that hides or shows its points.

import { BaseFitView, el } from "./fit_base.js";
import { PLOT_CONFIG, baseLayout, palette } from "./theme.js";
import {
  CLASS_SYMBOLS, blend, cellRange, gridFromDomain, legendMarker, percent,
} from "./decision_colours.js";
import { RegionCanvas } from "./region_canvas.js";
import { sameValues } from "./same_values.js";
import { plottedNames } from "./slice_picker.js";

const Plotly = window.Plotly;

export class ClassificationView extends BaseFitView {
  constructor(container, task) {
    super(container, task);
    container.className = "fit-view classes";
    this.empty.innerHTML = "<p><strong>Press Train</strong> to sample the data<br>and watch the decision regions form.</p>";
    this.legend = el("div", "class-legend");
    this.legend.setAttribute("role", "group");
    this.legend.setAttribute("aria-label", "Legend: press a key to hide or show its points");
    this.stack = el("div", "plot-stack");
    this.regions = el("div", "plot layer");
    this.regions.id = "fit-regions";
    this.regionCanvas = new RegionCanvas(this.regions);
    this.points = el("div", "plot layer");
    this.points.id = "fit-points";
    this.wrong = el("div", "plot layer overlay");
    this.wrong.id = "fit-wrong";
    this.stack.replaceChildren(this.regions, this.points, this.wrong, this.empty);
    container.replaceChildren(this.legend, this.stack);
    this.note = document.getElementById("fit-note") || el("p");
    this.readout = document.getElementById("fit-readout") || el("p");
    this.readout.textContent = "";
    this.classNames = (task.classes && task.classes.length ? task.classes
      : Array.from({ length: task.outputs || 2 }, (_, c) => String(c))).map(String);
    this.hidden = new Set(); // legend keys switched off: "class-<c>", "test", "wrong"
    this.ranges = null;
    this.drawLegend(palette());
    // The legend wraps to more lines on narrow screens: the plots follow their box, all three
    // the same size so that their axes line up.
    this.resizer = new ResizeObserver(() => this.resize());
    this.resizer.observe(this.stack);
    this.updateNote();
  }

  clear() {
    super.clear();
    this.testPredicted = null;
    this.misclassified = null;
    if (this.note) this.updateNote();
  }

  setSnapshot(snapshot) {
    super.setSnapshot(snapshot);
    this.takeMistakes(snapshot);
  }

  /** A frame's prediction, with its misclassified count and predicted test labels. */
  setPrediction(prediction, frame) {
    if (!prediction || !this.snapshot) return;
    super.setPrediction(prediction);
    if (frame) this.takeMistakes(frame);
  }

  takeMistakes(message) {
    if (message.misclassified !== undefined) this.misclassified = message.misclassified;
    if (message.test_predicted !== undefined) this.testPredicted = message.test_predicted;
    this.updateNote();
  }

  /** Test points in the whole test set (the page is sent at most 1000 of them). */
  testCount() {
    const config = this.snapshot && this.snapshot.config;
    if (config && config.samples && config.test_fraction) {
      return Math.max(1, Math.round(config.samples * config.test_fraction));
    }
    const test = this.snapshot && this.snapshot.data && this.snapshot.data.test;
    return test ? test.x.length : null;
  }

  updateNote() {
    const total = this.testCount();
    const count = this.misclassified;
    this.note.innerHTML = "";
    if (count === null || count === undefined) {
      this.note.textContent = "colour = predicted class";
      return;
    }
    const strong = document.createElement("b");
    strong.id = "misclassified-count";
    strong.textContent = String(count);
    this.note.append(strong, total ? ` of ${total} test points misclassified (✕)`
      : " test points misclassified (✕)");
    this.note.dataset.misclassified = String(count);
  }

  /** Preview: the points a run would draw (all shown filled), on the box its grid would cover. */
  fromPreview(answer) {
    const domain = answer.domain || this.task.domain;
    return {
      preview: true,
      target: { x: gridFromDomain(domain[0]), y: gridFromDomain(domain[1]) },
      data: { train: answer.data, test: { x: [], y: [], label: [] } },
    };
  }

  /** Layout shared by the three layers; `axes` only for the middle one. */
  layout(p, { axes }) {
    const [xTitle, yTitle] = plottedNames(this.task);
    const layout = baseLayout(p, { xTitle, yTitle });
    layout.margin = { l: 46, r: 8, t: 6, b: 38, autoexpand: false };
    layout.uirevision = this.task.id;
    for (const [name, range] of [["xaxis", this.ranges.x], ["yaxis", this.ranges.y]]) {
      Object.assign(layout[name], {
        range: range.slice(), autorange: false, showgrid: false, zeroline: false,
        constrain: "domain", ticks: "outside", ticklen: 4, mirror: true,
        linecolor: p.grid, showline: axes,
      });
    }
    // True geometry: a circle in the data stays a circle on screen.
    layout.yaxis.scaleanchor = "x";
    layout.yaxis.scaleratio = 1;
    layout.showlegend = false;
    if (!axes || !this.shown()) { // before a run: only the message, no empty axes under it
      layout.xaxis.visible = false;
      layout.yaxis.visible = false;
      layout.hovermode = false;
    } else {
      layout.hovermode = "closest";
    }
    return layout;
  }

  pointTraces(p) {
    const s = this.shown();
    const data = s && s.data ? s.data : null;
    const traces = [];
    const colours = p.classes;
    const k = this.classNames.length;
    const pick = (points, c) => {
      const x = [];
      const y = [];
      if (points && points.label) {
        points.label.forEach((label, i) => {
          if (label === c) {
            x.push(points.x[i]);
            y.push(points.y[i]);
          }
        });
      }
      return { x, y };
    };
    for (let c = 0; c < k; c++) {
      const { x, y } = pick(data && data.train, c);
      traces.push({
        type: "scatter", mode: "markers", name: `class ${this.classNames[c]}`, x, y,
        visible: !this.hidden.has(`class-${c}`),
        marker: { symbol: CLASS_SYMBOLS[c % CLASS_SYMBOLS.length], size: 5.5,
          color: colours[c % colours.length], opacity: 0.85,
          line: { color: p.panel, width: 0.6 } },
        hovertemplate: `train · class ${this.classNames[c]}<br>x=%{x:.3g}, y=%{y:.3g}<extra></extra>`,
      });
    }
    for (let c = 0; c < k; c++) {
      const { x, y } = pick(data && data.test, c);
      traces.push({
        type: "scatter", mode: "markers", name: `test · class ${this.classNames[c]}`, x, y,
        visible: !this.hidden.has("test"),
        marker: { symbol: `${CLASS_SYMBOLS[c % CLASS_SYMBOLS.length]}-open`, size: 7,
          color: blend(colours[c % colours.length], p.fg, 0.25), line: { width: 1.6 } },
        hovertemplate: `test · class ${this.classNames[c]}<br>x=%{x:.3g}, y=%{y:.3g}<extra></extra>`,
      });
    }
    return traces;
  }

  /** Crosses over the shown test points whose predicted class is not their label. */
  wrongPoints() {
    const test = this.snapshot && this.snapshot.data && this.snapshot.data.test;
    const predicted = this.testPredicted;
    const x = [];
    const y = [];
    if (test && test.label && predicted) {
      test.label.forEach((label, i) => {
        if (predicted[i] !== undefined && predicted[i] !== null && predicted[i] !== label) {
          x.push(test.x[i]);
          y.push(test.y[i]);
        }
      });
    }
    return { x, y };
  }

  draw() {
    const p = palette();
    const s = this.shown();
    const pred = this.prediction;
    const promises = [];
    if (this.fullPending !== false) {
      const grid = s && s.target && s.target.x ? s.target
        : { x: gridFromDomain(this.task.domain[0]), y: gridFromDomain(this.task.domain[1]) };
      this.grid = grid;
      this.ranges = { x: cellRange(grid.x), y: cellRange(grid.y) };
      this.drawLegend(p); // first: its height decides the plots' size
      promises.push(Plotly.react(this.points, this.pointTraces(p), this.layout(p, { axes: true }),
        PLOT_CONFIG).then(() => this.followPoints()));
      this.listen();
    }
    this.regionCanvas.draw(pred, this.classColours(p), p.panel,
      pred ? { x: cellRange(pred.x), y: cellRange(pred.y) } : null);
    this.regionCanvas.place(this.points);
    const wrong = this.wrongPoints();
    if (this.fullPending === false && this.wrong.data && this.wrong.data.length === 1) {
      if (!sameValues(wrong.x, this.wrong.data[0].x) || !sameValues(wrong.y, this.wrong.data[0].y)) {
        promises.push(Plotly.restyle(this.wrong, { x: [wrong.x], y: [wrong.y] }, [0]));
      }
    } else {
      promises.push(Plotly.react(this.wrong, [{
        type: "scatter", mode: "markers", name: "misclassified", x: wrong.x, y: wrong.y,
        visible: !this.hidden.has("wrong"),
        marker: { symbol: "x-thin-open", size: 10, color: p.fg, line: { width: 2, color: p.fg } },
      }], this.layout(p, { axes: false }), { ...PLOT_CONFIG, staticPlot: true, displayModeBar: false }));
    }
    this.track(promises);
  }

  /** The HTML legend: one toggle per class, then test points and crosses. */
  drawLegend(p) {
    const keys = this.classNames.map((name, c) => ({
      key: `class-${c}`, label: `class ${name}`, kind: "filled",
      symbol: CLASS_SYMBOLS[c % CLASS_SYMBOLS.length], colour: p.classes[c % p.classes.length],
    }));
    keys.push({ key: "test", label: "test (outlined)", kind: "open", symbol: "circle", colour: p.muted });
    keys.push({ key: "wrong", label: "misclassified", kind: "cross", colour: p.fg });
    const buttons = keys.map(({ key, label, kind, symbol, colour }) => {
      const button = el("button", "legend-key");
      button.type = "button";
      button.dataset.key = key;
      button.setAttribute("aria-pressed", String(!this.hidden.has(key)));
      button.title = `Hide or show: ${label}`;
      button.append(legendMarker(kind, symbol, colour), document.createTextNode(label));
      return button;
    });
    const hint = el("span", "legend-hint", "paler = less sure");
    this.legend.replaceChildren(...buttons, hint);
  }

  /** A legend key was pressed: hide or show its points. */
  toggle(key) {
    if (this.hidden.has(key)) this.hidden.delete(key);
    else this.hidden.add(key);
    const visible = !this.hidden.has(key);
    const button = this.legend.querySelector(`[data-key="${key}"]`);
    if (button) button.setAttribute("aria-pressed", String(visible));
    const k = this.classNames.length;
    if (key === "wrong") Plotly.restyle(this.wrong, { visible }, [0]);
    else if (key === "test") Plotly.restyle(this.points, { visible }, [...Array(k).keys()].map((c) => k + c));
    else Plotly.restyle(this.points, { visible }, [Number(key.split("-")[1])]);
  }

  classColours(p) {
    return this.classNames.map((_, c) => p.classes[c % p.classes.length]);
  }

  render() {
    this.fullPending = this.needsFull;
    return super.render();
  }

  resize() {
    const drawn = [this.points, this.wrong].filter((gd) => gd._fullLayout);
    if (!drawn.length) return;
    Promise.all(drawn.map((gd) => Plotly.Plots.resize(gd))).then(() => this.followPoints());
  }

  /** Copies the ranges of the middle plot (after a zoom, pan or reset) to the other two. */
  followPoints() {
    const full = this.points._fullLayout;
    if (!full) return undefined;
    this.regionCanvas.place(this.points);
    const update = { "xaxis.range": full.xaxis.range.slice(), "yaxis.range": full.yaxis.range.slice() };
    return Promise.all([this.wrong]
      .filter((gd) => gd._fullLayout)
      .map((gd) => Plotly.relayout(gd, update)));
  }

  /** The network's answer under the mouse pointer, read from the latest prediction grid. */
  showReadout(event) {
    const pred = this.prediction;
    const full = this.points._fullLayout;
    if (!pred || !full || !pred.x.length) return;
    const box = this.points.getBoundingClientRect();
    const xa = full.xaxis;
    const ya = full.yaxis;
    const px = event.clientX - box.left - xa._offset;
    const py = event.clientY - box.top - ya._offset;
    if (px < 0 || py < 0 || px > xa._length || py > ya._length) {
      this.readout.textContent = "";
      return;
    }
    const x = xa.p2l(px);
    const y = ya.p2l(py);
    const nearest = (axis, v) => {
      const step = (axis[axis.length - 1] - axis[0]) / (axis.length - 1 || 1);
      return Math.min(axis.length - 1, Math.max(0, Math.round((v - axis[0]) / step)));
    };
    const i = nearest(pred.x, x);
    const j = nearest(pred.y, y);
    const c = pred.z[j] ? pred.z[j][i] : null;
    if (c === null || c === undefined) return;
    const p = pred.confidence && pred.confidence[j] ? pred.confidence[j][i] : null;
    this.readout.textContent = `(${x.toPrecision(3)}, ${y.toPrecision(3)}): class ${this.classNames[c] ?? c}`
      + (p === null || p === undefined ? "" : `, ${percent(p)} sure`);
  }

  listen() {
    if (this.listening) return;
    this.listening = true;
    this.points.on("plotly_relayout", () => this.followPoints());
    this.points.addEventListener("mousemove", (event) => this.showReadout(event));
    this.points.addEventListener("mouseleave", () => { this.readout.textContent = ""; });
    this.legend.addEventListener("click", (event) => {
      const button = event.target.closest(".legend-key");
      if (button) this.toggle(button.dataset.key);
    });
  }

  destroy() {
    this.resizer.disconnect();
    this.note.textContent = "";
    this.note.removeAttribute("data-misclassified");
    this.readout.textContent = "";
    super.destroy();
  }
}
