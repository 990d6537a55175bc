// Decision regions of a classifier: each grid cell coloured by the class the network predicts
// there, fading toward the background where it is unsure; training points filled, test points
// outlined, misclassified test points crossed out.
//
// Three stacked plots share one set of axis ranges (as the 1-D curve view does with two):
//   below   the regions, one heatmap (redrawn per frame),
//   middle  axes, the data points, hover and zoom (drawn once per run),
//   on top  crosses over the misclassified test points (redrawn per frame; few points).
// Redrawing some 1600 SVG markers on every frame would cost far more than the heatmap.
//
// The heatmap is a single trace over z' = class + fraction, where fraction is how far the
// confidence is above chance: (p − 1/k) / (1 − 1/k) in [0, 1]. Its colour scale has one band
// per class, from almost the background (at chance) to the class colour (sure), so one trace
// shows both the class and the confidence. Cells are drawn without smoothing (smoothing would
// blend class indices across a boundary into a third class's colour).
//
// The legend is HTML above the plots (Plotly's wraps out of sight when a narrow plot has many
// classes); each key is a toggle button that hides or shows its points.

import { BaseFitView, el } from "./fit_base.js";
import { PLOT_CONFIG, baseLayout, palette } from "./theme.js";

const Plotly = window.Plotly;

/** Marker symbol per class (colour is never the only cue). */
export const CLASS_SYMBOLS = ["circle", "square", "diamond", "triangle-up", "pentagon",
  "triangle-down", "hexagram", "star", "cross", "bowtie"]; // ten: digits' classes all differ
const FAINT = 0.04; // how much of the class colour a cell at chance-level confidence shows
const STRONG = 0.4; // ... and a cell the network is sure about (points on top stay readable)
const INSIDE = 0.999; // keeps a fully sure cell inside its own class's band of the scale

function parseColour(colour) {
  const hex = colour.trim().replace("#", "");
  if (/^[0-9a-f]{6}$/i.test(hex)) {
    const n = parseInt(hex, 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  const parts = colour.match(/[\d.]+/g);
  return parts && parts.length >= 3 ? parts.slice(0, 3).map(Number) : [255, 255, 255];
}

/** `amount` of colour `top` over `base` (both "#rrggbb" or "rgb(...)"), as "rgb(...)". */
export function blend(base, top, amount) {
  const a = parseColour(base);
  const b = parseColour(top);
  const mixed = a.map((v, i) => Math.round(v + (b[i] - v) * amount));
  return `rgb(${mixed.join(",")})`;
}

/** The heatmap's colour scale over z' in [0, k]: one band per class, faint to strong. */
export function regionColorscale(colours, background) {
  const k = colours.length;
  const scale = [];
  colours.forEach((colour, c) => {
    scale.push([c / k, blend(background, colour, FAINT)]);
    scale.push([(c + 1) / k, blend(background, colour, STRONG)]);
  });
  return scale;
}

/** z' = class + how far the confidence is above chance (0..1), per grid cell; null stays null. */
export function regionValues(prediction, k) {
  const chance = 1 / k;
  const confidence = prediction.confidence || [];
  return prediction.z.map((row, j) => row.map((c, i) => {
    if (c === null || c === undefined) return null;
    const p = confidence[j] ? confidence[j][i] : null;
    const fraction = p === null || p === undefined ? 1
      : Math.min(1, Math.max(0, (p - chance) / (1 - chance)));
    return c + INSIDE * fraction;
  }));
}

/** Cell edges of an evenly spaced grid of centres: [first − step/2, last + step/2]. */
function cellRange(centres) {
  const n = centres.length;
  if (n < 2) return n ? [centres[0] - 0.5, centres[0] + 0.5] : [-1, 1];
  const half = (centres[n - 1] - centres[0]) / (n - 1) / 2;
  return [centres[0] - half, centres[n - 1] + half];
}

function gridFromDomain([lo, hi], n = 50) {
  return Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Outline of a marker symbol in a 14x14 box, as SVG points (circle: null). */
function symbolPoints(symbol) {
  const polygon = (n, radius, turn = -Math.PI / 2, inner = null) => {
    const points = [];
    const steps = inner ? 2 * n : n;
    for (let i = 0; i < steps; i++) {
      const r = inner && i % 2 ? inner : radius;
      const angle = turn + (2 * Math.PI * i) / steps;
      points.push(`${(7 + r * Math.cos(angle)).toFixed(2)},${(7 + r * Math.sin(angle)).toFixed(2)}`);
    }
    return points.join(" ");
  };
  switch (symbol) {
    case "square": return "2,2 12,2 12,12 2,12";
    case "diamond": return "7,1 13,7 7,13 1,7";
    case "triangle-up": return polygon(3, 6.5, -Math.PI / 2);
    case "triangle-down": return polygon(3, 6.5, Math.PI / 2);
    case "pentagon": return polygon(5, 6);
    case "hexagram": return polygon(6, 6.5, -Math.PI / 2, 3.8);
    case "star": return polygon(5, 6.5, -Math.PI / 2, 2.8);
    case "cross": return "5,1 9,1 9,5 13,5 13,9 9,9 9,13 5,13 5,9 1,9 1,5 5,5";
    case "bowtie": return "1,2 7,7 13,2 13,12 7,7 1,12";
    default: return null;
  }
}

/** A small inline SVG of a legend marker. */
function legendMarker(kind, symbol, colour) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 14 14");
  svg.setAttribute("aria-hidden", "true");
  svg.classList.add("marker");
  if (kind === "cross") {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", "M3,3 L11,11 M11,3 L3,11");
    path.setAttribute("stroke", colour);
    path.setAttribute("stroke-width", "2");
    svg.appendChild(path);
    return svg;
  }
  const points = symbolPoints(symbol);
  const shape = document.createElementNS(SVG_NS, points ? "polygon" : "circle");
  if (points) shape.setAttribute("points", points);
  else {
    shape.setAttribute("cx", "7");
    shape.setAttribute("cy", "7");
    shape.setAttribute("r", kind === "open" ? "5" : "5.5");
  }
  shape.setAttribute("fill", kind === "open" ? "none" : colour);
  shape.setAttribute("stroke", colour);
  shape.setAttribute("stroke-width", kind === "open" ? "1.6" : "0.8");
  svg.appendChild(shape);
  return svg;
}

function percent(p) {
  return `${(100 * p).toFixed(p >= 0.9995 ? 0 : 1)} %`;
}

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
    const layout = baseLayout(p, { xTitle: "x", yTitle: "y" });
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
    const k = this.classNames.length;
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
    const regions = pred ? [{
      type: "heatmap", name: "decision regions", x: pred.x, y: pred.y,
      z: regionValues(pred, k), zmin: 0, zmax: k, zauto: false, zsmooth: false,
      colorscale: regionColorscale(this.classColours(p), p.panel), showscale: false,
      hoverinfo: "skip",
    }] : [];
    promises.push(Plotly.react(this.regions, regions, this.layout(p, { axes: false }),
      { ...PLOT_CONFIG, staticPlot: true, displayModeBar: false }));
    const wrong = this.wrongPoints();
    promises.push(Plotly.react(this.wrong, [{
      type: "scatter", mode: "markers", name: "misclassified", x: wrong.x, y: wrong.y,
      visible: !this.hidden.has("wrong"),
      marker: { symbol: "x-thin-open", size: 10, color: p.fg, line: { width: 2, color: p.fg } },
    }], this.layout(p, { axes: false }), { ...PLOT_CONFIG, staticPlot: true, displayModeBar: false }));
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
    const drawn = [this.regions, this.points, this.wrong].filter((gd) => gd._fullLayout);
    if (!drawn.length) return;
    Promise.all(drawn.map((gd) => Plotly.Plots.resize(gd))).then(() => this.followPoints());
  }

  /** Copies the ranges of the middle plot (after a zoom, pan or reset) to the other two. */
  followPoints() {
    const full = this.points._fullLayout;
    if (!full) return undefined;
    const update = { "xaxis.range": full.xaxis.range.slice(), "yaxis.range": full.yaxis.range.slice() };
    return Promise.all([this.regions, this.wrong]
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
