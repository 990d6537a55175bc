// The network drawn Playground-style: input nodes (named after the input features), every shown
// hidden neuron and the output neuron(s) as a small map of what it computes over the input space
// (neuron_maps.js), and the connections between them coloured by the sign of their weight
// (blue/vermillion, negative also dashed) and as wide as |w| is large. Layers wider than
// MAX_SHOWN show their MAX_SHOWN most active neurons ("16 of 256 shown"; the server picks them).
//
// Data: `setArchitecture` (sizes only: the preview of the form), `setNetwork` (the snapshot's
// and frames' `network`: the first neurons' weights, no maps) and `setInside` (the `inside`
// payload: maps, shown indices, biases, mean activations, weights between shown neurons), which
// wins over `network` once it arrived. The DOM is rebuilt only when the structure (sizes and the
// number of shown neurons) or the box changes; a new `inside` repaints the thumbnails and edges,
// and a slot whose neuron changed (a wide layer's most active ones) is relabelled in place.
//
// Keyboard: the neurons are one Tab stop (a roving tabindex, as in a toolbar); the arrow keys move
// between neurons (up/down within a layer, left/right across layers), Enter or Space enlarges the
// focused one, Escape closes the enlarged view. Hover or focus shows a neuron's layer, index,
// bias and mean activation; hovering an edge shows its weight.

import { PLAYGROUND_FEATURES } from "./controls.js";
import { EnlargedNeuron } from "./neuron_enlarged.js";
import { drawMap, formatNumber, layerScale, mapMean } from "./neuron_maps.js";
import { palette } from "./theme.js";

const SVG_NS = "http://www.w3.org/2000/svg";
// neurons shown per layer (all up to this many, else the most active): the server says how many
export const MAX_SHOWN = Number(document.body.dataset.neuronsShown);
const GAP = 3; // px between thumbnails of a layer
const MAX_THUMB = 88; // a small net is drawn large
const MIN_THUMB = 12;
const MIN_COLUMN_THUMB = 20; // one (then two) columns per layer while thumbnails stay this big
const CHAR_WIDTH = 6.6; // px of a character of the labels (11 px)
const LABEL_HEIGHT = 30;
const EDGE_HIT = 5; // px: how near the pointer must be to an edge to hover it
const FEATURE_LABELS = new Map(PLAYGROUND_FEATURES.map((f) => [f.text, f.label]));

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function div(className, text) {
  const node = document.createElement("div");
  node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

const range = (n) => Array.from({ length: n }, (_, i) => i);

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

/** Point-to-segment distance. */
function segmentDistance(px, py, x1, y1, x2, y2) {
  const dx = x2 - x1;
  const dy = y2 - y1;
  const len = dx * dx + dy * dy;
  const t = len ? Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / len)) : 0;
  return Math.hypot(px - (x1 + t * dx), py - (y1 + t * dy));
}

export class NetworkView {
  /** `container`: the drawing's box; `note`: its caption; `enlargedEl`: the enlarged neuron's
   * box (beside the fit). */
  constructor(container, note, { enlargedEl = null } = {}) {
    this.container = container;
    this.note = note;
    this.sizes = null;
    this.shown = null; // neurons drawn per layer (inputs, hidden..., outputs)
    this.weights = null; // per gap: rows = shown of layer l, cols = shown of layer l+1
    this.inside = null;
    this.names = [];
    this.structureKey = "";
    this.needsFull = true;
    this.dirty = false;
    this.mapsDirty = false;
    this.caption = "";
    this.slots = []; // per layer: [{el, canvas, index}] (hidden and output layers)
    this.edges = []; // per gap: rows of <line>
    this.segments = []; // [x1, y1, x2, y2, gap, i, j] per edge, for hovering
    this.focusSlot = { layer: 1, slot: 0 };
    this.hoveredEdge = null;
    this.enlarged = enlargedEl ? new EnlargedNeuron(enlargedEl, { onClose: () => this.closeEnlarged() }) : null;
    this.selected = null; // {layer, index} of the enlarged neuron
    this.stats = { mapDraws: 0, builds: 0 };
    new ResizeObserver(() => { this.needsFull = true; this.requestRender?.(); }).observe(container);
    container.addEventListener("pointermove", (event) => this.onPointerMove(event));
    container.addEventListener("pointerleave", () => this.hideTip());
    container.addEventListener("click", (event) => {
      const neuron = event.target.closest?.("[data-neuron]");
      if (neuron) this.toggleEnlarged(neuron);
    });
    container.addEventListener("keydown", (event) => this.onKeyDown(event));
    container.addEventListener("focusin", (event) => {
      const neuron = event.target.closest?.("[data-neuron]");
      if (neuron) this.showNeuronTip(neuron);
    });
    container.addEventListener("focusout", () => this.hideTip());
  }

  /** Draws an architecture without weights (a preview of the form). */
  setArchitecture(sizes, caption = "", names = null) {
    this.inside = null;
    this.setStructure(sizes, sizes.map((n, l) => (l === sizes.length - 1 ? n : Math.min(n, MAX_SHOWN))));
    this.weights = null;
    this.names = names || inputNames(sizes[0]);
    this.caption = caption;
    this.mapsDirty = true;
    this.dirty = true;
  }

  /** Live network from a snapshot or frame: {sizes, shown, weights} (used until `inside`). */
  setNetwork(network, caption = "", names = null) {
    if (!network || !network.sizes) return;
    this.caption = caption;
    if (names) this.names = names;
    if (this.inside && this.insideFits(this.inside, network.sizes)) {
      this.sizes = network.sizes;
      this.dirty = true;
      return;
    }
    this.inside = null;
    const shown = network.shown || network.sizes.map((n) => Math.min(n, MAX_SHOWN));
    this.setStructure(network.sizes, shown.map((n, l) => (l === shown.length - 1 ? network.sizes[l] : n)));
    this.weights = network.weights || null;
    this.mapsDirty = true;
    this.dirty = true;
  }

  /** The look inside (or null: none yet / switched off). Needs `setNetwork` first (sizes). */
  setInside(inside, caption = null) {
    if (caption !== null) this.caption = caption;
    if (!inside || !Array.isArray(inside.neurons) || !this.sizes || !this.insideFits(inside, this.sizes)) {
      if (this.inside) {
        this.inside = null;
        this.weights = null;
        this.mapsDirty = true;
        this.dirty = true;
      }
      return;
    }
    this.inside = inside;
    const sizes = this.sizes;
    const inputs = Math.min(sizes[0], MAX_SHOWN);
    this.setStructure(sizes, [inputs, ...inside.indices.map((ix) => ix.length), sizes[sizes.length - 1]]);
    this.inputIndices = this.pickInputs(inside.weights[0], sizes[0]);
    this.weights = inside.weights.map((matrix, gap) => (gap === 0
      ? this.inputIndices.map((k) => matrix[k]) : matrix));
    this.mapsDirty = true;
    this.dirty = true;
  }

  insideFits(inside, sizes) {
    return inside.neurons.length === sizes.length - 2 && Array.isArray(inside.indices)
      && inside.indices.length === sizes.length - 2 && Array.isArray(inside.weights);
  }

  /** The inputs drawn: all up to MAX_SHOWN, else the ones with the strongest weights out. */
  pickInputs(matrix, count) {
    if (count <= MAX_SHOWN || !Array.isArray(matrix)) return range(Math.min(count, MAX_SHOWN));
    const strength = matrix.map((row, k) => [row.reduce((s, w) => s + Math.abs(w || 0), 0), k]);
    strength.sort((a, b) => b[0] - a[0]);
    return strength.slice(0, MAX_SHOWN).map(([, k]) => k).sort((a, b) => a - b);
  }

  setStructure(sizes, shown) {
    const key = `${sizes.join(",")}|${shown.join(",")}`;
    if (key !== this.structureKey) {
      this.structureKey = key;
      this.needsFull = true;
    }
    this.sizes = sizes;
    this.shown = shown;
    if (!this.inside) this.inputIndices = range(shown[0]);
  }

  retheme() {
    this.needsFull = true;
    this.mapsDirty = true;
  }

  render() {
    if (!this.sizes) return false;
    if (this.builtLongest !== undefined && this.longestName() !== this.builtLongest) this.needsFull = true;
    if (this.needsFull) {
      this.build();
      this.needsFull = false;
      this.dirty = true;
      this.mapsDirty = true;
    }
    if (!this.dirty) return false;
    this.dirty = false;
    this.paintEdges();
    if (this.mapsDirty) {
      this.mapsDirty = false;
      this.paintNeurons();
    }
    this.note.textContent = this.caption;
    return true;
  }

  layerName(l) {
    if (l === 0) return "input";
    return l === this.sizes.length - 1 ? "output" : `hidden ${l}`;
  }

  /** The neuron index shown in slot `slot` of layer `l`. */
  indexOf(l, slot) {
    if (l === 0) return this.inputIndices[slot];
    const last = this.sizes.length - 1;
    if (l === last || !this.inside) return slot;
    return this.inside.indices[l - 1][slot];
  }

  /** Thumbnail size and sub-columns per layer that fit the box. */
  layout(width, height) {
    const { shown } = this;
    const layers = shown.length;
    const usable = Math.max(height - LABEL_HEIGHT - 8, 40);
    const longest = this.longestName();
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

  /** Characters of the longest input name shown. */
  longestName() {
    return Math.max(...this.names.slice(0, this.shown ? this.shown[0] : 0).map((n) => String(n).length), 1);
  }

  /**
   * The texts of layer `l`'s label that fit `width` px: the name and the count in words, else
   * shorter forms ("h1", "16 of 300", "16/300"); never wider than the room between its
   * neighbours, so two labels never run into each other ("16 of 3016 of 25 shown").
   */
  labelTexts(l, width) {
    const { sizes, shown } = this;
    const last = sizes.length - 1;
    const short = l === 0 ? "in" : l === last ? "out" : `h${l}`;
    const truncated = sizes[l] > shown[l];
    const counts = truncated ? [`${shown[l]} of ${sizes[l]} shown`, `${shown[l]} of ${sizes[l]}`, `${shown[l]}/${sizes[l]}`]
      : [`${sizes[l]}`];
    const fits = (text) => text.length * CHAR_WIDTH <= width - 4;
    const name = fits(this.layerName(l)) ? this.layerName(l) : short;
    const count = counts.find(fits) ?? counts[counts.length - 1];
    return { name, count };
  }

  /** Lays out input nodes, thumbnails, edges and labels for the current structure. */
  build() {
    this.stats.builds += 1;
    const width = Math.max(this.container.clientWidth, 240);
    const height = Math.max(this.container.clientHeight, 180);
    const { sizes, shown } = this;
    const layers = sizes.length;
    const plan = this.layout(width, height);
    const { size, columns, xs, usable, top } = plan;
    this.builtLongest = plan.longest; // the names drawn: longer ones lay the card out again
    // anchors[l][slot] = {in: [x, y], out: [x, y]}
    const anchors = [];
    const root = div("net");
    const edgeSvg = svg("svg", { class: "net-edges", width, height, "aria-hidden": "true" });
    const edgeGroup = svg("g");
    edgeSvg.appendChild(edgeGroup);
    const highlight = svg("path", { class: "edge-highlight", "stroke-linecap": "round", visibility: "hidden" });
    edgeSvg.appendChild(highlight);
    this.highlight = highlight;
    const group = div("net-neurons");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", `Network ${sizes.join(" → ")}: each neuron's map of what it computes. `
      + "Arrow keys move between neurons, Enter enlarges one.");
    this.slots = [];
    this.inputNodes = [];
    for (let l = 0; l < layers; l++) {
      const k = shown[l];
      const column = [];
      if (l === 0) {
        const gapY = Math.min(usable / Math.max(k, 1), 30);
        const y0 = top + (usable - (k - 1) * gapY) / 2;
        for (let i = 0; i < k; i++) {
          const y = y0 + i * gapY;
          const node = div("net-input");
          node.style.left = `${xs[0] - 4}px`;
          node.style.top = `${y - 4}px`;
          const name = div("net-input-name");
          name.style.maxWidth = `${xs[0] - 8}px`;
          node.appendChild(name);
          group.appendChild(node);
          this.inputNodes.push({ node, name });
          column.push({ in: [xs[0], y], out: [xs[0] + 4, y] });
        }
        anchors.push(column);
        this.slots.push([]);
        continue;
      }
      const rows = Math.ceil(k / columns[l]);
      const blockHeight = rows * size + (rows - 1) * GAP;
      const y0 = top + (usable - blockHeight) / 2;
      const layerSlots = [];
      for (let i = 0; i < k; i++) {
        const c = Math.floor(i / rows);
        const r = i % rows;
        const x = xs[l] + c * (size + GAP);
        const y = y0 + r * (size + GAP);
        const el = div("neuron");
        el.setAttribute("role", "button");
        el.tabIndex = -1;
        el.dataset.layer = String(l);
        el.dataset.slot = String(i);
        el.dataset.kind = l === layers - 1 ? "output" : "hidden";
        Object.assign(el.style, { left: `${x}px`, top: `${y}px`, width: `${size}px`, height: `${size}px` });
        const canvas = document.createElement("canvas");
        canvas.width = 1;
        canvas.height = 1;
        el.appendChild(canvas);
        group.appendChild(el);
        layerSlots.push({ el, canvas, index: null });
        column.push({ in: [x, y + size / 2], out: [x + size, y + size / 2] });
      }
      anchors.push(column);
      this.slots.push(layerSlots);
    }
    // Edges under the neurons.
    this.edges = [];
    this.segments = [];
    for (let l = 0; l < layers - 1; l++) {
      const gapEdges = [];
      for (let i = 0; i < shown[l]; i++) {
        const row = [];
        const [x1, y1] = anchors[l][i].out;
        for (let j = 0; j < shown[l + 1]; j++) {
          const [x2, y2] = anchors[l + 1][j].in;
          const line = svg("line", { x1, y1, x2, y2, "stroke-linecap": "round" });
          edgeGroup.appendChild(line);
          row.push(line);
          this.segments.push([x1, y1, x2, y2, l, i, j]);
        }
        gapEdges.push(row);
      }
      this.edges.push(gapEdges);
    }
    // Labels under each layer: its name and how many of its neurons are drawn.
    const labels = div("net-labels");
    const centres = range(layers).map((l) => (l === 0 ? xs[0] : xs[l] + plan.widths[l] / 2));
    for (let l = 0; l < layers; l++) {
      const centre = centres[l];
      // the room up to halfway to each neighbour (the card's edges at the ends)
      const before = l === 0 ? 2 * centre : centre - centres[l - 1];
      const after = l === layers - 1 ? 2 * (width - centre) : centres[l + 1] - centre;
      const pitch = Math.max(24, Math.min(before, after));
      const label = div("net-label");
      label.style.left = `${centre - pitch / 2}px`;
      label.style.width = `${pitch}px`;
      const { name, count } = this.labelTexts(l, pitch);
      label.appendChild(div("layer-label", name));
      label.appendChild(div("layer-count", count));
      label.title = `${this.layerName(l)}: ${sizes[l] > shown[l] ? `${shown[l]} of ${sizes[l]} neurons shown` : `${sizes[l]}`}`;
      labels.appendChild(label);
    }
    this.tip = div("net-tip");
    this.tip.setAttribute("aria-hidden", "true");
    this.tip.hidden = true;
    root.append(edgeSvg, group, labels, this.tip);
    this.container.replaceChildren(root);
    this.thumbSize = size;
    // The roving Tab stop: the slot that had it, else the first hidden (or output) neuron.
    const { layer, slot } = this.focusSlot;
    const target = this.slots[layer]?.[slot] ? this.focusSlot : { layer: 1, slot: 0 };
    this.focusSlot = target;
    const first = this.slots[target.layer]?.[target.slot];
    if (first) first.el.tabIndex = 0;
  }

  /** Colours and widths of the edges from the current weights (grey when there are none). */
  paintEdges() {
    const p = palette();
    this.edges.forEach((gapEdges, l) => {
      const matrix = this.weights ? this.weights[l] : null;
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

  /** The maps of layer `l` (hidden or output), or null. */
  mapsOf(l) {
    if (!this.inside) return null;
    return l === this.sizes.length - 1 ? this.inside.output : this.inside.neurons[l - 1];
  }

  /** Redraws every thumbnail from the current `inside` and relabels the slots. */
  paintNeurons() {
    const p = palette();
    const dims = this.inside ? this.inside.axes.length : 0;
    this.inputNodes.forEach(({ node, name }, slot) => {
      const index = this.inputIndices[slot];
      const text = this.names[index] ?? `input ${index + 1}`;
      if (name.textContent !== text) name.textContent = text;
      node.title = `input ${index}: ${text}`;
      name.title = text;
    });
    for (let l = 1; l < this.slots.length; l++) {
      const maps = this.mapsOf(l);
      const scale = maps ? layerScale(maps) : null;
      this.slots[l].forEach((slot, i) => {
        const index = this.indexOf(l, i);
        slot.index = index;
        slot.map = maps ? maps[i] : null;
        slot.scale = scale;
        slot.dims = dims;
        const id = `${l}:${index}`;
        if (slot.el.dataset.neuron !== id) slot.el.dataset.neuron = id;
        slot.el.classList.toggle("blank", !slot.map);
        slot.el.setAttribute("aria-label", this.describe(l, i));
        slot.el.setAttribute("aria-pressed", String(Boolean(this.selected
          && this.selected.layer === l && this.selected.index === index)));
        if (slot.map) {
          drawMap(slot.canvas, slot.map, dims, scale, this.thumbSize, this.thumbSize, p, { lineWidth: 1 });
          this.stats.mapDraws += 1;
        } else {
          drawMap(slot.canvas, null);
        }
      });
    }
    if (this.selected) this.updateEnlarged();
    if (this.tipFor && !this.tip.hidden && this.tipFor.isConnected) this.showNeuronTip(this.tipFor);
  }

  /** Bias and mean activation of slot i of layer l (null when unknown). */
  facts(l, i) {
    const last = this.sizes.length - 1;
    const slot = this.slots[l][i];
    if (!this.inside) return { bias: null, mean: null };
    if (l === last) return { bias: null, mean: mapMean(slot.map) };
    return { bias: this.inside.bias?.[l - 1]?.[i] ?? null, mean: this.inside.mean?.[l - 1]?.[i] ?? null };
  }

  neuronTitle(l, index) {
    const last = this.sizes.length - 1;
    return l === last ? `output ${index}` : `${this.layerName(l)} · neuron ${index}`;
  }

  describe(l, i) {
    const index = this.indexOf(l, i);
    const { bias, mean } = this.facts(l, i);
    const parts = [this.neuronTitle(l, index)];
    if (!this.inside) parts.push("no map yet");
    else {
      if (bias !== null) parts.push(`bias ${formatNumber(bias)}`);
      if (mean !== null) parts.push(`mean ${l === this.sizes.length - 1 ? "output" : "activation"} ${formatNumber(mean)}`);
    }
    return parts.join(", ");
  }

  // ---- tooltips ----------------------------------------------------------------------------

  showTip(html, x, y) {
    if (!this.tip) return;
    this.tip.innerHTML = html;
    this.tip.hidden = false;
    const box = this.container.getBoundingClientRect();
    const w = this.tip.offsetWidth;
    const h = this.tip.offsetHeight;
    const left = Math.max(0, Math.min(x + 12, box.width - w));
    const top = y - h - 10 >= 0 ? y - h - 10 : Math.min(y + 14, box.height - h);
    this.tip.style.left = `${left}px`;
    this.tip.style.top = `${Math.max(0, top)}px`;
  }

  hideTip() {
    if (this.tip) this.tip.hidden = true;
    this.tipFor = null;
    this.setHighlight(null);
  }

  showNeuronTip(el) {
    const l = Number(el.dataset.layer);
    const i = Number(el.dataset.slot);
    if (!this.slots[l] || !this.slots[l][i]) return;
    const index = this.indexOf(l, i);
    const { bias, mean } = this.facts(l, i);
    const rows = [`<b>${this.neuronTitle(l, index)}</b>`];
    if (!this.inside) rows.push("no map yet");
    else {
      if (bias !== null) rows.push(`bias ${formatNumber(bias)}`);
      if (mean !== null) rows.push(`mean ${l === this.sizes.length - 1 ? "output" : "activation"} ${formatNumber(mean)}`);
      rows.push("<span class=\"dim\">click to enlarge</span>");
    }
    this.tipFor = el;
    this.setHighlight(null);
    this.showTip(rows.join("<br>"), el.offsetLeft + el.offsetWidth / 2, el.offsetTop);
  }

  onPointerMove(event) {
    const neuron = event.target.closest?.("[data-neuron]");
    if (neuron) {
      if (this.tipFor !== neuron) this.showNeuronTip(neuron);
      return;
    }
    const box = this.container.getBoundingClientRect();
    const x = event.clientX - box.left;
    const y = event.clientY - box.top;
    let best = null;
    let bestDistance = EDGE_HIT;
    for (const segment of this.segments) {
      const d = segmentDistance(x, y, segment[0], segment[1], segment[2], segment[3]);
      if (d < bestDistance) {
        bestDistance = d;
        best = segment;
      }
    }
    if (!best) {
      this.hideTip();
      return;
    }
    const [, , , , l, i, j] = best;
    const w = this.weights && this.weights[l] && this.weights[l][i] ? this.weights[l][i][j] : null;
    const from = l === 0 ? `${this.names[this.inputIndices[i]] ?? `input ${i}`}` : this.neuronTitle(l, this.indexOf(l, i));
    const to = this.neuronTitle(l + 1, this.indexOf(l + 1, j));
    this.tipFor = null;
    this.setHighlight(best);
    this.showTip(`<b>weight ${w === null || w === undefined ? "–" : formatNumber(w)}</b><br>${from} → ${to}`, x, y);
  }

  setHighlight(segment) {
    if (!this.highlight) return;
    this.hoveredEdge = segment;
    if (!segment) {
      this.highlight.setAttribute("visibility", "hidden");
      return;
    }
    const [x1, y1, x2, y2] = segment;
    this.highlight.setAttribute("d", `M${x1} ${y1}L${x2} ${y2}`);
    this.highlight.setAttribute("visibility", "visible");
  }

  // ---- keyboard and enlarging --------------------------------------------------------------

  onKeyDown(event) {
    const el = event.target.closest?.("[data-neuron]");
    if (!el) return;
    const l = Number(el.dataset.layer);
    const i = Number(el.dataset.slot);
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      event.stopPropagation(); // Space here enlarges; it does not pause the run
      this.enlarge(el);
      return;
    }
    if (event.key === "Escape" && this.selected) {
      event.preventDefault();
      this.closeEnlarged();
      return;
    }
    const moves = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };
    let target = null;
    if (moves[event.key]) {
      const [dl, di] = moves[event.key];
      const layer = Math.max(1, Math.min(this.slots.length - 1, l + dl));
      const count = this.slots[layer].length;
      const slot = dl ? Math.round((i / Math.max(this.slots[l].length - 1, 1)) * (count - 1))
        : Math.max(0, Math.min(count - 1, i + di));
      target = { layer, slot };
    } else if (event.key === "Home") target = { layer: l, slot: 0 };
    else if (event.key === "End") target = { layer: l, slot: this.slots[l].length - 1 };
    if (!target || !this.slots[target.layer]?.[target.slot]) return;
    event.preventDefault();
    this.moveFocus(target);
  }

  moveFocus({ layer, slot }) {
    const old = this.slots[this.focusSlot.layer]?.[this.focusSlot.slot];
    if (old) old.el.tabIndex = -1;
    this.focusSlot = { layer, slot };
    const next = this.slots[layer][slot];
    next.el.tabIndex = 0;
    next.el.focus();
  }

  toggleEnlarged(el) {
    const l = Number(el.dataset.layer);
    const i = Number(el.dataset.slot);
    if (this.slots[l]?.[i]) {
      const old = this.slots[this.focusSlot.layer]?.[this.focusSlot.slot];
      if (old && old.el !== el) old.el.tabIndex = -1;
      this.focusSlot = { layer: l, slot: i };
      el.tabIndex = 0;
    }
    this.enlarge(el);
  }

  enlarge(el) {
    if (!this.enlarged) return;
    const l = Number(el.dataset.layer);
    const i = Number(el.dataset.slot);
    if (!this.slots[l]?.[i]) return;
    this.selected = { layer: l, index: this.indexOf(l, i) };
    this.updateEnlarged();
    for (const layerSlots of this.slots) {
      for (const slot of layerSlots) {
        slot.el.setAttribute("aria-pressed", String(slot.el === el));
      }
    }
  }

  closeEnlarged() {
    this.selected = null;
    if (this.enlarged) this.enlarged.hide();
    for (const layerSlots of this.slots) for (const slot of layerSlots) slot.el.setAttribute("aria-pressed", "false");
  }

  /** Shows the selected neuron, enlarged, from the latest maps (kept if it left the shown set). */
  updateEnlarged() {
    if (!this.enlarged || !this.selected) return;
    const { layer, index } = this.selected;
    if (!this.slots[layer]) {
      this.closeEnlarged();
      return;
    }
    const i = this.slots[layer].findIndex((_, k) => this.indexOf(layer, k) === index);
    if (i < 0) {
      this.enlarged.markStale(`${this.neuronTitle(layer, index)} is no longer among the ${MAX_SHOWN} most active`);
      return;
    }
    const slot = this.slots[layer][i];
    const { bias, mean } = this.facts(layer, i);
    this.enlarged.show({
      id: `${layer}:${index}`,
      title: this.neuronTitle(layer, index),
      map: slot.map || null,
      dims: this.inside ? this.inside.axes.length : 0,
      axes: this.inside ? this.inside.axes : null,
      scale: slot.scale,
      bias,
      mean,
      output: layer === this.sizes.length - 1,
      inputNames: this.names,
    });
  }
}
