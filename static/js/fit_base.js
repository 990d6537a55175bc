// Shared parts of the fit views: the base class (pending data, Plotly busy tracking, the
// empty-state message) and small helpers.

const Plotly = window.Plotly;

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

/** Shared state handling: pending data, Plotly busy tracking, empty-state message. */
export class BaseFitView {
  constructor(container, task) {
    this.container = container;
    this.task = task;
    this.countsAsData = true;
    this.busy = false;
    this.empty = el("div", "empty-state");
    this.empty.innerHTML = "<p><strong>Press Train</strong> to sample the data<br>and watch the network fit it.</p>";
    this.clear();
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

  setPrediction(prediction) {
    if (!prediction || !this.snapshot) return;
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
    this.empty.hidden = Boolean(this.snapshot);
    this.draw();
    return true;
  }

  track(promises) {
    this.busy = true;
    Promise.all(promises).finally(() => { this.busy = false; });
  }

  destroy() {
    for (const plot of this.container.querySelectorAll(".js-plotly-plot")) Plotly.purge(plot);
    this.container.replaceChildren();
  }
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
