// The network view's geometry: how large the neuron thumbnails are and where each layer sits in
// a box of a given size, the layer labels that fit, the input names, and edge hit-testing.
// Pure functions of the structure (sizes, neurons shown) and the box: no DOM.

import { PLAYGROUND_FEATURES } from "./task_kinds.js";

// neurons shown per layer (all up to this many, else the most active): the server says how many
export const MAX_SHOWN = Number(document.body.dataset.neuronsShown);
export const GAP = 3; // px between thumbnails of a layer
const MAX_THUMB = 88; // a small net is drawn large
const MIN_THUMB = 12;
const MIN_COLUMN_THUMB = 20; // one (then two) columns per layer while thumbnails stay this big
const CHAR_WIDTH = 6.6; // px of a character of the labels (11 px)
const LABEL_HEIGHT = 30;
const FEATURE_LABELS = new Map(PLAYGROUND_FEATURES.map((f) => [f.text, f.label]));

export const range = (n) => Array.from({ length: n }, (_, i) => i);

/** Names of a run's network inputs: its input features (x², sin x as on their toggles), else
 * x / y, a table's feature columns, or pixel k. */
export function inputNames(count, config, task) {
  const features = config && config.input_features;
  if (Array.isArray(features) && features.length === count) {
    return features.map((f) => FEATURE_LABELS.get(f) || f);
  }
  const named = task && task.input_names; // a table's: "age", "colour=red", …
  if (Array.isArray(named) && named.length === count) return named.map(String);
  const columns = config && config.feature_columns;
  if (Array.isArray(columns) && columns.length === count) return columns.map(String);
  if (count === 1) return ["x"];
  if (count === 2) return ["x", "y"];
  const image = task && (task.image_shape || task.id === "digits");
  return range(count).map((k) => (image ? `pixel ${k}` : `x${k + 1}`));
}

/** Point-to-segment distance (px). */
export function segmentDistance(px, py, x1, y1, x2, y2) {
  const dx = x2 - x1;
  const dy = y2 - y1;
  const len = dx * dx + dy * dy;
  const t = len ? Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / len)) : 0;
  return Math.hypot(px - (x1 + t * dx), py - (y1 + t * dy));
}

/** "input", "hidden l" or "output" for layer `l` of a net of `sizes`. */
export function layerName(sizes, l) {
  if (l === 0) return "input";
  return l === sizes.length - 1 ? "output" : `hidden ${l}`;
}

/**
 * Thumbnail size and sub-columns per layer that fit a `width` × `height` px box, for `shown`
 * neurons per layer and input names of at most `longest` characters: {size, columns, widths,
 * total, xs (each layer's left edge), usable (px of height for neurons), top, gap, longest}.
 */
export function planLayout(shown, longest, width, height) {
  const layers = shown.length;
  const usable = Math.max(height - LABEL_HEIGHT - 8, 40);
  // input names get up to 30 % of the card (never cut to "s…"): 160 px at most
  const inputLabel = Math.min(160, width * 0.3, Math.max(18, longest * CHAR_WIDTH + 8));
  const left = 6 + inputLabel;
  const right = 6;
  const minGap = 16;
  const plan = (size) => {
    const perColumn = Math.max(1, Math.floor((usable + GAP) / (size + GAP)));
    const columns = shown.map((k, l) => (l === 0 ? 1 : Math.max(1, Math.ceil(k / perColumn))));
    const widths = columns.map((c, l) => (l === 0 ? 0 : c * size + (c - 1) * GAP));
    const total = left + widths.reduce((a, b) => a + b, 0) + (layers - 1) * minGap + right;
    return { size, columns, widths, total };
  };
  // The largest thumbnails that fit, preferring one column per layer, then at most two (edges
  // into a layer then cross under few thumbnails) while that keeps them at least 20 px.
  let best = null;
  for (const maxColumns of [1, 2, Infinity]) {
    const smallest = maxColumns === Infinity ? MIN_THUMB : MIN_COLUMN_THUMB;
    for (let size = MAX_THUMB; size >= smallest; size -= 1) {
      const p = plan(size);
      if (p.total <= width && Math.max(...p.columns) <= maxColumns) {
        best = p;
        break;
      }
    }
    if (best) break;
  }
  best = best || plan(MIN_THUMB);
  const spare = Math.max(0, width - best.total);
  const gap = minGap + spare / Math.max(layers - 1, 1);
  const xs = [];
  let x = left;
  for (let l = 0; l < layers; l++) {
    xs.push(x);
    x += best.widths[l] + gap;
  }
  return { ...best, xs, usable, top: 4, gap, longest };
}

/**
 * The texts of layer `l`'s label that fit `width` px: the name and the count in words, else
 * shorter forms ("h1", "16 of 300", "16/300"); never wider than the room between its
 * neighbours, so two labels never run into each other ("16 of 3016 of 25 shown").
 */
export function labelTexts(sizes, shown, l, width) {
  const last = sizes.length - 1;
  const short = l === 0 ? "in" : l === last ? "out" : `h${l}`;
  const truncated = sizes[l] > shown[l];
  const counts = truncated ? [`${shown[l]} of ${sizes[l]} shown`, `${shown[l]} of ${sizes[l]}`, `${shown[l]}/${sizes[l]}`]
    : [`${sizes[l]}`];
  const fits = (text) => text.length * CHAR_WIDTH <= width - 4;
  const name = fits(layerName(sizes, l)) ? layerName(sizes, l) : short;
  const count = counts.find(fits) ?? counts[counts.length - 1];
  return { name, count };
}
