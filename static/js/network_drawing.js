// The network view's drawing: the DOM of a structure (input nodes, a thumbnail per shown neuron
// with its `data-neuron` element and canvas, a canvas for the edges, the layer labels), and the
// paint of its current data (edge colours and widths from the weights, the neuron maps).

import { GAP, labelTexts, layerName, planLayout, range } from "./network_layout.js";
import { drawMap, layerScale } from "./neuron_maps.js";
import { palette } from "./theme.js";

const SVG_NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

export function div(className, text) {
  const node = document.createElement("div");
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Input nodes of layer 0 into `group`: [{node, name}] and their edge anchors. */
function buildInputs(group, k, plan) {
  const { xs, usable, top } = plan;
  const gapY = Math.min(usable / Math.max(k, 1), 30);
  const y0 = top + (usable - (k - 1) * gapY) / 2;
  const nodes = [];
  const column = [];
  for (let i = 0; i < k; i++) {
    const y = y0 + i * gapY;
    const node = div("net-input");
    node.style.left = `${xs[0] - 4}px`;
    node.style.top = `${y - 4}px`;
    const name = div("net-input-name");
    name.style.maxWidth = `${xs[0] - 8}px`;
    node.appendChild(name);
    group.appendChild(node);
    nodes.push({ node, name });
    column.push({ in: [xs[0], y], out: [xs[0] + 4, y] });
  }
  return { nodes, column };
}

/** Layer `l`'s thumbnails into `group`: slots [{el, canvas, index}] and their edge anchors. */
function buildLayer(group, l, k, last, plan) {
  const { size, columns, xs, usable, top } = plan;
  const rows = Math.ceil(k / columns[l]);
  const blockHeight = rows * size + (rows - 1) * GAP;
  const y0 = top + (usable - blockHeight) / 2;
  const slots = [];
  const column = [];
  for (let i = 0; i < k; i++) {
    const x = xs[l] + Math.floor(i / rows) * (size + GAP);
    const y = y0 + (i % rows) * (size + GAP);
    const el = div("neuron");
    el.setAttribute("role", "button");
    el.tabIndex = -1;
    el.dataset.layer = String(l);
    el.dataset.slot = String(i);
    el.dataset.kind = l === last ? "output" : "hidden";
    Object.assign(el.style, { left: `${x}px`, top: `${y}px`, width: `${size}px`, height: `${size}px` });
    const canvas = document.createElement("canvas");
    canvas.width = 1;
    canvas.height = 1;
    el.appendChild(canvas);
    group.appendChild(el);
    slots.push({ el, canvas, index: null });
    column.push({ in: [x, y + size / 2], out: [x + size, y + size / 2] });
  }
  return { slots, column };
}

/** The edges between shown neurons as segments [x1, y1, x2, y2, gap, i, j] (px in the box):
 * drawn on the edge canvas, and hovered. */
function edgeSegments(anchors, shown) {
  const segments = [];
  for (let l = 0; l < shown.length - 1; l++) {
    for (let i = 0; i < shown[l]; i++) {
      const [x1, y1] = anchors[l][i].out;
      for (let j = 0; j < shown[l + 1]; j++) {
        const [x2, y2] = anchors[l + 1][j].in;
        segments.push([x1, y1, x2, y2, l, i, j]);
      }
    }
  }
  return segments;
}

/** The canvas the edges are painted on, its backing store at the device's pixel ratio. */
function edgeCanvas(width, height) {
  const canvas = document.createElement("canvas");
  canvas.className = "net-edges";
  canvas.setAttribute("aria-hidden", "true");
  const dpr = Math.min(window.devicePixelRatio || 1, 2);
  canvas.width = Math.max(1, Math.round(width * dpr));
  canvas.height = Math.max(1, Math.round(height * dpr));
  canvas.dpr = dpr;
  return canvas;
}

/** Labels under each layer: its name and how many of its neurons are drawn. */
function buildLabels(sizes, shown, plan, width) {
  const layers = sizes.length;
  const labels = div("net-labels");
  const centres = range(layers).map((l) => (l === 0 ? plan.xs[0] : plan.xs[l] + plan.widths[l] / 2));
  for (let l = 0; l < layers; l++) {
    const centre = centres[l];
    // the room up to halfway to each neighbour (the card's edges at the ends)
    const before = l === 0 ? 2 * centre : centre - centres[l - 1];
    const after = l === layers - 1 ? 2 * (width - centre) : centres[l + 1] - centre;
    const pitch = Math.max(24, Math.min(before, after));
    const label = div("net-label");
    label.style.left = `${centre - pitch / 2}px`;
    label.style.width = `${pitch}px`;
    const { name, count } = labelTexts(sizes, shown, l, pitch);
    label.appendChild(div("layer-label", name));
    label.appendChild(div("layer-count", count));
    label.title = `${layerName(sizes, l)}: ${sizes[l] > shown[l] ? `${shown[l]} of ${sizes[l]} neurons shown` : `${sizes[l]}`}`;
    labels.appendChild(label);
  }
  return labels;
}

/**
 * The DOM of a net of `sizes` with `shown` neurons per layer in a `width` × `height` px box,
 * input names of at most `longest` characters: {root, slots (per layer, [] for the inputs),
 * inputNodes, edges, segments, highlight (the hovered edge's path), tip, thumbSize}.
 */
export function buildNetwork({ sizes, shown, longest, width, height }) {
  const plan = planLayout(shown, longest, width, height);
  const edges = edgeCanvas(width, height);
  // the hovered edge, drawn over the others
  const highlightSvg = svg("svg", { class: "net-edges", width, height, "aria-hidden": "true" });
  const highlight = svg("path", { class: "edge-highlight", "stroke-linecap": "round", visibility: "hidden" });
  highlightSvg.append(highlight);
  const group = div("net-neurons");
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", `Network ${sizes.join(" → ")}: each neuron's map of what it computes. `
    + "Arrow keys move between neurons, Enter enlarges one.");
  const inputs = buildInputs(group, shown[0], plan);
  const anchors = [inputs.column];
  const slots = [[]];
  for (let l = 1; l < sizes.length; l++) {
    const layer = buildLayer(group, l, shown[l], sizes.length - 1, plan);
    anchors.push(layer.column);
    slots.push(layer.slots);
  }
  const segments = edgeSegments(anchors, shown);
  const tip = div("net-tip");
  tip.setAttribute("aria-hidden", "true");
  tip.hidden = true;
  const root = div("net");
  root.append(edges, highlightSvg, group, buildLabels(sizes, shown, plan, width), tip);
  return { root, slots, inputNodes: inputs.nodes, edges, segments, highlight, tip, thumbSize: plan.size, longest };
}

/** Largest |w| of each gap's matrix (0 when it has none). */
function gapMaxima(weights) {
  return (weights || []).map((matrix) => {
    let maxAbs = 0;
    for (const row of matrix || []) for (const w of row || []) if (w !== null && Math.abs(w) > maxAbs) maxAbs = Math.abs(w);
    return maxAbs;
  });
}

/** Paints the `segments` on the edge `canvas` from `weights` (per gap, rows = shown of layer
 * l, cols = shown of layer l+1): coloured by sign (negative also dashed), as wide and as opaque
 * as |w| is large against the gap's largest; grey and thin when there are none. */
export function paintEdges(canvas, segments, weights) {
  const p = palette();
  const ctx = canvas.getContext("2d");
  ctx.setTransform(canvas.dpr, 0, 0, canvas.dpr, 0, 0);
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  ctx.lineCap = "round";
  const maxima = gapMaxima(weights);
  const painted = { positive: 0, negative: 0, dashed: 0, none: 0 }; // edges per style, for readers
  for (const [x1, y1, x2, y2, l, i, j] of segments) {
    const matrix = weights ? weights[l] : null;
    const w = matrix && matrix[i] ? matrix[i][j] : null;
    if (w === null || w === undefined || !maxima[l]) {
      painted.none += 1;
      ctx.strokeStyle = p.muted;
      ctx.lineWidth = 0.8;
      ctx.globalAlpha = 0.3;
      ctx.setLineDash([]);
    } else {
      const size = Math.abs(w) / maxima[l];
      painted[w >= 0 ? "positive" : "negative"] += 1;
      if (w < 0) painted.dashed += 1;
      ctx.strokeStyle = w >= 0 ? p.positive : p.negative;
      ctx.lineWidth = 0.4 + 2.8 * size;
      ctx.globalAlpha = 0.15 + 0.75 * size;
      ctx.setLineDash(w < 0 ? [4, 3] : []);
    }
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(x2, y2);
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
  ctx.setLineDash([]);
  canvas.painted = painted;
}

/** Names the input nodes and redraws every thumbnail of `view` (a NetworkView) from its
 * current `inside`, relabelling the slots whose neuron changed. */
export function paintNeurons(view) {
  const p = palette();
  const dims = view.inside ? view.inside.axes.length : 0;
  view.inputNodes.forEach(({ node, name }, slot) => {
    const index = view.inputIndices[slot];
    const text = view.names[index] ?? `input ${index + 1}`;
    if (name.textContent !== text) name.textContent = text;
    node.title = `input ${index}: ${text}`;
    name.title = text;
  });
  const selected = view.interaction.selected;
  for (let l = 1; l < view.slots.length; l++) {
    const maps = view.mapsOf(l);
    const scale = maps ? layerScale(maps) : null;
    view.slots[l].forEach((slot, i) => {
      const index = view.indexOf(l, i);
      Object.assign(slot, { index, map: maps ? maps[i] : null, scale, dims });
      const id = `${l}:${index}`;
      if (slot.el.dataset.neuron !== id) slot.el.dataset.neuron = id;
      slot.el.classList.toggle("blank", !slot.map);
      slot.el.setAttribute("aria-label", view.describe(l, i));
      slot.el.setAttribute("aria-pressed", String(Boolean(selected
        && selected.layer === l && selected.index === index)));
      if (slot.map) {
        drawMap(slot.canvas, slot.map, dims, scale, view.thumbSize, view.thumbSize, p, { lineWidth: 1 });
        view.stats.mapDraws += 1;
      } else {
        drawMap(slot.canvas, null);
      }
    });
  }
}
