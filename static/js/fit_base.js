// Shared parts of the fit views: the base class (pending data, Plotly busy tracking, the
// empty-state message, the preview of the task before a run) and small helpers.

import { sameValues } from "./same_values.js";

const Plotly = window.Plotly;

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

const EMPTY_NOTE = "<p><strong>Press Train</strong> to sample the data<br>and watch the network fit it.</p>";

/**
 * Shared state handling: pending data, Plotly busy tracking, empty-state message, preview.
 *
 * Before a run (and until its snapshot arrives) a view draws the task's preview, the answer of
 * POST /api/preview, turned by the view's `fromPreview` into the parts of a snapshot it draws
 * (`target`, `data`); `shown()` is the snapshot, else the preview. The empty-state message then
 * shrinks to a badge in a corner.
 */
export class BaseFitView {
  constructor(container, task) {
    this.container = container;
    this.task = task;
    this.countsAsData = true;
    this.busy = false;
    this.empty = el("div", "empty-state");
    this.emptyNote = EMPTY_NOTE;
    this.empty.innerHTML = this.emptyNote;
    this.preview = null;
    const what = task.id.startsWith("dataset:") ? "Your data"
      : task.kind === "classification" ? "Data preview" : "Target preview";
    this.previewNote = `<p>${what} · press <strong>Train</strong> to fit it</p>`;
    this.clear();
  }

  /** The task's preview (an /api/preview answer), or null with an optional message instead. */
  setPreview(answer, message = null) {
    this.preview = answer ? this.fromPreview(answer) : null;
    this.emptyNote = message ? `<p>${message}</p>` : EMPTY_NOTE;
    this.needsFull = true;
  }

  /** A preview answer as the snapshot parts this view draws (views override). */
  fromPreview(answer) {
    return { preview: true, target: answer.target || null, data: null };
  }

  /** What the view draws: the run's snapshot, else the preview, else null. */
  shown() {
    return this.snapshot || this.preview;
  }

  clear() {
    this.snapshot = null;
    this.prediction = null;
    this.needsFull = true;
    this.dirty = false;
  }

  setSnapshot(snapshot) {
    this.snapshot = snapshot;
    this.prediction = snapshot.prediction || null;
    this.needsFull = true;
  }

  /** A frame's prediction; one equal to the last (a frame between two views of the run) is
   * not drawn again. */
  setPrediction(prediction) {
    if (!prediction || !this.snapshot || samePrediction(prediction, this.prediction)) return;
    this.prediction = prediction;
    this.dirty = true;
  }

  retheme() {
    this.needsFull = true;
  }

  render() {
    if (this.busy) return "busy";
    if (!this.needsFull && !this.dirty) return false;
    this.needsFull = false;
    this.dirty = false;
    const previewing = !this.snapshot && Boolean(this.preview);
    this.empty.hidden = Boolean(this.snapshot);
    this.empty.classList.toggle("as-badge", previewing);
    // The badge sits in the card's header, clear of every axis label; the message in the plot.
    if (!this.emptyHome) this.emptyHome = this.empty.parentNode;
    const head = this.container.closest(".card")?.querySelector(".card-head");
    const home = previewing && head ? head : this.emptyHome;
    if (home && this.empty.parentNode !== home) home.appendChild(this.empty);
    const note = previewing ? this.previewNote : this.emptyNote;
    if (this.empty.innerHTML !== note) this.empty.innerHTML = note;
    this.draw();
    return true;
  }

  track(promises) {
    this.busy = true;
    Promise.all(promises).finally(() => { this.busy = false; });
  }

  destroy() {
    if (this.empty.parentNode && this.empty.parentNode !== this.emptyHome) this.empty.remove();
    for (const plot of this.container.querySelectorAll(".js-plotly-plot")) Plotly.purge(plot);
    this.container.replaceChildren();
  }
}

/** True when predictions `a` and `b` ({x, y} curves, {x, y, z, confidence} grids) are equal. */
export function samePrediction(a, b) {
  if (!a || !b) return false;
  return ["z", "y", "confidence", "x"].every((key) => sameValues(a[key], b[key]));
}

export function extent(arrays) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const values of arrays) {
    for (const v of values || []) {
      if (v === null) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return lo <= hi ? [lo, hi] : [-1, 1];
}

export function padded([lo, hi], fraction) {
  const pad = (hi - lo || 1) * fraction;
  return [lo - pad, hi + pad];
}
