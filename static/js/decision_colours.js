// Decision regions' colours and markers: the one-value encoding of class and confidence (see
// decision_view.js), the colour scale that draws it, and each class's marker symbol (colour is
// never the only cue) with its legend swatch.


/** Marker symbol per class (colour is never the only cue). */
export const CLASS_SYMBOLS = ["circle", "square", "diamond", "triangle-up", "pentagon",
  "triangle-down", "hexagram", "star", "cross", "bowtie"]; // ten: digits' classes all differ
const FAINT = 0.04; // how much of the class colour a cell at chance-level confidence shows
const STRONG = 0.4; // ... and a cell the network is sure about (points on top stay readable)
const INSIDE = 0.999; // keeps a fully sure cell inside its own class's band of the scale

function parseColour(colour) {
  const hex = colour.trim().replace("#", "");
  if (/^[0-9a-f]{6}$/i.test(hex)) {
    const n = parseInt(hex, 16);
    return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
  }
  const parts = colour.match(/[\d.]+/g);
  return parts && parts.length >= 3 ? parts.slice(0, 3).map(Number) : [255, 255, 255];
}

/** `amount` of colour `top` over `base` (both "#rrggbb" or "rgb(...)"), as "rgb(...)". */
export function blend(base, top, amount) {
  const a = parseColour(base);
  const b = parseColour(top);
  const mixed = a.map((v, i) => Math.round(v + (b[i] - v) * amount));
  return `rgb(${mixed.join(",")})`;
}

/** The heatmap's colour scale over z' in [0, k]: one band per class, faint to strong. */
export function regionColorscale(colours, background) {
  const k = colours.length;
  const scale = [];
  colours.forEach((colour, c) => {
    scale.push([c / k, blend(background, colour, FAINT)]);
    scale.push([(c + 1) / k, blend(background, colour, STRONG)]);
  });
  return scale;
}

/** z' = class + how far the confidence is above chance (0..1), per grid cell; null stays null. */
export function regionValues(prediction, k) {
  const chance = 1 / k;
  const confidence = prediction.confidence || [];
  return prediction.z.map((row, j) => row.map((c, i) => {
    if (c === null || c === undefined) return null;
    const p = confidence[j] ? confidence[j][i] : null;
    const fraction = p === null || p === undefined ? 1
      : Math.min(1, Math.max(0, (p - chance) / (1 - chance)));
    return c + INSIDE * fraction;
  }));
}

/** Cell edges of an evenly spaced grid of centres: [first − step/2, last + step/2]. */
export function cellRange(centres) {
  const n = centres.length;
  if (n < 2) return n ? [centres[0] - 0.5, centres[0] + 0.5] : [-1, 1];
  const half = (centres[n - 1] - centres[0]) / (n - 1) / 2;
  return [centres[0] - half, centres[n - 1] + half];
}

export function gridFromDomain([lo, hi], n = 50) {
  return Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** Outline of a marker symbol in a 14x14 box, as SVG points (circle: null). */
function symbolPoints(symbol) {
  const polygon = (n, radius, turn = -Math.PI / 2, inner = null) => {
    const points = [];
    const steps = inner ? 2 * n : n;
    for (let i = 0; i < steps; i++) {
      const r = inner && i % 2 ? inner : radius;
      const angle = turn + (2 * Math.PI * i) / steps;
      points.push(`${(7 + r * Math.cos(angle)).toFixed(2)},${(7 + r * Math.sin(angle)).toFixed(2)}`);
    }
    return points.join(" ");
  };
  switch (symbol) {
    case "square": return "2,2 12,2 12,12 2,12";
    case "diamond": return "7,1 13,7 7,13 1,7";
    case "triangle-up": return polygon(3, 6.5, -Math.PI / 2);
    case "triangle-down": return polygon(3, 6.5, Math.PI / 2);
    case "pentagon": return polygon(5, 6);
    case "hexagram": return polygon(6, 6.5, -Math.PI / 2, 3.8);
    case "star": return polygon(5, 6.5, -Math.PI / 2, 2.8);
    case "cross": return "5,1 9,1 9,5 13,5 13,9 9,9 9,13 5,13 5,9 1,9 1,5 5,5";
    case "bowtie": return "1,2 7,7 13,2 13,12 7,7 1,12";
    default: return null;
  }
}

/** A small inline SVG of a legend marker. */
export function legendMarker(kind, symbol, colour) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 14 14");
  svg.setAttribute("aria-hidden", "true");
  svg.classList.add("marker");
  if (kind === "cross") {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", "M3,3 L11,11 M11,3 L3,11");
    path.setAttribute("stroke", colour);
    path.setAttribute("stroke-width", "2");
    svg.appendChild(path);
    return svg;
  }
  const points = symbolPoints(symbol);
  const shape = document.createElementNS(SVG_NS, points ? "polygon" : "circle");
  if (points) shape.setAttribute("points", points);
  else {
    shape.setAttribute("cx", "7");
    shape.setAttribute("cy", "7");
    shape.setAttribute("r", kind === "open" ? "5" : "5.5");
  }
  shape.setAttribute("fill", kind === "open" ? "none" : colour);
  shape.setAttribute("stroke", colour);
  shape.setAttribute("stroke-width", kind === "open" ? "1.6" : "0.8");
  svg.appendChild(shape);
  return svg;
}

export function percent(p) {
  return `${(100 * p).toFixed(p >= 0.9995 ? 0 : 1)} %`;
}
