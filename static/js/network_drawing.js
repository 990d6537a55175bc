// The network view's drawing: the DOM of a structure (input nodes, a thumbnail per shown neuron
// with its `data-neuron` element and canvas, one SVG line per edge, the layer labels), and the
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

/** One <line> per edge between shown neurons: lines per gap (rows of lines) and the segments
 * [x1, y1, x2, y2, gap, i, j] for hovering. */
function buildEdges(edgeGroup, anchors, shown) {
  const edges = [];
  const segments = [];
  for (let l = 0; l < shown.length - 1; l++) {
    const gapEdges = [];
    for (let i = 0; i < shown[l]; i++) {
      const row = [];
      const [x1, y1] = anchors[l][i].out;
      for (let j = 0; j < shown[l + 1]; j++) {
        const [x2, y2] = anchors[l + 1][j].in;
        const line = svg("line", { x1, y1, x2, y2, "stroke-linecap": "round" });
        edgeGroup.appendChild(line);
        row.push(line);
        segments.push([x1, y1, x2, y2, l, i, j]);
      }
      gapEdges.push(row);
    }
    edges.push(gapEdges);
  }
  return { edges, segments };
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
  const edgeSvg = svg("svg", { class: "net-edges", width, height, "aria-hidden": "true" });
  const edgeGroup = svg("g");
  const highlight = svg("path", { class: "edge-highlight", "stroke-linecap": "round", visibility: "hidden" });
  edgeSvg.append(edgeGroup, highlight);
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
  const { edges, segments } = buildEdges(edgeGroup, anchors, shown);
  const tip = div("net-tip");
  tip.setAttribute("aria-hidden", "true");
  tip.hidden = true;
  const root = div("net");
  root.append(edgeSvg, group, buildLabels(sizes, shown, plan, width), tip);
  return { root, slots, inputNodes: inputs.nodes, edges, segments, highlight, tip, thumbSize: plan.size, longest };
}

/** Colours and widths of the `edges` (per gap, rows of lines) from `weights` (per gap, rows =
 * shown of layer l, cols = shown of layer l+1; grey when there are none). */
export function paintEdges(edges, weights) {
  const p = palette();
  edges.forEach((gapEdges, l) => {
    const matrix = weights ? weights[l] : null;
    let maxAbs = 0;
    if (matrix) {
      for (const row of matrix) for (const w of row || []) if (w !== null && Math.abs(w) > maxAbs) maxAbs = Math.abs(w);
    }
    gapEdges.forEach((row, i) => row.forEach((line, j) => {
      const w = matrix && matrix[i] ? matrix[i][j] : null;
      if (w === null || w === undefined || maxAbs === 0) {
        line.setAttribute("stroke", p.muted);
        line.setAttribute("stroke-width", "0.8");
        line.setAttribute("stroke-opacity", "0.3");
        line.removeAttribute("stroke-dasharray");
        return;
      }
      const size = Math.abs(w) / maxAbs;
      line.setAttribute("stroke", w >= 0 ? p.positive : p.negative);
      line.setAttribute("stroke-width", (0.4 + 2.8 * size).toFixed(2));
      line.setAttribute("stroke-opacity", (0.15 + 0.75 * size).toFixed(2));
      if (w < 0) line.setAttribute("stroke-dasharray", "4 3");
      else line.removeAttribute("stroke-dasharray");
    }));
  });
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
