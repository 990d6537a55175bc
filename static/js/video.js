// Download video (issue 28): the replay of the fit view (curve, surface seen from above, or
// decision regions) drawn on a canvas, one stored epoch a frame with the epoch and the losses
// written on it, recorded by the browser's MediaRecorder as WebM (VP9 or VP8). At most
// MAX_SECONDS long: a run with more stored epochs than that many frames is thinned evenly. The
// recorded file gets its duration written in (webm_duration.js), so players can seek.

import { withDuration } from "./webm_duration.js";

const WIDTH = 640;
const HEIGHT = 400;
const MAX_SECONDS = 30;
const PAD = { left: 44, right: 16, top: 40, bottom: 30 };
const CLASS_COLOURS = ["#1f77b4", "#e08a00", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
  "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/** The WebM type this browser records, or null when it cannot. */
export function videoType() {
  if (typeof MediaRecorder === "undefined") return null;
  return ["video/webm;codecs=vp9", "video/webm;codecs=vp8", "video/webm"]
    .find((type) => MediaRecorder.isTypeSupported(type)) || null;
}

/** The epochs a video of `epochs` at `fps` shows: all, or evenly thinned to MAX_SECONDS (the
 * last always). */
export function videoEpochs(epochs, fps) {
  const most = Math.max(2, Math.floor(MAX_SECONDS * fps));
  if (epochs.length <= most) return epochs.slice();
  const picked = [];
  for (let k = 0; k < most; k++) picked.push(epochs[Math.round((k * (epochs.length - 1)) / (most - 1))]);
  return [...new Set(picked)];
}

/** Records `views` (/view answers, in order) at `fps` frames per second; `losses(epoch)` gives
 * {train, test} (or nulls), `target` the task's curve ({x, y}, 1-D regression) if any. Resolves
 * to a WebM Blob. */
export async function recordVideo(views, { fps, losses, target = null, title = "" }) {
  const type = videoType();
  if (!type) throw new Error("this browser cannot record video (no MediaRecorder with WebM)");
  const canvas = document.createElement("canvas");
  canvas.width = WIDTH;
  canvas.height = HEIGHT;
  const context = canvas.getContext("2d");
  const scale = valueRange(views, target);
  const draw = (view) => drawFrame(context, view, { scale, target, title, losses: losses(view.epoch) });
  draw(views[0]);
  const stream = canvas.captureStream(fps);
  const recorder = new MediaRecorder(stream, { mimeType: type, videoBitsPerSecond: 2_000_000 });
  const chunks = [];
  recorder.ondataavailable = (event) => { if (event.data && event.data.size) chunks.push(event.data); };
  const stopped = new Promise((resolve) => { recorder.onstop = resolve; });
  recorder.start(250);
  const started = performance.now();
  for (let k = 0; k < views.length; k++) {
    draw(views[k]);
    const due = started + ((k + 1) * 1000) / fps; // frames keep the chosen pace in real time
    await new Promise((resolve) => { setTimeout(resolve, Math.max(0, due - performance.now())); });
  }
  recorder.stop();
  await stopped;
  const milliseconds = performance.now() - started; // as long as it was recorded, in real time
  for (const track of stream.getTracks()) track.stop();
  return withDuration(new Blob(chunks, { type: "video/webm" }), milliseconds);
}

/** The fixed value range of the frames' predictions (and the target): colours and axes stay
 * put while the video plays. */
function valueRange(views, target) {
  let lo = Infinity;
  let hi = -Infinity;
  const take = (value) => {
    if (Number.isFinite(value)) { lo = Math.min(lo, value); hi = Math.max(hi, value); }
  };
  if (target && Array.isArray(target.y) && !target.z) target.y.forEach(take);
  for (const view of views) {
    const p = view.prediction || {};
    if (p.confidence) return { lo: 0, hi: 1 };
    (p.z ? p.z.flat() : p.y || []).forEach(take);
  }
  if (!(hi > lo)) { lo = Number.isFinite(lo) ? lo - 1 : -1; hi = lo + 2; }
  return { lo, hi };
}

function drawFrame(context, view, { scale, target, title, losses }) {
  context.fillStyle = "#ffffff";
  context.fillRect(0, 0, WIDTH, HEIGHT);
  const p = view.prediction || {};
  if (p.confidence) drawRegions(context, p);
  else if (p.z) drawSurface(context, p, scale);
  else drawCurve(context, p, target, scale);
  context.fillStyle = "#1b1f24";
  context.font = "bold 16px sans-serif";
  context.textBaseline = "top";
  const format = (value) => (Number.isFinite(value) ? value.toPrecision(4) : "–");
  context.fillText(`epoch ${view.epoch}   train ${format(losses.train)}   test ${format(losses.test)}`, PAD.left, 10);
  context.font = "12px sans-serif";
  context.textAlign = "right";
  context.fillText(title, WIDTH - PAD.right, 12);
  context.textAlign = "left";
}

const plotWidth = WIDTH - PAD.left - PAD.right;
const plotHeight = HEIGHT - PAD.top - PAD.bottom;

function drawCurve(context, prediction, target, scale) {
  const xs = prediction.x || [];
  if (!xs.length) return;
  const x0 = xs[0];
  const x1 = xs[xs.length - 1];
  const px = (x) => PAD.left + ((x - x0) / (x1 - x0 || 1)) * plotWidth;
  const margin = (scale.hi - scale.lo) * 0.05;
  const py = (y) => PAD.top + (1 - (y - scale.lo + margin) / (scale.hi - scale.lo + 2 * margin)) * plotHeight;
  context.strokeStyle = "#d0d4da";
  context.lineWidth = 1;
  context.strokeRect(PAD.left, PAD.top, plotWidth, plotHeight);
  const line = (x, y, colour, dash, width) => {
    context.strokeStyle = colour;
    context.setLineDash(dash);
    context.lineWidth = width;
    context.beginPath();
    let drawing = false;
    for (let i = 0; i < x.length; i++) {
      if (!Number.isFinite(y[i])) { drawing = false; continue; }
      if (drawing) context.lineTo(px(x[i]), py(y[i]));
      else context.moveTo(px(x[i]), py(y[i]));
      drawing = true;
    }
    context.stroke();
    context.setLineDash([]);
  };
  if (target && Array.isArray(target.y) && target.y.length === (target.x || []).length) {
    line(target.x, target.y, "#444c56", [4, 4], 1.5);
  }
  line(xs, prediction.y || [], "#d55e00", [], 3);
  context.fillStyle = "#57606a";
  context.font = "11px sans-serif";
  context.fillText(`x from ${x0} to ${x1}`, PAD.left, HEIGHT - 18);
}

function cells(context, rows, colour) {
  const ny = rows.length;
  const nx = ny ? rows[0].length : 0;
  const w = plotWidth / (nx || 1);
  const h = plotHeight / (ny || 1);
  for (let j = 0; j < ny; j++) {
    for (let i = 0; i < nx; i++) {
      context.fillStyle = colour(j, i);
      // row 0 is the lowest y: drawn at the bottom, as the dashboard's plots show it
      context.fillRect(PAD.left + i * w, PAD.top + (ny - 1 - j) * h, Math.ceil(w), Math.ceil(h));
    }
  }
}

function drawSurface(context, prediction, scale) {
  const span = scale.hi - scale.lo || 1;
  cells(context, prediction.z, (j, i) => {
    const value = prediction.z[j][i];
    if (!Number.isFinite(value)) return "#bbbbbb";
    const t = Math.min(1, Math.max(0, (value - scale.lo) / span));
    // blue (low) through white to orange (high)
    const mix = (a, b) => Math.round(a + (b - a) * Math.abs(2 * t - 1));
    return t < 0.5 ? `rgb(${mix(255, 33)},${mix(255, 102)},${mix(255, 172)})`
      : `rgb(${mix(255, 213)},${mix(255, 94)},${mix(255, 0)})`;
  });
}

function drawRegions(context, prediction) {
  cells(context, prediction.z, (j, i) => {
    const colour = CLASS_COLOURS[prediction.z[j][i] % CLASS_COLOURS.length] || "#999999";
    const confidence = prediction.confidence[j][i];
    const alpha = Number.isFinite(confidence) ? 0.25 + 0.75 * confidence : 0.25;
    return `${colour}${Math.round(alpha * 255).toString(16).padStart(2, "0")}`;
  });
}

/** Saves `blob` as a file named `name` (through a temporary link). */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
