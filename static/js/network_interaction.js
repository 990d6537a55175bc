// The network view's interaction: tooltips (a neuron's layer, index, bias and mean activation on
// hover or focus; an edge's weight on hover, with the edge highlighted), the keyboard (the
// neurons are one Tab stop, a roving tabindex as in a toolbar; arrows move between neurons,
// up/down within a layer, left/right across layers; Enter or Space enlarges the focused one,
// Escape closes the enlarged view) and the enlarged neuron beside the fit.

import { MAX_SHOWN, segmentDistance } from "./network_layout.js";
import { EnlargedNeuron } from "./neuron_enlarged.js";
import { formatNumber } from "./neuron_maps.js";

const EDGE_HIT = 5; // px: how near the pointer must be to an edge to hover it
const MOVES = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };

export class NetworkInteraction {
  /** `view`: the NetworkView whose drawing this answers (its slots, segments, weights, facts);
   * `enlargedEl`: the enlarged neuron's box, or null. */
  constructor(view, enlargedEl) {
    this.view = view;
    this.container = view.container;
    this.tip = null;
    this.tipFor = null;
    this.highlight = null;
    this.hoveredEdge = null;
    this.focusSlot = { layer: 1, slot: 0 };
    this.enlarged = enlargedEl ? new EnlargedNeuron(enlargedEl, { onClose: () => this.closeEnlarged() }) : null;
    this.selected = null; // {layer, index} of the enlarged neuron
    const container = this.container;
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

  /** A new drawing: its tip and edge highlight; the roving Tab stop stays on the slot that had
   * it, else the first hidden (or output) neuron. */
  attach({ tip, highlight }) {
    this.tip = tip;
    this.highlight = highlight;
    const slots = this.view.slots;
    const { layer, slot } = this.focusSlot;
    const target = slots[layer]?.[slot] ? this.focusSlot : { layer: 1, slot: 0 };
    this.focusSlot = target;
    const first = slots[target.layer]?.[target.slot];
    if (first) first.el.tabIndex = 0;
  }

  /** The maps were repainted: the enlarged neuron and an open neuron tip follow. */
  refresh() {
    if (this.selected) this.updateEnlarged();
    if (this.tipFor && this.tip && !this.tip.hidden && this.tipFor.isConnected) this.showNeuronTip(this.tipFor);
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
    const view = this.view;
    const l = Number(el.dataset.layer);
    const i = Number(el.dataset.slot);
    if (!view.slots[l] || !view.slots[l][i]) return;
    const index = view.indexOf(l, i);
    const { bias, mean } = view.facts(l, i);
    const rows = [`<b>${view.neuronTitle(l, index)}</b>`];
    if (!view.inside) rows.push("no map yet");
    else {
      if (bias !== null) rows.push(`bias ${formatNumber(bias)}`);
      if (mean !== null) rows.push(`mean ${l === view.sizes.length - 1 ? "output" : "activation"} ${formatNumber(mean)}`);
      rows.push("<span class=\"dim\">click to enlarge</span>");
    }
    this.tipFor = el;
    this.setHighlight(null);
    this.showTip(rows.join("<br>"), el.offsetLeft + el.offsetWidth / 2, el.offsetTop);
  }

  /** The edge within EDGE_HIT px of (x, y) px in the box, or null. */
  edgeAt(x, y) {
    let best = null;
    let bestDistance = EDGE_HIT;
    for (const segment of this.view.segments) {
      const d = segmentDistance(x, y, segment[0], segment[1], segment[2], segment[3]);
      if (d < bestDistance) {
        bestDistance = d;
        best = segment;
      }
    }
    return best;
  }

  onPointerMove(event) {
    const neuron = event.target.closest?.("[data-neuron]");
    if (neuron) {
      if (this.tipFor !== neuron) this.showNeuronTip(neuron);
      return;
    }
    const view = this.view;
    const box = this.container.getBoundingClientRect();
    const x = event.clientX - box.left;
    const y = event.clientY - box.top;
    const best = this.edgeAt(x, y);
    if (!best) {
      this.hideTip();
      return;
    }
    const [, , , , l, i, j] = best;
    const w = view.weights && view.weights[l] && view.weights[l][i] ? view.weights[l][i][j] : null;
    const from = l === 0 ? `${view.names[view.inputIndices[i]] ?? `input ${i}`}` : view.neuronTitle(l, view.indexOf(l, i));
    const to = view.neuronTitle(l + 1, view.indexOf(l + 1, j));
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
    const slots = this.view.slots;
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
    let target = null;
    if (MOVES[event.key]) {
      const [dl, di] = MOVES[event.key];
      const layer = Math.max(1, Math.min(slots.length - 1, l + dl));
      const count = slots[layer].length;
      const slot = dl ? Math.round((i / Math.max(slots[l].length - 1, 1)) * (count - 1))
        : Math.max(0, Math.min(count - 1, i + di));
      target = { layer, slot };
    } else if (event.key === "Home") target = { layer: l, slot: 0 };
    else if (event.key === "End") target = { layer: l, slot: slots[l].length - 1 };
    if (!target || !slots[target.layer]?.[target.slot]) return;
    event.preventDefault();
    this.moveFocus(target);
  }

  moveFocus({ layer, slot }) {
    const slots = this.view.slots;
    const old = slots[this.focusSlot.layer]?.[this.focusSlot.slot];
    if (old) old.el.tabIndex = -1;
    this.focusSlot = { layer, slot };
    const next = slots[layer][slot];
    next.el.tabIndex = 0;
    next.el.focus();
  }

  toggleEnlarged(el) {
    const slots = this.view.slots;
    const l = Number(el.dataset.layer);
    const i = Number(el.dataset.slot);
    if (slots[l]?.[i]) {
      const old = slots[this.focusSlot.layer]?.[this.focusSlot.slot];
      if (old && old.el !== el) old.el.tabIndex = -1;
      this.focusSlot = { layer: l, slot: i };
      el.tabIndex = 0;
    }
    this.enlarge(el);
  }

  enlarge(el) {
    if (!this.enlarged) return;
    const slots = this.view.slots;
    const l = Number(el.dataset.layer);
    const i = Number(el.dataset.slot);
    if (!slots[l]?.[i]) return;
    this.selected = { layer: l, index: this.view.indexOf(l, i) };
    this.updateEnlarged();
    for (const layerSlots of slots) {
      for (const slot of layerSlots) slot.el.setAttribute("aria-pressed", String(slot.el === el));
    }
  }

  closeEnlarged() {
    this.selected = null;
    if (this.enlarged) this.enlarged.hide();
    for (const layerSlots of this.view.slots) for (const slot of layerSlots) slot.el.setAttribute("aria-pressed", "false");
  }

  /** Shows the selected neuron, enlarged, from the latest maps (kept if it left the shown set). */
  updateEnlarged() {
    const view = this.view;
    if (!this.enlarged || !this.selected) return;
    const { layer, index } = this.selected;
    if (!view.slots[layer]) {
      this.closeEnlarged();
      return;
    }
    const i = view.slots[layer].findIndex((_, k) => view.indexOf(layer, k) === index);
    if (i < 0) {
      this.enlarged.markStale(`${view.neuronTitle(layer, index)} is no longer among the ${MAX_SHOWN} most active`);
      return;
    }
    const slot = view.slots[layer][i];
    const { bias, mean } = view.facts(layer, i);
    this.enlarged.show({
      id: `${layer}:${index}`,
      title: view.neuronTitle(layer, index),
      map: slot.map || null,
      dims: view.inside ? view.inside.axes.length : 0,
      axes: view.inside ? view.inside.axes : null,
      scale: slot.scale,
      bias,
      mean,
      output: layer === view.sizes.length - 1,
      inputNames: view.names,
    });
  }
}
