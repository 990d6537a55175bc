// The Layers panel (TensorBoard-style): per Linear layer, its weights' and gradients' histograms
// over time as heatmaps (x: the last HISTORY looks inside, labelled by epoch; y: value; colour:
// the share of the layer's weights in a value bin), the share of dead (ReLU-like) or saturated
// (tanh, sigmoid) units, and one chart of every layer's gradient norm per epoch on a log axis.
// Values that are not finite (NaN, ±inf: a diverging run) are counted apart by the server and
// said in words ("12 of 64 weights are not finite"), never binned; so are exact zeros (L1).
//
// Each histogram comes with its own edges, which move as training goes on. The heatmap re-bins
// every kept histogram onto one common value axis per layer and kind (from the lowest to the
// highest edge of the kept histograms, ROWS bins), spreading each bin's count over the common
// bins it overlaps in proportion to the overlap: a column's total is kept, and a distribution
// that widens or shrinks (vanishing gradients) is seen doing so. Heatmaps are canvases (one
// pixel per cell); the gradient-norm chart is Plotly (few traces).

import { logAxis } from "./log_axis.js";
import { formatNumber } from "./neuron_maps.js";
import { OKABE_ITO, PLOT_CONFIG, baseLayout, palette } from "./theme.js";

const Plotly = window.Plotly;
export const HISTORY = 200; // looks inside kept in the page
const ROWS = 40; // value bins of the common axis
const HEATMAP_INTERVAL = 250; // ms: the heatmaps (canvases) at most 4 times a second
const NORMS_INTERVAL = 1000; // ms: the norms' chart (a whole Plotly redraw) at most once a second
const KINDS = [["weights", "weights"], ["grads", "gradients"]];
const DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"];
const VIRIDIS = ["#440154", "#482475", "#414487", "#355f8d", "#2a788e", "#21918c", "#22a884",
  "#44bf70", "#7ad151", "#bddf26", "#fde725"];

function rgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
const VIRIDIS_RGB = VIRIDIS.map(rgb);

function viridis(t) {
  const x = Math.max(0, Math.min(1, t)) * (VIRIDIS_RGB.length - 1);
  const i = Math.min(Math.floor(x), VIRIDIS_RGB.length - 2);
  const f = x - i;
  const a = VIRIDIS_RGB[i];
  const b = VIRIDIS_RGB[i + 1];
  return [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f];
}

// The colour of each of 256 levels, looked up per cell (no colour computed per pixel).
const LEVELS = 255;
const VIRIDIS_LUT = new Uint8ClampedArray(3 * (LEVELS + 1));
for (let level = 0; level <= LEVELS; level++) VIRIDIS_LUT.set(viridis(level / LEVELS), 3 * level);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A histogram of values that were all equal (numpy then spans v − 0.5 … v + 0.5, e.g. the
 * gradients before the first step): its value, else null. */
function pointMass(h) {
  const filled = h.counts.filter((c) => c > 0).length;
  const span = h.edges[h.edges.length - 1] - h.edges[0];
  return filled === 1 && Math.abs(span - 1) < 1e-6 ? (h.edges[0] + h.edges[h.edges.length - 1]) / 2 : null;
}

/** [lo, hi] of some histograms' edges (all-equal ones count as their single value). */
export function commonRange(histograms) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const h of histograms) {
    if (!h || !h.edges || h.edges.length < 2 || !h.counts) continue;
    if (!h.counts.some((c) => c > 0)) continue; // nothing finite: its edges say nothing
    const point = pointMass(h);
    const a = point ?? h.edges[0];
    const z = point ?? h.edges[h.edges.length - 1];
    if (Number.isFinite(a) && a < lo) lo = a;
    if (Number.isFinite(z) && z > hi) hi = z;
  }
  if (!(lo <= hi)) return [-1, 1];
  if (hi - lo < 1e-12) {
    const pad = Math.max(Math.abs(lo) * 0.1, 1e-6);
    return [lo - pad, hi + pad];
  }
  return [lo, hi];
}

/** Re-bins histograms ({edges, counts}) onto `rows` common bins over [lo, hi]: shares per column. */
export function rebin(histograms, lo, hi, rows = ROWS) {
  const width = hi - lo || 1;
  return histograms.map((h) => {
    const column = new Float64Array(rows);
    if (!h || !h.edges || !h.counts) return column;
    let total = 0;
    for (const c of h.counts) total += c || 0;
    if (!total) return column;
    const point = pointMass(h);
    if (point !== null) {
      column[Math.max(0, Math.min(rows - 1, Math.floor(((point - lo) / width) * rows)))] = 1;
      return column;
    }
    for (let b = 0; b < h.counts.length; b++) {
      const count = h.counts[b];
      if (!count) continue;
      const a = h.edges[b];
      const z = h.edges[b + 1];
      if (a === null || z === null || a === undefined || z === undefined) continue;
      const from = ((a - lo) / width) * rows;
      const to = ((z - lo) / width) * rows;
      if (to - from < 1e-12) {
        column[Math.max(0, Math.min(rows - 1, Math.floor(from)))] += count / total;
        continue;
      }
      for (let r = Math.max(0, Math.floor(from)); r < Math.min(rows, Math.ceil(to)); r++) {
        const overlap = Math.min(to, r + 1) - Math.max(from, r);
        if (overlap > 0) column[r] += (count / total) * (overlap / (to - from));
      }
    }
    return column;
  });
}

/** The number of values a histogram describes: its counts and its non-finite values. */
function described(h) {
  if (!h || !h.counts) return 0;
  return h.counts.reduce((a, b) => a + (b || 0), 0) + (h.nonfinite || 0);
}

/**
 * What a layer's counts say: `alerts` ("12 of 64 weights are not finite", also gradients) and
 * `notes` ("30 of 64 weights are exactly 0", as L1 leaves the weights it does not need).
 */
export function countsLine(layer) {
  const alerts = [];
  const notes = [];
  for (const [kind, label] of KINDS) {
    const h = layer?.[kind];
    if (h?.nonfinite) alerts.push(`${h.nonfinite} of ${described(h)} ${label} are not finite`);
  }
  const weights = layer?.weights;
  if (weights?.zeros) notes.push(`${weights.zeros} of ${described(weights)} weights are exactly 0`);
  return { alerts, notes };
}

export class LayersView {
  constructor(container, note) {
    this.container = container;
    this.note = note;
    this.blocks = [];
    this.names = [];
    this.chart = null;
    this.clear();
  }

  /** Forgets every look inside (a new run, or none). */
  clear() {
    this.history = []; // [{epoch, layers}]
    this.layerCount = 0;
    this.needsFull = true;
    this.dirty = true;
    this.normsPending = false; // looks not yet in the norms' chart
    this.normsDrawnAt = -Infinity;
  }

  hasPending() {
    return this.dirty || this.needsFull || this.normsPending;
  }

  /** The render loop's spacing (ms) of this view's draws: the heatmaps', or, when only the
   * norms' chart waits, the time until it is due. */
  get minInterval() {
    if (this.dirty || this.needsFull || !this.normsPending) return HEATMAP_INTERVAL;
    return Math.max(HEATMAP_INTERVAL, this.normsDrawnAt + NORMS_INTERVAL - (this.lastDrawn ?? 0));
  }

  /** Names of the Linear layers ("hidden 1", …, "output") from the network's sizes. */
  setSizes(sizes) {
    if (!sizes || sizes.length < 2) return;
    const names = sizes.slice(1).map((n, k) => (k === sizes.length - 2 ? "output" : `hidden ${k + 1}`));
    const shapes = sizes.slice(1).map((n, k) => `${sizes[k]} → ${n}`);
    const key = names.join(",") + shapes.join(",");
    if (key !== this.sizesKey) {
      this.sizesKey = key;
      this.names = names;
      this.shapes = shapes;
      this.needsFull = true;
    }
  }

  /** One look inside at `epoch`: its per-layer statistics join the history. */
  add(inside, epoch) {
    if (!inside || !Array.isArray(inside.layers) || !inside.layers.length) return;
    if (inside.layers.length !== this.layerCount) {
      this.history = [];
      this.layerCount = inside.layers.length;
      this.needsFull = true;
    }
    const entry = { epoch: Number.isFinite(epoch) ? epoch : null, layers: inside.layers };
    const last = this.history[this.history.length - 1];
    if (last && last.epoch === entry.epoch) this.history[this.history.length - 1] = entry;
    else this.history.push(entry);
    if (this.history.length > HISTORY) this.history.splice(0, this.history.length - HISTORY);
    this.dirty = true;
    this.normsPending = true;
  }

  retheme() {
    this.needsFull = true;
  }

  render() {
    const now = performance.now();
    const normsDue = this.normsPending && now - this.normsDrawnAt >= NORMS_INTERVAL;
    if (!this.needsFull && !this.dirty && !normsDue) return false;
    const full = this.needsFull;
    if (full) this.build();
    this.needsFull = false;
    if (this.dirty || full) this.paint();
    this.dirty = false;
    if (normsDue || full) {
      this.drawNorms(palette());
      this.normsPending = false;
      this.normsDrawnAt = now;
    }
    return true;
  }

  build() {
    const count = this.layerCount || this.names.length;
    this.container.replaceChildren();
    this.blocks = [];
    if (this.chart) {
      Plotly.purge(this.chart);
      this.chart = null;
    }
    if (!this.history.length) {
      const empty = el("p", "layers-empty", "Per-layer weight and gradient histograms and gradient norms appear here while a run trains.");
      this.container.appendChild(empty);
      return;
    }
    const grid = el("div", "layers-grid");
    for (let k = 0; k < count; k++) {
      const name = this.names[k] || `layer ${k + 1}`;
      const block = el("section", "layer-block");
      block.dataset.layer = String(k);
      const head = el("h3", "layer-block-title", name);
      const shape = el("span", "layer-shape", this.shapes?.[k] ? ` ${this.shapes[k]}` : "");
      head.appendChild(shape);
      const share = el("p", "layer-share");
      block.append(head, share);
      const maps = {};
      for (const [kind, label] of KINDS) {
        const figure = el("figure", "hist");
        const caption = el("figcaption", "hist-caption", label);
        const body = el("div", "hist-body");
        const yTop = el("span", "hist-y top");
        const yBottom = el("span", "hist-y bottom");
        const canvas = el("canvas", "hist-map");
        canvas.dataset.kind = kind;
        canvas.setAttribute("role", "img");
        canvas.width = 1;
        canvas.height = ROWS;
        const xAxis = el("div", "hist-x");
        const xFirst = el("span", "", "");
        const xLast = el("span", "", "");
        xAxis.append(xFirst, el("span", "hist-x-title", "epoch"), xLast);
        body.append(yTop, canvas, yBottom);
        figure.append(caption, body, xAxis);
        block.appendChild(figure);
        maps[kind] = { canvas, yTop, yBottom, xFirst, xLast, columns: [], lo: 0, hi: 0 };
        canvas.addEventListener("pointermove", (event) => this.hover(event, k, kind));
        canvas.addEventListener("pointerleave", () => { this.tip.hidden = true; });
      }
      grid.appendChild(block);
      this.blocks.push({ block, share, maps });
    }
    const normBlock = el("section", "layer-block grad-norm-block");
    normBlock.appendChild(el("h3", "layer-block-title", "gradient norm per layer"));
    this.chart = el("div", "grad-norm-chart");
    this.chart.id = "grad-norm-chart";
    normBlock.appendChild(this.chart);
    grid.appendChild(normBlock);
    this.tip = el("div", "net-tip layers-tip");
    this.tip.hidden = true;
    this.tip.setAttribute("aria-hidden", "true");
    this.container.append(grid, this.tip);
    this.chartDrawn = false;
  }

  paint() {
    if (!this.history.length) return;
    const p = palette();
    const latest = this.history[this.history.length - 1];
    const first = this.history[0];
    this.blocks.forEach(({ share, maps }, k) => {
      const now = latest.layers[k] || {};
      const parts = [];
      if (now.dead !== null && now.dead !== undefined) parts.push(`dead units ${Math.round(100 * now.dead)} %`);
      if (now.saturated !== null && now.saturated !== undefined) parts.push(`saturated ${Math.round(100 * now.saturated)} %`);
      // a stored epoch (replay) keeps weights only: no gradient to show, not a zero one
      parts.push(now.grad_norm === null ? "no gradients at a stored epoch" : `‖∇‖ ${formatNumber(now.grad_norm)}`);
      const counted = countsLine(now);
      share.textContent = [...counted.alerts, ...parts, ...counted.notes].join(" · ");
      share.classList.toggle("has-nonfinite", counted.alerts.length > 0);
      share.dataset.nonfinite = String(now.weights?.nonfinite ?? 0);
      share.dataset.zeros = String(now.weights?.zeros ?? 0);
      for (const [kind, label] of KINDS) {
        const view = maps[kind];
        const histograms = this.history.map((h) => (h.layers[k] ? h.layers[k][kind] : null));
        const [lo, hi] = commonRange(histograms);
        const columns = rebin(histograms, lo, hi);
        Object.assign(view, { columns, lo, hi });
        this.drawHeatmap(view.canvas, columns, p);
        view.canvas.dataset.columns = String(columns.length);
        view.yTop.textContent = formatNumber(hi);
        view.yBottom.textContent = formatNumber(lo);
        view.xFirst.textContent = first.epoch ?? "";
        view.xLast.textContent = latest.epoch ?? "";
        view.canvas.setAttribute("aria-label", `${this.names[k] || `layer ${k + 1}`}: ${label} histogram over the last ${columns.length} looks (epoch ${first.epoch ?? "?"} to ${latest.epoch ?? "?"}), values ${formatNumber(lo)} to ${formatNumber(hi)}`);
      }
    });
  }

  drawHeatmap(canvas, columns, p) {
    const width = columns.length;
    if (canvas.width !== width) canvas.width = width;
    if (canvas.height !== ROWS) canvas.height = ROWS;
    let max = 0;
    for (const column of columns) for (const v of column) if (v > max) max = v;
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(width, ROWS);
    const data = image.data;
    for (let x = 0; x < width; x++) {
      const column = columns[x];
      for (let r = 0; r < ROWS; r++) {
        const v = column[r];
        const o = 4 * ((ROWS - 1 - r) * width + x); // high values at the top
        if (!(v > 0) || !max) continue; // an empty bin stays the panel's colour
        const c = 3 * Math.round(Math.sqrt(Math.min(1, v / max)) * LEVELS);
        data[o] = VIRIDIS_LUT[c];
        data[o + 1] = VIRIDIS_LUT[c + 1];
        data[o + 2] = VIRIDIS_LUT[c + 2];
        data[o + 3] = 255;
      }
    }
    ctx.putImageData(image, 0, 0);
    canvas.dataset.theme = p.dark ? "dark" : "light";
  }

  hover(event, k, kind) {
    const view = this.blocks[k]?.maps[kind];
    if (!view || !view.columns.length) return;
    const box = event.target.getBoundingClientRect();
    const x = Math.min(view.columns.length - 1, Math.floor(((event.clientX - box.left) / box.width) * view.columns.length));
    const r = Math.min(ROWS - 1, Math.floor((1 - (event.clientY - box.top) / box.height) * ROWS));
    const step = (view.hi - view.lo) / ROWS;
    const from = view.lo + r * step;
    const entry = this.history[x];
    const share = view.columns[x][r];
    this.tip.innerHTML = `<b>epoch ${entry?.epoch ?? "?"}</b><br>${kind === "grads" ? "gradient" : "weight"} ${formatNumber(from)} … ${formatNumber(from + step)}<br>${(100 * share).toFixed(1)} % of them`;
    this.tip.hidden = false;
    const outer = this.container.getBoundingClientRect();
    const left = Math.min(event.clientX - outer.left + 12, outer.width - this.tip.offsetWidth);
    this.tip.style.left = `${Math.max(0, left)}px`;
    this.tip.style.top = `${Math.max(0, event.clientY - outer.top - this.tip.offsetHeight - 10)}px`;
  }

  drawNorms(p) {
    if (!this.chart) return;
    const epochs = this.history.map((h) => h.epoch);
    const colours = [p.dark ? OKABE_ITO.skyBlue : OKABE_ITO.blue, p.dark ? OKABE_ITO.orange : OKABE_ITO.vermillion,
      OKABE_ITO.green, OKABE_ITO.purple, p.dark ? OKABE_ITO.yellow : OKABE_ITO.black, OKABE_ITO.skyBlue];
    const data = this.blocks.map((_, k) => {
      const name = this.names[k] || `layer ${k + 1}`;
      return {
        type: "scatter", mode: "lines", name, x: epochs,
        y: this.history.map((h) => {
          const v = h.layers[k] ? h.layers[k].grad_norm : null;
          return Number.isFinite(v) && v > 0 ? v : null;
        }),
        line: { color: colours[k % colours.length], dash: DASHES[k % DASHES.length], width: 1.8 },
        hovertemplate: `%{y:.3g}<extra>${name}</extra>`,
      };
    });
    const layout = baseLayout(p, { xTitle: "epoch", yTitle: "‖gradient‖" });
    Object.assign(layout, { margin: { l: 52, r: 8, t: 26, b: 36 }, uirevision: "norms", hovermode: "x unified" });
    layout.margin.l = 62;
    layout.yaxis.type = "log";
    layout.yaxis.exponentformat = "power";
    // Whole decades, at most 7 labels however many decades the norms span (log_axis.js).
    Object.assign(layout.yaxis, logAxis(data.flatMap((trace) => trace.y)));
    layout.legend.font = { size: 10.5 };
    Plotly.react(this.chart, data, layout, PLOT_CONFIG);
  }
}
