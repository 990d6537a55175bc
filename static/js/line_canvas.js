// The lines of a per-epoch chart (loss, accuracy) drawn on a canvas of our own, over Plotly's
// axes. Plotly still draws the axes, grid, legend, labels, marks and the hover; its own line paths
// are hidden (app.css, `.line-canvas-chart`), so a new epoch costs a canvas redraw (a millisecond
// or so) instead of a whole Plotly redraw (about 14 ms here, whatever the points). The canvas
// draws exactly the traces of `el.data` (their x and y, as Plotly resolved their style: visible,
// line colour, width, dash and shape, opacity, a `tonexty` fill), mapped through Plotly's axes,
// so what tests read there is what is drawn.

/** Plotly's dash patterns (Drawing.dashStyle), in multiples of max(line width, 3) px. */
const DASHES = {
  solid: [], dot: [1, 1], dash: [3, 3], longdash: [5, 5], dashdot: [3, 1, 1, 1],
  longdashdot: [5, 2, 1, 2],
};

/** The layout axis object of a trace's axis id ("x", "y2" -> fullLayout.xaxis, .yaxis2). */
function axisOf(full, id) {
  return full[`${id.charAt(0)}axis${id.slice(1)}`];
}

/** A trace's points in the plot area's pixels; a point that cannot be drawn (null, not positive on
 * a log axis) is null: the line breaks there. */
function pixels(trace, xaxis, yaxis) {
  const xs = trace.x || [];
  const ys = trace.y || [];
  const points = [];
  for (let i = 0; i < xs.length; i++) {
    const x = xaxis.l2p(xaxis.c2l(xs[i]));
    const y = yaxis.l2p(yaxis.c2l(ys[i]));
    points.push(ys[i] === null || ys[i] === undefined || !Number.isFinite(x) || !Number.isFinite(y)
      ? null : [x, y]);
  }
  return points;
}

/** Adds the path through `points` to `ctx` (`hv`: steps, as Plotly's line.shape "hv"). */
function trace(ctx, points, hv) {
  let previous = null;
  for (const point of points) {
    if (!point) {
      previous = null;
      continue;
    }
    if (!previous) ctx.moveTo(point[0], point[1]);
    else {
      if (hv) ctx.lineTo(point[0], previous[1]);
      ctx.lineTo(point[0], point[1]);
    }
    previous = point;
  }
}

export class LineCanvas {
  constructor(el) {
    this.el = el;
    this.canvas = null; // made on the first draw
    this.draws = 0; // canvas redraws (tests read it through the element: el.lineCanvas)
    el.lineCanvas = this;
  }

  /** Puts the canvas over the plot area, between Plotly's axes (below) and its legend, labels
   * and hover (above); false when Plotly has not drawn the chart yet. */
  place(full) {
    const container = this.el.querySelector(".svg-container");
    if (!container || !full._size) return false;
    if (!this.canvas) {
      this.canvas = document.createElement("canvas");
      this.canvas.className = "line-canvas";
      this.canvas.setAttribute("aria-hidden", "true");
      this.el.classList.add("line-canvas-chart"); // hides Plotly's own line paths (app.css)
    }
    if (this.canvas.parentNode !== container) {
      const layers = container.querySelectorAll(":scope > svg.main-svg");
      container.insertBefore(this.canvas, layers[1] || null);
    }
    const { l, t, w, h } = full._size;
    const ratio = window.devicePixelRatio || 1;
    const width = Math.max(1, Math.round(w * ratio));
    const height = Math.max(1, Math.round(h * ratio));
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    Object.assign(this.canvas.style, { left: `${l}px`, top: `${t}px`, width: `${w}px`, height: `${h}px` });
    return true;
  }

  /** Redraws every visible trace of the chart from `el.data`. */
  draw() {
    const gd = this.el;
    const full = gd._fullLayout;
    if (!full || !gd.data || !gd._fullData || !this.place(full)) return;
    const ctx = this.canvas.getContext("2d");
    const ratio = this.canvas.width / full._size.w;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.lineJoin = "round";
    let below = null; // the previous trace's points (what a `tonexty` fill reaches down to)
    gd.data.forEach((data, i) => {
      const style = gd._fullData[i];
      const xaxis = style && axisOf(full, style.xaxis || "x");
      const yaxis = style && axisOf(full, style.yaxis || "y");
      if (!style || style.visible !== true || !xaxis || !yaxis) return;
      const points = pixels(data, xaxis, yaxis);
      ctx.globalAlpha = style.opacity ?? 1;
      if (style.fill === "tonexty" && below) this.fill(ctx, points, below, style.fillcolor);
      const line = style.line || {};
      if (line.width > 0) {
        const unit = Math.max(line.width, 3);
        ctx.setLineDash((DASHES[line.dash] || []).map((k) => k * unit));
        ctx.strokeStyle = line.color;
        ctx.lineWidth = line.width;
        ctx.beginPath();
        trace(ctx, points, line.shape === "hv");
        ctx.stroke();
      }
      below = points;
    });
    ctx.globalAlpha = 1;
    this.draws += 1;
  }

  /** Fills between `points` and the trace drawn before it (`below`), as Plotly's tonexty. */
  fill(ctx, points, below, colour) {
    const top = points.filter(Boolean);
    const bottom = below.filter(Boolean).reverse();
    if (!top.length || !bottom.length) return;
    ctx.fillStyle = colour;
    ctx.beginPath();
    ctx.moveTo(top[0][0], top[0][1]);
    for (const [x, y] of [...top.slice(1), ...bottom]) ctx.lineTo(x, y);
    ctx.closePath();
    ctx.fill();
  }
}
