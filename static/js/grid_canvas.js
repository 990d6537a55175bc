// A grid of values drawn on a canvas, one pixel per cell, scaled up by CSS without smoothing (as
// Plotly's heatmaps with zsmooth false), and placed on the plot area of a Plotly plot drawn
// above it (axes, hover, zoom), following its zoom: a frame costs one putImageData instead of a
// new Plotly heatmap. Colours come from a lookup table (`colourLut`).

/** [r, g, b] of "#rrggbb" or "rgb(r, g, b)". */
export function rgbOf(colour) {
  const hex = colour.trim().replace("#", "");
  if (/^[0-9a-f]{6}$/i.test(hex)) {
    const n = parseInt(hex, 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  return (colour.match(/[\d.]+/g) || [255, 255, 255]).slice(0, 3).map(Number);
}

/** `n` RGB triples sampling a Plotly colour scale ([[position 0..1, colour], ...]) linearly. */
export function colourLut(scale, n = 256) {
  const lut = new Uint8ClampedArray(n * 3);
  const stops = scale.map(([at, colour]) => [at, rgbOf(colour)]);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const t = i / (n - 1);
    while (k < stops.length - 2 && t > stops[k + 1][0]) k += 1;
    const [a, from] = stops[k];
    const [b, to] = stops[Math.min(k + 1, stops.length - 1)];
    const f = b > a ? Math.min(1, Math.max(0, (t - a) / (b - a))) : 0;
    for (let c = 0; c < 3; c++) lut[3 * i + c] = from[c] + (to[c] - from[c]) * f;
  }
  return lut;
}

export class GridCanvas {
  /** `host`: the layer under the Plotly plot (the canvas is placed inside it). */
  constructor(host, className) {
    this.host = host;
    this.clip = document.createElement("div");
    this.clip.className = "grid-clip";
    this.canvas = document.createElement("canvas");
    this.canvas.className = `grid-canvas ${className}`;
    this.canvas.setAttribute("aria-hidden", "true");
    this.canvas.width = 1;
    this.canvas.height = 1;
    this.clip.appendChild(this.canvas);
    host.replaceChildren(this.clip);
    this.extent = null; // {x: [lo, hi], y: [lo, hi]}: the cells' edges the canvas covers
    this.values = null; // the last drawn values per cell (rows = y), for readers and tests
    this.draws = 0;
  }

  clear() {
    this.canvas.getContext("2d").clearRect(0, 0, this.canvas.width, this.canvas.height);
    this.values = null;
  }

  /**
   * Draws `values` (rows = y, row 0 at the bottom; null cells transparent) with `lut` (RGB
   * triples), cell colour `lut[3 * index(v)]`; `extent`: the cells' edges ({x, y} of [lo, hi]).
   */
  paint(values, lut, index, extent) {
    const rows = values.length;
    const cols = rows ? values[0].length : 0;
    if (!rows || !cols) {
      this.clear();
      return;
    }
    if (this.canvas.width !== cols) this.canvas.width = cols;
    if (this.canvas.height !== rows) this.canvas.height = rows;
    const ctx = this.canvas.getContext("2d");
    const image = ctx.createImageData(cols, rows);
    const data = image.data;
    for (let j = 0; j < rows; j++) {
      const row = values[j];
      const y = rows - 1 - j; // row j is y[j]: y grows upwards
      for (let i = 0; i < cols; i++) {
        const v = row[i];
        if (v === null || v === undefined || !Number.isFinite(v)) continue; // transparent
        const o = 4 * (y * cols + i);
        const l = 3 * index(v);
        data[o] = lut[l];
        data[o + 1] = lut[l + 1];
        data[o + 2] = lut[l + 2];
        data[o + 3] = 255;
      }
    }
    ctx.putImageData(image, 0, 0);
    this.values = values;
    this.extent = extent;
    this.draws += 1;
  }

  /** Places the canvas on the plot area of `gd` (a Plotly plot) at its current axis ranges. */
  place(gd) {
    const full = gd && gd._fullLayout;
    if (!full || !this.extent || !full.xaxis || !full.xaxis.l2p) return;
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

  /** The cell (i, j) under client point (clientX, clientY) of `gd`'s plot area, with its data
   * coordinates {x, y}, or null outside. */
  cellAt(gd, clientX, clientY, xs, ys) {
    const full = gd && gd._fullLayout;
    if (!full || !xs || !xs.length) return null;
    const box = gd.getBoundingClientRect();
    const xa = full.xaxis;
    const ya = full.yaxis;
    const px = clientX - box.left - xa._offset;
    const py = clientY - box.top - ya._offset;
    if (px < 0 || py < 0 || px > xa._length || py > ya._length) return null;
    const x = xa.p2l(px);
    const y = ya.p2l(py);
    const nearest = (axis, v) => {
      const step = (axis[axis.length - 1] - axis[0]) / (axis.length - 1 || 1);
      return Math.min(axis.length - 1, Math.max(0, Math.round((v - axis[0]) / step)));
    };
    return { i: nearest(xs, x), j: nearest(ys, y), x, y };
  }
}
