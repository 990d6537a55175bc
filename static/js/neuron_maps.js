// Drawing of neuron maps on small canvases (no Plotly: a 20×20 map is one putImageData).
// 2-D maps: a diverging colour per grid point, negative → the panel colour → positive, the same
// Okabe-Ito pair as the weights (vermillion/blue in light, orange/sky blue in dark: colour-blind
// safe); the canvas holds one pixel per grid point and CSS scales it (smoothly). 1-D maps: a
// sparkline over the grid, the area above zero tinted positive, below negative.

import { palette } from "./theme.js";

function rgb(hex) {
  const h = hex.trim().replace("#", "");
  const full = h.length === 3 ? [...h].map((c) => c + c).join("") : h;
  const n = parseInt(full, 16);
  return Number.isNaN(n) ? [128, 128, 128] : [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

const LUT_SIZE = 256;
let cachedLut = null;
let cachedKey = "";

/** The diverging scale for the current theme: 256 RGB triples from −1 to +1. */
export function divergingLut(p = palette()) {
  const key = `${p.negative}|${p.panel}|${p.positive}`;
  if (key === cachedKey) return cachedLut;
  const neg = rgb(p.negative);
  const mid = rgb(p.panel);
  const pos = rgb(p.positive);
  const lut = new Uint8ClampedArray(LUT_SIZE * 3);
  for (let i = 0; i < LUT_SIZE; i++) {
    const t = (i / (LUT_SIZE - 1)) * 2 - 1;
    const [from, to, f] = t < 0 ? [mid, neg, -t] : [mid, pos, t];
    for (let c = 0; c < 3; c++) lut[3 * i + c] = from[c] + (to[c] - from[c]) * f;
  }
  cachedLut = lut;
  cachedKey = key;
  return lut;
}

/** A CSS linear-gradient of the diverging scale (for legends). */
export function divergingGradient(p = palette()) {
  return `linear-gradient(to right, ${p.negative}, ${p.panel}, ${p.positive})`;
}

/** [lo, hi] of the finite values of some maps (arrays or arrays of rows); [0, 0] if none. */
export function mapsExtent(maps) {
  let lo = Infinity;
  let hi = -Infinity;
  const visit = (values) => {
    for (const v of values) {
      if (Array.isArray(v)) visit(v);
      else if (v !== null && v !== undefined && Number.isFinite(v)) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  };
  for (const map of maps || []) if (map) visit(map);
  return lo <= hi ? [lo, hi] : [0, 0];
}

/** The scale of a layer's maps: the largest |value| (colours are symmetric about zero) and the
 * extent including zero (for curves). */
export function layerScale(maps) {
  const [lo, hi] = mapsExtent(maps);
  const max = Math.max(Math.abs(lo), Math.abs(hi), 1e-6);
  return { max, lo: Math.min(lo, 0), hi: Math.max(hi, 0) };
}

/** Draws a 2-D map (rows = y, first row at the bottom) on `canvas`, one pixel per grid point. */
export function drawHeatmap(canvas, map, scale, p = palette()) {
  const rows = map.length;
  const cols = rows ? map[0].length : 0;
  if (!rows || !cols) return;
  if (canvas.width !== cols) canvas.width = cols;
  if (canvas.height !== rows) canvas.height = rows;
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(cols, rows);
  const data = image.data;
  const lut = divergingLut(p);
  const max = scale.max || 1;
  for (let j = 0; j < rows; j++) {
    const row = map[j];
    const y = rows - 1 - j; // row j is ys[j]: y grows upwards
    for (let i = 0; i < cols; i++) {
      const v = row[i];
      const o = 4 * (y * cols + i);
      if (v === null || v === undefined || !Number.isFinite(v)) {
        data[o + 3] = 0;
        continue;
      }
      const t = Math.max(-1, Math.min(1, v / max));
      const k = 3 * Math.round(((t + 1) / 2) * (LUT_SIZE - 1));
      data[o] = lut[k];
      data[o + 1] = lut[k + 1];
      data[o + 2] = lut[k + 2];
      data[o + 3] = 255;
    }
  }
  ctx.putImageData(image, 0, 0);
}

/** Sizes a canvas's backing store to its CSS box (× device pixels); returns [width, height]. */
function fitBacking(canvas, width, height) {
  const dpr = Math.min(window.devicePixelRatio || 1, 2);
  const w = Math.max(1, Math.round(width * dpr));
  const h = Math.max(1, Math.round(height * dpr));
  if (canvas.width !== w) canvas.width = w;
  if (canvas.height !== h) canvas.height = h;
  return [w, h, dpr];
}

/** Draws a 1-D map as a sparkline filling `canvas` (CSS size `width` × `height`). */
export function drawCurve(canvas, curve, scale, width, height, p = palette(), { lineWidth = 1.4 } = {}) {
  const [w, h, dpr] = fitBacking(canvas, width, height);
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, w, h);
  const n = curve.length;
  if (n < 2) return;
  const pad = 2 * dpr;
  const lo = scale.lo;
  const hi = scale.hi > lo ? scale.hi : lo + 1;
  const yOf = (v) => pad + (h - 2 * pad) * (1 - (v - lo) / (hi - lo));
  const xOf = (i) => (i / (n - 1)) * w;
  const zero = yOf(0);
  // The zero line, then the area between the curve and zero, tinted by sign.
  ctx.strokeStyle = p.zero;
  ctx.lineWidth = dpr;
  ctx.beginPath();
  ctx.moveTo(0, zero);
  ctx.lineTo(w, zero);
  ctx.stroke();
  const path = new Path2D();
  let open = false;
  const line = new Path2D();
  let lastX = 0;
  for (let i = 0; i < n; i++) {
    const v = curve[i];
    if (v === null || v === undefined || !Number.isFinite(v)) {
      if (open) path.lineTo(lastX, zero);
      open = false;
      continue;
    }
    const x = xOf(i);
    const y = yOf(v);
    if (!open) {
      path.moveTo(x, zero);
      line.moveTo(x, y);
      open = true;
    } else {
      line.lineTo(x, y);
    }
    path.lineTo(x, y);
    lastX = x;
  }
  if (open) path.lineTo(lastX, zero);
  for (const [colour, top] of [[p.positive, true], [p.negative, false]]) {
    ctx.save();
    ctx.beginPath();
    if (top) ctx.rect(0, 0, w, zero);
    else ctx.rect(0, zero, w, h - zero);
    ctx.clip();
    ctx.globalAlpha = 0.35;
    ctx.fillStyle = colour;
    ctx.fill(path);
    ctx.restore();
  }
  ctx.strokeStyle = p.fg;
  ctx.lineWidth = lineWidth * dpr;
  ctx.lineJoin = "round";
  ctx.stroke(line);
}

/** Draws a map of either kind: `dims` 1 (curve) or 2 (heatmap). */
export function drawMap(canvas, map, dims, scale, width, height, p = palette(), options = {}) {
  if (!map) {
    canvas.getContext("2d").clearRect(0, 0, canvas.width, canvas.height);
    return;
  }
  if (dims === 2) drawHeatmap(canvas, map, scale, p);
  else drawCurve(canvas, map, scale, width, height, p, options);
}

/** Mean of a map's finite values (null if none). */
export function mapMean(map) {
  let sum = 0;
  let count = 0;
  const visit = (values) => {
    for (const v of values) {
      if (Array.isArray(v)) visit(v);
      else if (v !== null && Number.isFinite(v)) {
        sum += v;
        count += 1;
      }
    }
  };
  if (map) visit(map);
  return count ? sum / count : null;
}

/** A number for tooltips and labels: 3 significant digits, a real minus sign. */
export function formatNumber(value) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "–";
  const abs = Math.abs(value);
  const text = abs !== 0 && (abs < 1e-3 || abs >= 1e4) ? value.toExponential(2) : value.toPrecision(3);
  return text.replace("-", "−");
}
