// The surface fit's |error| map: |ŷ − f| per grid cell on a canvas (grid_canvas.js) in Plotly's
// Cividis colours, under a Plotly plot that holds the axes, the title and the zoom (drawn once
// per run), with an HTML colour bar and a hover readout; a frame repaints only the canvas.

import { GridCanvas, colourLut } from "./grid_canvas.js";
import { cellRange } from "./decision_colours.js";
import { PLOT_CONFIG, baseLayout } from "./theme.js";

const Plotly = window.Plotly;

// Plotly's "Cividis" colour scale (plotly.js src/components/colorscale/scales.js).
export const CIVIDIS = [
  [0, "rgb(0,32,76)"], [0.058824, "rgb(0,42,102)"], [0.117647, "rgb(0,52,110)"],
  [0.176471, "rgb(39,63,108)"], [0.235294, "rgb(60,74,107)"], [0.294118, "rgb(76,85,107)"],
  [0.352941, "rgb(91,95,109)"], [0.411765, "rgb(104,106,112)"], [0.470588, "rgb(117,117,117)"],
  [0.529412, "rgb(131,129,120)"], [0.588235, "rgb(146,140,120)"], [0.647059, "rgb(161,152,118)"],
  [0.705882, "rgb(176,165,114)"], [0.764706, "rgb(192,177,109)"], [0.823529, "rgb(209,191,102)"],
  [0.882353, "rgb(225,204,92)"], [0.941176, "rgb(243,219,79)"], [1, "rgb(255,233,69)"],
];
const LUT = colourLut(CIVIDIS);
const BAR_WIDTH = 48; // px of the right margin: the colour bar and its labels

function div(className, text = "") {
  const node = document.createElement("div");
  node.className = className;
  node.textContent = text;
  return node;
}

/** |prediction − target| per cell of two grids ({z: rows}); null where either is missing. */
export function absError(prediction, target) {
  if (!prediction || !target) return null;
  return target.z.map((row, j) => row.map((t, i) => {
    const y = prediction.z[j] ? prediction.z[j][i] : null;
    return y === null || t === null || y === undefined ? null : Math.abs(y - t);
  }));
}

function largest(grid) {
  let hi = 0;
  for (const row of grid) for (const v of row) if (v !== null && Number.isFinite(v) && v > hi) hi = v;
  return hi;
}

export class ErrorMap {
  /** `el`: the map's box (#fit-error). */
  constructor(el, taskId) {
    this.el = el;
    this.taskId = taskId;
    el.classList.add("error-map");
    const under = div("plot layer");
    this.cells = new GridCanvas(under, "error-canvas");
    this.plot = div("plot layer");
    this.bar = div("error-bar");
    this.bar.setAttribute("aria-hidden", "true");
    this.barTitle = div("error-bar-title", "|ŷ − f|");
    this.barHigh = div("error-bar-high");
    this.barLow = div("error-bar-low", "0");
    const ramp = div("error-bar-ramp");
    ramp.style.background = `linear-gradient(to top, ${CIVIDIS.map(([at, c]) => `${c} ${(100 * at).toFixed(1)}%`).join(", ")})`;
    this.bar.append(this.barTitle, ramp, this.barHigh, this.barLow);
    this.tip = div("error-tip");
    this.tip.hidden = true;
    el.replaceChildren(under, this.plot, this.bar, this.tip);
    this.grid = null; // the target's {x, y} (cell centres)
    this.hi = 0;
    this.listening = false;
  }

  /** The axes, title and zoom (a new run, a new theme, a resize); `grid`: the target's grid or
   * null (no error to show: uploaded data, no run yet); `title`: the plot's title. */
  drawAxes(p, grid, title, [xTitle, yTitle] = ["x", "y"]) {
    this.grid = grid;
    const layout = baseLayout(p, { xTitle, yTitle });
    layout.margin = { l: 44, r: 6 + BAR_WIDTH, t: 30, b: 40 };
    layout.uirevision = this.taskId;
    layout.title = { text: title, font: { size: 12.5 }, x: 0.03, y: 0.97 };
    layout.hovermode = false;
    for (const [name, centres] of [["xaxis", grid && grid.x], ["yaxis", grid && grid.y]]) {
      Object.assign(layout[name], { showgrid: false, zeroline: false, visible: Boolean(grid) });
      if (centres) Object.assign(layout[name], { range: cellRange(centres), autorange: false });
    }
    this.bar.hidden = !grid;
    return Plotly.react(this.plot, [], layout, PLOT_CONFIG).then(() => {
      this.listen();
      this.cells.place(this.plot);
    });
  }

  /** Paints |prediction − target| (null: clears). */
  update(prediction, target) {
    const error = absError(prediction, target);
    if (!error) {
      this.cells.clear();
      this.barHigh.textContent = "";
      return;
    }
    const hi = largest(error) || 1;
    this.hi = hi;
    const top = LUT.length / 3 - 1;
    this.cells.paint(error, LUT, (v) => Math.round(Math.min(1, v / hi) * top),
      { x: cellRange(target.x), y: cellRange(target.y) });
    this.cells.place(this.plot);
    this.barHigh.textContent = hi.toPrecision(3);
  }

  /** The value under the pointer, as the heatmap's hover said it. */
  showTip(event) {
    const grid = this.grid;
    const cell = grid && this.cells.values ? this.cells.cellAt(this.plot, event.clientX, event.clientY, grid.x, grid.y) : null;
    const value = cell ? this.cells.values[cell.j]?.[cell.i] : null;
    if (!cell || value === null || value === undefined) {
      this.tip.hidden = true;
      return;
    }
    this.tip.innerHTML = `x=${grid.x[cell.i].toPrecision(3)}, y=${grid.y[cell.j].toPrecision(3)}<br>|ŷ − f| = ${value.toPrecision(4)}`;
    const box = this.el.getBoundingClientRect();
    this.tip.style.left = `${Math.min(event.clientX - box.left + 12, box.width - 140)}px`;
    this.tip.style.top = `${Math.max(0, event.clientY - box.top - 44)}px`;
    this.tip.hidden = false;
  }

  listen() {
    if (this.listening) return;
    this.listening = true;
    this.plot.on("plotly_relayout", () => this.cells.place(this.plot));
    this.plot.addEventListener("mousemove", (event) => this.showTip(event));
    this.plot.addEventListener("mouseleave", () => { this.tip.hidden = true; });
  }

  /** The plot area follows the box. */
  resize() {
    if (!this.plot._fullLayout) return;
    Promise.resolve(Plotly.Plots.resize(this.plot)).then(() => this.cells.place(this.plot));
  }
}
