// One neuron's map enlarged beside the fit (the network view opens it on click or Enter): the
// map on a larger canvas with its input ranges, its colour scale (2-D) or value range (1-D), the
// bias and mean activation; it follows the neuron live. The fit's plots are resized when the
// box opens or closes (it takes room beside them).

import { divergingGradient, drawMap, formatNumber } from "./neuron_maps.js";
import { palette } from "./theme.js";

const SIZE = 224; // CSS px of the enlarged map: its axes and colours readable at a glance

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function resizePlots(root) {
  const Plotly = window.Plotly;
  if (!Plotly || !root) return;
  for (const gd of root.querySelectorAll(".js-plotly-plot")) {
    if (gd.offsetParent !== null && gd.data) Plotly.Plots.resize(gd);
  }
}

export class EnlargedNeuron {
  constructor(box, { onClose } = {}) {
    this.box = box;
    this.card = box.closest(".card");
    this.title = el("h3", "enlarged-title");
    this.title.id = "neuron-enlarged-title";
    const close = el("button", "button small enlarged-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "Close the enlarged neuron");
    close.addEventListener("click", () => onClose?.());
    const head = el("div", "enlarged-head");
    head.append(this.title, close);
    this.frame = el("div", "enlarged-frame");
    this.canvas = el("canvas", "enlarged-map");
    this.canvas.setAttribute("role", "img");
    this.yLabel = el("div", "enlarged-axis y");
    this.xLabel = el("div", "enlarged-axis x");
    this.frame.append(this.yLabel, this.canvas, this.xLabel);
    this.scale = el("div", "enlarged-scale");
    this.facts = el("p", "enlarged-facts");
    this.stale = el("p", "enlarged-stale");
    this.stale.hidden = true;
    box.setAttribute("role", "region");
    box.setAttribute("aria-labelledby", this.title.id);
    box.replaceChildren(head, this.frame, this.scale, this.facts, this.stale);
    box.hidden = true;
    box.addEventListener("keydown", (event) => {
      if (event.key === "Escape") onClose?.();
    });
    this.shownId = null;
  }

  /** Shows (or updates) a neuron: {id, title, map, dims, axes, scale, bias, mean, output, inputNames}. */
  show(neuron) {
    const opening = this.box.hidden;
    this.box.dataset.neuronEnlarged = neuron.id;
    this.box.hidden = false;
    this.stale.hidden = true;
    this.title.textContent = neuron.title;
    const p = palette();
    const dims = neuron.dims;
    this.frame.classList.toggle("curve", dims === 1);
    const height = dims === 1 ? Math.round(SIZE * 0.62) : SIZE;
    this.canvas.style.width = `${SIZE}px`;
    this.canvas.style.height = `${height}px`;
    if (neuron.map) drawMap(this.canvas, neuron.map, dims, neuron.scale, SIZE, height, p, { lineWidth: 1.8 });
    else drawMap(this.canvas, null);
    const names = neuron.inputNames || [];
    const axes = neuron.axes || [];
    const span = (axis) => (axis && axis.length ? `${formatNumber(axis[0])} … ${formatNumber(axis[axis.length - 1])}` : "");
    const xName = dims === 2 ? "x" : "x";
    this.xLabel.textContent = axes[0] ? `${xName} ${span(axes[0])}` : "";
    this.yLabel.textContent = dims === 2 && axes[1] ? `y ${span(axes[1])}` : "";
    const what = neuron.output ? "output" : "activation";
    if (neuron.map && neuron.scale) {
      if (dims === 2) {
        this.scale.innerHTML = "";
        const bar = el("span", "scale-bar");
        bar.style.background = divergingGradient(p);
        this.scale.append(el("span", "", formatNumber(-neuron.scale.max)), bar,
          el("span", "", formatNumber(neuron.scale.max)));
      } else {
        this.scale.textContent = `${what} ${formatNumber(neuron.scale.lo)} … ${formatNumber(neuron.scale.hi)}`;
      }
    } else {
      this.scale.textContent = "no map yet";
    }
    const facts = [];
    if (neuron.bias !== null && neuron.bias !== undefined) facts.push(`bias ${formatNumber(neuron.bias)}`);
    if (neuron.mean !== null && neuron.mean !== undefined) facts.push(`mean ${what} ${formatNumber(neuron.mean)}`);
    this.facts.textContent = facts.join(" · ");
    const over = dims === 2 ? "over x and y" : dims === 1 ? "over x" : "";
    this.canvas.setAttribute("aria-label", `${neuron.title}: its ${what} ${over}${names.length > 2 ? " (a slice of two inputs, the others at their median)" : ""}`);
    this.shownId = neuron.id;
    if (opening) this.relayout();
  }

  /** The neuron left the shown set (a wide layer's most active changed): keep its last map. */
  markStale(message) {
    this.stale.textContent = message;
    this.stale.hidden = false;
  }

  hide() {
    if (this.box.hidden) return;
    this.box.hidden = true;
    delete this.box.dataset.neuronEnlarged;
    this.shownId = null;
    this.relayout();
  }

  relayout() {
    if (this.card) this.card.classList.toggle("has-enlarged", !this.box.hidden);
    requestAnimationFrame(() => resizePlots(this.card));
  }
}
