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
// This module holds the data and decides what to redraw; network_layout.js computes where things
// go, network_drawing.js builds and paints the DOM, network_interaction.js answers the pointer
// and the keyboard (tooltips, the roving Tab stop, the enlarged neuron).

import { buildNetwork, paintEdges, paintNeurons } from "./network_drawing.js";
import { NetworkInteraction } from "./network_interaction.js";
import { MAX_SHOWN, inputNames, layerName, range } from "./network_layout.js";
import { formatNumber, mapMean } from "./neuron_maps.js";
import { sameValues } from "./same_values.js";

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
    this.inputNodes = [];
    this.edges = null; // the canvas the edges are painted on
    this.segments = []; // [x1, y1, x2, y2, gap, i, j] per edge, for hovering
    this.stats = { mapDraws: 0, builds: 0 };
    this.interaction = new NetworkInteraction(this, enlargedEl);
    new ResizeObserver(() => { this.needsFull = true; this.requestRender?.(); }).observe(container);
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
    this.captionDirty = true;
    if (names) {
      this.names = names;
      this.mapsDirty = true; // (the input nodes' names)
      this.dirty = true;
    }
    if (this.inside && this.insideFits(this.inside, network.sizes)) {
      this.sizes = network.sizes; // the look inside's weights and maps stay drawn
      return;
    }
    const hadInside = this.inside !== null;
    this.inside = null;
    const shown = network.shown || network.sizes.map((n) => Math.min(n, MAX_SHOWN));
    const key = this.structureKey;
    this.setStructure(network.sizes, shown.map((n, l) => (l === shown.length - 1 ? network.sizes[l] : n)));
    const weights = network.weights || null;
    // The same weights again (a frame between two views of the run): nothing to repaint.
    if (!hadInside && key === this.structureKey && sameValues(weights, this.weights)) return;
    this.weights = weights;
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
    if (!this.dirty && !this.captionDirty) return false;
    if (this.dirty) paintEdges(this.edges, this.segments, this.weights);
    if (this.dirty && this.mapsDirty) {
      this.mapsDirty = false;
      paintNeurons(this);
      this.interaction.refresh();
    }
    this.dirty = false;
    this.captionDirty = false;
    if (this.note.textContent !== this.caption) this.note.textContent = this.caption;
    return true;
  }

  /** Lays out input nodes, thumbnails, edges and labels for the current structure. */
  build() {
    this.stats.builds += 1;
    const drawing = buildNetwork({
      sizes: this.sizes, shown: this.shown, longest: this.longestName(),
      width: Math.max(this.container.clientWidth, 240), height: Math.max(this.container.clientHeight, 180),
    });
    this.builtLongest = drawing.longest; // the names drawn: longer ones lay the card out again
    Object.assign(this, {
      slots: drawing.slots, inputNodes: drawing.inputNodes, edges: drawing.edges,
      segments: drawing.segments, thumbSize: drawing.thumbSize,
    });
    this.container.replaceChildren(drawing.root);
    this.interaction.attach(drawing);
  }

  /** Characters of the longest input name shown. */
  longestName() {
    return Math.max(...this.names.slice(0, this.shown ? this.shown[0] : 0).map((n) => String(n).length), 1);
  }

  layerName(l) {
    return layerName(this.sizes, l);
  }

  /** The neuron index shown in slot `slot` of layer `l`. */
  indexOf(l, slot) {
    if (l === 0) return this.inputIndices[slot];
    const last = this.sizes.length - 1;
    if (l === last || !this.inside) return slot;
    return this.inside.indices[l - 1][slot];
  }

  /** The maps of layer `l` (hidden or output), or null. */
  mapsOf(l) {
    if (!this.inside) return null;
    return l === this.sizes.length - 1 ? this.inside.output : this.inside.neurons[l - 1];
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
}
