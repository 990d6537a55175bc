// The network drawn as an SVG: neurons as nodes, connections coloured by the sign of their
// weight (diverging blue/vermillion, negative also dashed) and as wide as |w| is large.
// Layers wider than MAX_SHOWN are summarised ("12 of 512 shown").

import { palette } from "./theme.js";

const SVG_NS = "http://www.w3.org/2000/svg";
export const MAX_SHOWN = 12;

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text !== undefined) node.textContent = text;
  return node;
}

export class NetworkView {
  constructor(container, note) {
    this.container = container;
    this.note = note;
    this.sizes = null;
    this.shown = null;
    this.weights = null;
    this.structureKey = "";
    this.needsFull = true;
    this.dirty = false;
    this.edges = [];
    this.caption = "";
    new ResizeObserver(() => { this.needsFull = true; this.requestRender?.(); }).observe(container);
  }

  /** Draws an architecture without weights (a preview of the form). */
  setArchitecture(sizes, caption = "") {
    const shown = sizes.map((n) => Math.min(n, MAX_SHOWN));
    this.setStructure(sizes, shown);
    this.weights = null;
    this.caption = caption;
    this.dirty = true;
  }

  /** Live network from a snapshot or frame: {sizes, shown, weights}. */
  setNetwork(network, caption = "") {
    if (!network || !network.sizes) return;
    this.setStructure(network.sizes, network.shown || network.sizes.map((n) => Math.min(n, MAX_SHOWN)));
    this.weights = network.weights || null;
    this.caption = caption;
    this.dirty = true;
  }

  setStructure(sizes, shown) {
    const key = `${sizes.join(",")}|${shown.join(",")}`;
    if (key !== this.structureKey) {
      this.structureKey = key;
      this.needsFull = true;
    }
    this.sizes = sizes;
    this.shown = shown;
  }

  retheme() {
    this.needsFull = true;
  }

  render() {
    if (!this.sizes) return false;
    if (this.needsFull) {
      this.build();
      this.needsFull = false;
      this.dirty = true;
    }
    if (!this.dirty) return false;
    this.dirty = false;
    this.paintEdges();
    this.note.textContent = this.caption;
    return true;
  }

  /** Lays out nodes and edges for the current structure. */
  build() {
    const width = Math.max(this.container.clientWidth, 300);
    const height = Math.max(this.container.clientHeight, 200);
    const { sizes, shown } = this;
    const layers = sizes.length;
    const padX = 46;
    const top = 14;
    const bottom = 40;
    const spacing = (width - 2 * padX) / Math.max(layers - 1, 1);
    const xs = sizes.map((_, l) => padX + l * spacing);
    const maxShown = Math.max(...shown);
    const usable = height - top - bottom;
    const gap = Math.min(usable / Math.max(maxShown, 1), 30);
    const radius = Math.max(3, Math.min(8, gap * 0.32));
    const positions = shown.map((n, l) => {
      const truncated = sizes[l] > n;
      const span = (n - 1) * gap + (truncated ? gap : 0);
      const y0 = top + (usable - span) / 2;
      return Array.from({ length: n }, (_, i) => [xs[l], y0 + i * gap]);
    });

    const root = svg("svg", {
      viewBox: `0 0 ${width} ${height}`, role: "img", id: "network-svg",
      "aria-label": `Network with layer sizes ${sizes.join(" → ")}`,
    });
    const edgeGroup = svg("g", { class: "edges" });
    const nodeGroup = svg("g", { class: "nodes" });
    const labelGroup = svg("g", { class: "labels" });
    this.edges = [];
    for (let l = 0; l < layers - 1; l++) {
      const layerEdges = [];
      for (let i = 0; i < shown[l]; i++) {
        const row = [];
        for (let j = 0; j < shown[l + 1]; j++) {
          const [x1, y1] = positions[l][i];
          const [x2, y2] = positions[l + 1][j];
          const line = svg("line", { x1, y1, x2, y2, "stroke-linecap": "round" });
          edgeGroup.appendChild(line);
          row.push(line);
        }
        layerEdges.push(row);
      }
      this.edges.push(layerEdges);
    }
    positions.forEach((column, l) => {
      const io = l === 0 || l === layers - 1;
      for (const [x, y] of column) {
        nodeGroup.appendChild(svg("circle", { cx: x, cy: y, r: radius, class: io ? "node io" : "node" }));
      }
      const compact = spacing < 84;
      const name = l === 0 ? (compact ? "in" : "input")
        : l === layers - 1 ? (compact ? "out" : "output")
        : compact ? `h${l}` : `hidden ${l}`;
      const lastY = column.length ? column[column.length - 1][1] : top;
      const truncated = sizes[l] > shown[l];
      if (truncated) {
        labelGroup.appendChild(svg("text", { x: xs[l], y: lastY + gap * 0.85, class: "more" }, "⋮"));
      }
      const label = svg("text", { x: xs[l], y: height - 22, class: "layer-label" }, name);
      const count = svg("text", { x: xs[l], y: height - 8, class: "layer-count" },
        truncated ? (compact ? `${shown[l]}/${sizes[l]}` : `${shown[l]} of ${sizes[l]} shown`)
          : `${sizes[l]}`);
      if (truncated) {
        count.appendChild(svg("title", {}, `${shown[l]} of ${sizes[l]} neurons shown`));
      }
      labelGroup.append(label, count);
    });
    root.append(edgeGroup, nodeGroup, labelGroup);
    this.container.replaceChildren(root);
  }

  /** Colours and widths of the edges from the current weights (grey when there are none). */
  paintEdges() {
    const p = palette();
    this.edges.forEach((layerEdges, l) => {
      const matrix = this.weights ? this.weights[l] : null;
      let maxAbs = 0;
      if (matrix) {
        for (const row of matrix) for (const w of row) if (w !== null && Math.abs(w) > maxAbs) maxAbs = Math.abs(w);
      }
      layerEdges.forEach((row, i) => row.forEach((line, j) => {
        const w = matrix && matrix[i] ? matrix[i][j] : null;
        if (w === null || w === undefined || maxAbs === 0) {
          line.setAttribute("stroke", p.muted);
          line.setAttribute("stroke-width", "0.8");
          line.setAttribute("stroke-opacity", "0.35");
          line.removeAttribute("stroke-dasharray");
          return;
        }
        const size = Math.abs(w) / maxAbs;
        line.setAttribute("stroke", w >= 0 ? p.positive : p.negative);
        line.setAttribute("stroke-width", (0.4 + 3.4 * size).toFixed(2));
        line.setAttribute("stroke-opacity", (0.15 + 0.8 * size).toFixed(2));
        if (w < 0) line.setAttribute("stroke-dasharray", "4 3");
        else line.removeAttribute("stroke-dasharray");
      }));
    });
  }
}
