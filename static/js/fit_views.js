// Fit views: what the network predicts against what it should predict.
// One view class per kind of task; createFitView picks it from VIEW_KINDS (regression curves
// and surfaces here, classification's decision regions in decision_view.js).
//
// View interface: setSnapshot(snapshot), setPrediction(prediction, frame), clear(), retheme(),
// render() -> true when it drew, "busy" while Plotly is still drawing, false otherwise;
// destroy().

import { ClassificationView } from "./decision_view.js";
import { ErrorMap } from "./error_map.js";
import { BaseFitView, el, extent, padded } from "./fit_base.js";
import { plottedNames } from "./slice_picker.js";
import { PLOT_CONFIG, baseLayout, palette, sceneAxis } from "./theme.js";

const Plotly = window.Plotly;

/**
 * y = f(x): target curve, training and test points, the network's prediction.
 *
 * Two stacked plots share one set of axis ranges: the static one below (axes, target, the
 * points, legend) is drawn once per run; the one on top holds only the prediction and is the
 * only thing redrawn per frame. Redrawing hundreds of SVG markers on every frame would cost
 * ten times more than the curve itself. Zooming the plot below zooms the one on top.
 */
class CurveView extends BaseFitView {
  constructor(container, task) {
    super(container, task);
    container.className = "fit-view one-d";
    this.base = el("div", "plot layer");
    this.base.id = "fit-data";
    this.plot = el("div", "plot layer overlay");
    this.plot.id = "fit-prediction";
    // Hovering the plot below reads the network's value at that x (the curve above takes no
    // pointer events); the card header shows it.
    this.readout = document.getElementById("fit-readout") || el("p");
    this.readout.textContent = "";
    container.replaceChildren(this.base, this.plot, this.empty);
    this.ranges = null;
    this.showPrediction = true;
  }

  layout(p, { axes }) {
    const layout = baseLayout(p, { xTitle: "x", yTitle: "y" });
    layout.margin = { l: 58, r: 14, t: 34, b: 42, autoexpand: false };
    layout.uirevision = this.task.id;
    layout.xaxis.range = this.ranges.x.slice();
    layout.yaxis.range = this.ranges.y.slice();
    layout.xaxis.autorange = false;
    layout.yaxis.autorange = false;
    if (!axes) {
      layout.xaxis.visible = false;
      layout.yaxis.visible = false;
      layout.showlegend = false;
      layout.hovermode = false;
    } else {
      layout.hovermode = "closest";
    }
    return layout;
  }

  /** Preview: the target curve, or an upload's points (regression data has no target curve). */
  fromPreview(answer) {
    const data = answer.data ? { train: { x: answer.data.x, y: answer.data.target },
      test: { x: [], y: [] } } : null;
    return { preview: true, target: answer.target || { x: [], y: [] }, data };
  }

  draw() {
    const p = palette();
    const s = this.shown();
    const pred = this.prediction || { x: [], y: [] };
    const promises = [];
    if (this.fullPending !== false) {
      // Uploaded data has no target function: its grid comes without y.
      const target = s && s.target && s.target.y ? s.target : { x: [], y: [] };
      const train = s && s.data ? s.data.train : { x: [], y: [] };
      const test = s && s.data && s.data.test ? s.data.test : { x: [], y: [] };
      const previewing = Boolean(s && s.preview);
      this.ranges = s ? {
        x: padded(extent([target.x, train.x, test.x]), 0.02),
        y: padded(extent([target.y, train.y, test.y]), 0.1),
      } : { x: this.task.domain[0].slice(), y: [-1.1, 1.1] }; // before any run: the task's domain
      const data = [
        { type: "scatter", mode: "markers", name: previewing ? "data" : "train data", x: train.x, y: train.y,
          marker: { color: p.trainPoints, size: 5, opacity: 0.45, symbol: "circle" },
          hovertemplate: `${previewing ? "data" : "train"}<br>x=%{x:.4g}<br>y=%{y:.4g}<extra></extra>` },
        { type: "scatter", mode: "markers", name: "test data", x: test.x, y: test.y,
          marker: { color: p.testPoints, size: 6, opacity: 0.8, symbol: "diamond-open",
            line: { width: 1.2 } },
          hovertemplate: "test<br>x=%{x:.4g}<br>y=%{y:.4g}<extra></extra>" },
        { type: "scatter", mode: "lines", name: "target f(x)", x: target.x, y: target.y,
          line: { color: p.target, width: 2, dash: "dot" },
          hovertemplate: "target<br>x=%{x:.4g}<br>f(x)=%{y:.4g}<extra></extra>" },
        // Legend entry for the curve drawn on the plot above.
        { type: "scatter", mode: "lines", name: "network", x: [null], y: [null],
          line: { color: p.prediction, width: 3.2 }, hoverinfo: "skip" },
      ];
      promises.push(Plotly.react(this.base, data, this.layout(p, { axes: true }), PLOT_CONFIG)
        .then(() => this.followBase()));
      this.listen();
    }
    if (this.fullPending === false && this.plot.data && this.plot.data.length === 1) {
      // a new prediction only: its arrays change, nothing else
      promises.push(Plotly.restyle(this.plot, { x: [pred.x], y: [pred.y] }, [0]));
    } else {
      const prediction = [{
        type: "scatter", mode: "lines", name: "network", x: pred.x, y: pred.y,
        visible: this.showPrediction, line: { color: p.prediction, width: 3.2 },
      }];
      promises.push(Plotly.react(this.plot, prediction, this.layout(p, { axes: false }),
        { ...PLOT_CONFIG, staticPlot: true, displayModeBar: false }));
    }
    this.track(promises);
  }

  render() {
    this.fullPending = this.needsFull;
    return super.render();
  }

  /** Copies the ranges the plot below shows (after a zoom, pan or reset) to the plot above. */
  followBase() {
    const full = this.base._fullLayout;
    if (!full) return undefined;
    const x = full.xaxis.range.slice();
    const y = full.yaxis.range.slice();
    const same = this.ranges && x.every((v, i) => v === this.ranges.x[i])
      && y.every((v, i) => v === this.ranges.y[i]);
    this.ranges = { x, y };
    if (same && this.plot._fullLayout) return undefined;
    return Plotly.relayout(this.plot, { "xaxis.range": x, "yaxis.range": y });
  }

  showReadout(x) {
    const pred = this.prediction;
    if (!pred || !pred.x.length || typeof x !== "number") return;
    let best = 0;
    for (let i = 1; i < pred.x.length; i++) {
      if (Math.abs(pred.x[i] - x) < Math.abs(pred.x[best] - x)) best = i;
    }
    const y = pred.y[best];
    this.readout.textContent = `network ŷ(${pred.x[best].toPrecision(4)}) = ${y === null ? "—" : y.toPrecision(5)}`;
  }

  listen() {
    if (this.listening) return;
    this.listening = true;
    this.base.on("plotly_relayout", () => this.followBase());
    this.base.on("plotly_hover", (event) => this.showReadout(event.points[0].x));
    this.base.on("plotly_unhover", () => { this.readout.textContent = ""; });
    this.base.on("plotly_legendclick", (event) => {
      if (event.curveNumber !== 3) return true;
      this.showPrediction = !this.showPrediction;
      Plotly.restyle(this.plot, { visible: this.showPrediction }, [0]);
      Plotly.restyle(this.base, { opacity: this.showPrediction ? 1 : 0.35 }, [3]);
      return false;
    });
  }
}

function zRange(grid) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const row of grid.z) {
    for (const v of row) {
      if (v === null) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

/**
 * plotly.js resamples a 50x50 surface about 4x per axis (16x the vertices) for smoother colour
 * bands; on a software-rendered WebGL that makes each redraw several times slower. The
 * prediction changes many times a second, so its trace draws the grid as it is. (plotly.js has
 * no option for this: the flag lives on the trace's scene object, reached through internals;
 * if they change, the surface is simply refined as before.)
 */
function skipRefinement(gd) {
  try {
    const scene = gd._fullLayout.scene._scene;
    for (const trace of Object.values(scene.traces)) {
      if (trace.refineData !== false) {
        trace.refineData = false;
        trace.dataScaleX = 1;
        trace.dataScaleY = 1;
      }
    }
  } catch {
    // not drawn yet, or plotly.js internals moved: nothing to do
  }
}

/**
 * z = f(x, y): the network's surface beside the target surface (same colour scale, cameras
 * linked), and a map of |error| (a canvas, error_map.js). The target is drawn once per run;
 * frames redraw only the network's surface and the error map (a 3-D redraw is the costly part).
 */
class SurfaceView extends BaseFitView {
  constructor(container, task) {
    super(container, task);
    container.className = "fit-view two-d";
    this.surface = el("div", "plot");
    this.surface.id = "fit-surface";
    this.target = el("div", "plot");
    this.target.id = "fit-target";
    this.error = el("div", "plot");
    this.error.id = "fit-error";
    this.errorMap = new ErrorMap(this.error, task.id);
    container.replaceChildren(this.surface, this.target, this.error, this.empty);
    this.linking = false;
    this.resizer = new ResizeObserver(() => this.errorMap.resize());
    this.resizer.observe(this.error);
  }

  sceneLayout(p, title, empty = false) {
    const hidden = { visible: false };
    const names = plottedNames(this.task);
    return {
      ...(empty ? { xaxis: hidden, yaxis: hidden } : {}),
      paper_bgcolor: "rgba(0,0,0,0)",
      font: { family: "system-ui, sans-serif", size: 11, color: p.fg },
      margin: { l: 0, r: 0, t: 26, b: 0 },
      uirevision: this.task.id,
      title: { text: title, font: { size: 12.5 }, x: 0.03, y: 0.97 },
      showlegend: false,
      scene: {
        xaxis: sceneAxis(p, names[0]), yaxis: sceneAxis(p, names[1]), zaxis: sceneAxis(p, ""),
        camera: { eye: { x: 1.55, y: -1.6, z: 0.95 } }, aspectmode: "cube",
      },
    };
  }

  /** Preview: the target surface, or an upload's points (regression data has no target). */
  fromPreview(answer) {
    const data = answer.data ? { train: { x: answer.data.x, y: answer.data.y,
      z: answer.data.target }, test: { x: [], y: [], z: [] } } : null;
    return { preview: true, target: answer.target || null, data };
  }

  draw() {
    const p = palette();
    const s = this.shown();
    const target = s && s.target && s.target.z ? s.target : null;
    // Uploaded data has no target function: its points stand in for the target surface.
    const points = !target && s && s.data ? s.data : null;
    const pred = this.prediction;
    const [cmin, cmax] = target ? zRange(target)
      : points ? extent([points.train.z, points.test && points.test.z]) : [0, 1];
    const noHighlight = { x: { highlight: false }, y: { highlight: false }, z: { highlight: false } };
    const promises = [];
    const full = this.fullPending !== false;

    if (!full && pred && this.surface.data && this.surface.data.length === 1) {
      // a new prediction only: the surface's heights change, nothing else
      promises.push(Plotly.restyle(this.surface, { z: [pred.z] }, [0]));
    } else {
      const surfaceData = pred ? [{
        type: "surface", name: "network", x: pred.x, y: pred.y, z: pred.z,
        colorscale: "Viridis", cmin, cmax, showscale: false, contours: noHighlight,
        hovertemplate: "network<br>x=%{x:.3g}, y=%{y:.3g}<br>ŷ=%{z:.4g}<extra></extra>",
      }] : [];
      promises.push(Plotly.react(this.surface, surfaceData,
        this.sceneLayout(p, "Network ŷ(x, y)", !pred), PLOT_CONFIG));
    }
    skipRefinement(this.surface);

    if (full) {
      const colorbar = { title: { text: "z", side: "top" }, thickness: 10, len: 0.75,
        tickfont: { color: p.fg }, outlinewidth: 0 };
      let targetData = [];
      if (target) {
        targetData = [{
          type: "surface", name: "target", x: target.x, y: target.y, z: target.z,
          colorscale: "Viridis", cmin, cmax, contours: noHighlight, colorbar,
          hovertemplate: "target<br>x=%{x:.3g}, y=%{y:.3g}<br>f=%{z:.4g}<extra></extra>",
        }];
      } else if (points) {
        targetData = [points.train, points.test].filter((part) => part && part.x.length)
          .map((part, index) => ({
            type: "scatter3d", mode: "markers", name: index ? "test data" : "data",
            x: part.x, y: part.y, z: part.z,
            marker: { size: 2.5, color: part.z, colorscale: "Viridis", cmin, cmax,
              showscale: index === 0, colorbar, symbol: index ? "diamond-open" : "circle" },
            hovertemplate: "data<br>x=%{x:.3g}, y=%{y:.3g}<br>z=%{z:.4g}<extra></extra>",
          }));
      }
      const title = points ? "Your data" : `Target ${this.task.formula}`;
      promises.push(Plotly.react(this.target, targetData,
        this.sceneLayout(p, title, !target && !points), PLOT_CONFIG));
      this.linkCameras();
    }

    if (full) {
      promises.push(this.errorMap.drawAxes(p, target, points
        ? "No error map: your data has no target function" : "Absolute error |ŷ − f|",
        plottedNames(this.task)));
    }
    this.errorMap.update(pred, target);
    this.track(promises);
  }

  render() {
    this.fullPending = this.needsFull;
    return super.render();
  }

  /** plotly draws a 3-D scene on the animation frame after the restyle (the costly part, in
   * software WebGL): the view stays busy until that frame is over and a task turn has passed
   * (a Socket.IO frame waiting is taken and acknowledged in between), so it never restyles in
   * the frame of the previous scene's draw; the newest prediction waits (latest wins). */
  track(promises) {
    const drawn = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
    super.track([Promise.all(promises).then(drawn)]);
  }

  destroy() {
    this.resizer.disconnect();
    super.destroy();
  }

  /** Rotating one 3-D view rotates the other the same way. */
  linkCameras() {
    if (this.linked) return;
    this.linked = true;
    const pairs = [[this.surface, this.target], [this.target, this.surface]];
    for (const [from, to] of pairs) {
      from.on("plotly_relayout", (change) => {
        const camera = change["scene.camera"];
        if (!camera || this.linking) return;
        this.linking = true;
        Promise.resolve(Plotly.relayout(to, { "scene.camera": camera }))
          .finally(() => { this.linking = false; });
      });
    }
  }
}

const VIEW_KINDS = {
  "regression:1": CurveView,
  "regression:2": SurfaceView,
  "classification:2": ClassificationView,
};

/** The number of plotted inputs: a task of more than two inputs is drawn over a slice of two
 * (its `domain` is the slice view's box), the others over all of theirs. */
export function plottedInputs(task) {
  return task.domain ? task.domain.length : task.inputs;
}

/** Creates the fit view for a task (falls back to the 1-D view for unknown kinds). */
export function createFitView(container, task) {
  const View = VIEW_KINDS[`${task.kind}:${plottedInputs(task)}`] || CurveView;
  return new View(container, task);
}
