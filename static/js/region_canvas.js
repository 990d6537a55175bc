// The decision regions drawn on a canvas: one pixel per grid cell (scaled up by CSS without
// smoothing, as Plotly's heatmap with zsmooth false drew them), its colour looked up in a table
// built from the regions' colour scale (decision_colours.js), so a frame costs one
// putImageData instead of a new Plotly heatmap. The canvas sits under the points' plot, placed
// on its plot area and following its zoom.

import { regionColorscale, regionValues } from "./decision_colours.js";

const STEPS = 256; // colours per class, from chance-level to sure

function rgbOf(colour) {
  const parts = colour.match(/[\d.]+/g) || [255, 255, 255];
  return parts.slice(0, 3).map(Number);
}

/** The colour table: per class, STEPS RGB triples from the scale's faint stop to its strong
 * stop (the scale's linear interpolation, sampled). */
export function regionLut(colours, background) {
  const scale = regionColorscale(colours, background);
  const lut = new Uint8ClampedArray(colours.length * STEPS * 3);
  colours.forEach((_, c) => {
    const faint = rgbOf(scale[2 * c][1]);
    const strong = rgbOf(scale[2 * c + 1][1]);
    for (let s = 0; s < STEPS; s++) {
      const t = s / (STEPS - 1);
      for (let ch = 0; ch < 3; ch++) {
        lut[3 * (c * STEPS + s) + ch] = faint[ch] + (strong[ch] - faint[ch]) * t;
      }
    }
  });
  return lut;
}

export class RegionCanvas {
  /** `host`: the layer under the points' plot (the canvas is placed inside it). */
  constructor(host) {
    this.host = host;
    this.clip = document.createElement("div");
    this.clip.className = "region-clip";
    this.canvas = document.createElement("canvas");
    this.canvas.className = "region-canvas";
    this.canvas.setAttribute("aria-hidden", "true");
    this.canvas.width = 1;
    this.canvas.height = 1;
    this.clip.appendChild(this.canvas);
    host.replaceChildren(this.clip);
    this.lutKey = "";
    this.lut = null;
    this.extent = null; // {x: [lo, hi], y: [lo, hi]}: the cells' edges the canvas covers
    this.values = null; // the last drawn z' per cell (rows = y), for readers and tests
    this.draws = 0;
  }

  /** Draws `prediction` ({x, y, z: class per cell, confidence}) of `colours.length` classes
   * over `background`; `extent`: the cells' edges ({x, y} of [lo, hi]). Null clears. */
  draw(prediction, colours, background, extent) {
    const ctx = this.canvas.getContext("2d");
    if (!prediction || !prediction.z.length) {
      ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
      this.values = null;
      return;
    }
    const key = `${colours.join()}|${background}`;
    if (key !== this.lutKey) {
      this.lut = regionLut(colours, background);
      this.lutKey = key;
    }
    const k = colours.length;
    const values = regionValues(prediction, k);
    const rows = values.length;
    const cols = values[0].length;
    if (this.canvas.width !== cols) this.canvas.width = cols;
    if (this.canvas.height !== rows) this.canvas.height = rows;
    const image = ctx.createImageData(cols, rows);
    const data = image.data;
    const lut = this.lut;
    for (let j = 0; j < rows; j++) {
      const row = values[j];
      const y = rows - 1 - j; // row j is y[j]: y grows upwards
      for (let i = 0; i < cols; i++) {
        const v = row[i];
        if (v === null) continue; // transparent
        const c = Math.min(k - 1, Math.floor(v));
        const s = Math.round(Math.min(1, (v - c) / 0.999) * (STEPS - 1));
        const o = 4 * (y * cols + i);
        const l = 3 * (c * STEPS + s);
        data[o] = lut[l];
        data[o + 1] = lut[l + 1];
        data[o + 2] = lut[l + 2];
        data[o + 3] = 255;
      }
    }
    ctx.putImageData(image, 0, 0);
    this.values = values;
    this.draws += 1;
    if (extent) this.extent = extent;
  }

  /** Places the canvas on the plot area of `gd` (the points' Plotly plot) at its current axis
   * ranges. */
  place(gd) {
    const full = gd && gd._fullLayout;
    if (!full || !this.extent) return;
    const xa = full.xaxis;
    const ya = full.yaxis;
    Object.assign(this.clip.style, {
      left: `${xa._offset}px`, top: `${ya._offset}px`, width: `${xa._length}px`, height: `${ya._length}px`,
    });
    const [x0, x1] = this.extent.x;
    const [y0, y1] = this.extent.y;
    const left = xa.l2p(x0);
    const right = xa.l2p(x1);
    const top = ya.l2p(y1);
    const bottom = ya.l2p(y0);
    Object.assign(this.canvas.style, {
      left: `${Math.min(left, right)}px`, top: `${Math.min(top, bottom)}px`,
      width: `${Math.abs(right - left)}px`, height: `${Math.abs(bottom - top)}px`,
    });
  }
}
