// The decision regions on a canvas (grid_canvas.js): each cell's z' = class + confidence
// fraction (decision_colours.js) looked up in a table built from the regions' colour scale,
// STEPS colours per class from its faint (chance-level) to its strong (sure) stop.

import { regionColorscale, regionValues } from "./decision_colours.js";
import { GridCanvas, rgbOf } from "./grid_canvas.js";

const STEPS = 256; // colours per class, from chance-level to sure

/** The colour table: per class, STEPS RGB triples from the scale's faint stop to its strong
 * stop (the scale's linear interpolation, sampled). */
export function regionLut(colours, background) {
  const scale = regionColorscale(colours, background);
  const lut = new Uint8ClampedArray(colours.length * STEPS * 3);
  colours.forEach((_, c) => {
    const faint = rgbOf(scale[2 * c][1]);
    const strong = rgbOf(scale[2 * c + 1][1]);
    for (let s = 0; s < STEPS; s++) {
      const t = s / (STEPS - 1);
      for (let ch = 0; ch < 3; ch++) {
        lut[3 * (c * STEPS + s) + ch] = faint[ch] + (strong[ch] - faint[ch]) * t;
      }
    }
  });
  return lut;
}

export class RegionCanvas extends GridCanvas {
  constructor(host) {
    super(host, "region-canvas");
    this.lutKey = "";
    this.lut = null;
  }

  /** Draws `prediction` ({x, y, z: class per cell, confidence}) of `colours.length` classes
   * over `background`; `extent`: the cells' edges ({x, y} of [lo, hi]). Null clears. */
  draw(prediction, colours, background, extent) {
    if (!prediction || !prediction.z.length) {
      this.clear();
      return;
    }
    const key = `${colours.join()}|${background}`;
    if (key !== this.lutKey) {
      this.lut = regionLut(colours, background);
      this.lutKey = key;
    }
    const k = colours.length;
    const index = (v) => {
      const c = Math.min(k - 1, Math.floor(v));
      return c * STEPS + Math.round(Math.min(1, (v - c) / 0.999) * (STEPS - 1));
    };
    this.paint(regionValues(prediction, k), this.lut, index, extent);
  }
}
