// Coalesces all drawing to animation frames: data arrives as fast as the server sends it,
// views remember only what is pending (latest prediction wins, history points accumulate), and
// each animation frame asks every view to draw what changed.

export class RenderLoop {
  constructor() {
    this.views = [];
    this.scheduled = false;
    this.timer = null;
    /**
     * renders: animation frames that drew anything; dataDraws: frames that drew new fit data;
     * messages: frames received; snapshots: snapshots received; renderMs: time spent drawing
     * (synchronous part); views: per view name, {updates: renders that drew, ms: main-thread
     * time of its renders} (Performance API measures), and `frame`: the handling of each frame
     * received (see `timed`).
     */
    this.stats = { renders: 0, dataDraws: 0, messages: 0, snapshots: 0, renderMs: 0, views: {} };
  }

  /** Registers `view` (drawn on each animation frame) under `name` (its stats' key). A view
   * scrolled out of sight is not drawn once it has been drawn: its data waits (latest wins)
   * until it is seen again. */
  add(view, name = view.constructor.name) {
    this.views.push(view);
    view.statsName = name;
    this.watchVisibility(view);
    return view;
  }

  /** Keeps `view.offscreen` up to date from an IntersectionObserver on its box (`container`,
   * `el` or `card`); back in sight, it is drawn on the next animation frame. */
  watchVisibility(view) {
    const box = view.container || view.el || view.card;
    if (!box || typeof IntersectionObserver === "undefined") return;
    if (!this.observer) {
      this.boxes = new Map();
      this.observer = new IntersectionObserver((entries) => {
        let back = false;
        for (const entry of entries) {
          const seen = this.boxes.get(entry.target);
          if (!seen) continue;
          const offscreen = !entry.isIntersecting;
          back ||= seen.offscreen && !offscreen;
          seen.offscreen = offscreen;
        }
        if (back) this.request();
      });
    }
    this.boxes.set(box, view);
    this.observer.observe(box);
  }

  /** Runs `work` and adds its main-thread time (a Performance API measure, ms) to the stats of
   * `name`; `counts`: whether it counts as an update. Returns what `work` returns. */
  timed(name, work, counts = true) {
    const mark = `studio:${name}`;
    performance.mark(mark);
    let result;
    try {
      result = work();
    } finally {
      const measure = performance.measure(`${mark}:took`, mark);
      performance.clearMarks(mark);
      performance.clearMeasures(`${mark}:took`);
      const entry = this.stats.views[name] || (this.stats.views[name] = { updates: 0, ms: 0 });
      entry.ms += measure ? measure.duration : 0;
      if (typeof counts === "function" ? counts(result) : counts) entry.updates += 1;
    }
    return result;
  }

  remove(view) {
    this.views = this.views.filter((v) => v !== view);
    for (const [box, seen] of this.boxes || []) {
      if (seen !== view) continue;
      this.observer.unobserve(box);
      this.boxes.delete(box);
    }
  }

  /** Ask for a render on the next animation frame (many requests, one render). */
  request() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => this.run());
  }

  /** The views in drawing order: those drawn at every change (the fit, the network, the
   * status) first, then the throttled ones (`minInterval`: the charts, the layers panel). */
  ordered() {
    return [...this.views.filter((v) => !v.minInterval), ...this.views.filter((v) => v.minInterval)];
  }

  run() {
    this.scheduled = false;
    const started = performance.now();
    let drew = false;
    let again = false;
    let wait = Infinity;
    let throttledDrawn = false;
    for (const view of this.ordered()) {
      // (drawn once even out of sight, so that the page is laid out whole from the start)
      if (view.offscreen && view.lastDrawn !== undefined) continue;
      // A view may ask to be drawn at most every `minInterval` ms (the charts, whose every
      // redraw is a whole Plotly redraw); what it waits to draw accumulates meanwhile.
      const since = view.lastDrawn === undefined ? Infinity : started - view.lastDrawn;
      const pending = view.hasPending && view.hasPending();
      if (view.minInterval && since < view.minInterval && pending) {
        wait = Math.min(wait, view.minInterval - since);
        continue;
      }
      // At most one throttled view per animation frame: their long redraws are spread over
      // frames, so that no frame holds the main thread (and the next Socket.IO frame) for
      // all of them at once.
      if (view.minInterval && throttledDrawn && pending) {
        again = true;
        continue;
      }
      const result = this.timed(view.statsName, () => view.render(), (drew) => drew && drew !== "busy");
      if (result === "busy") again = true;
      else if (result) {
        drew = true;
        view.lastDrawn = started;
        if (view.minInterval) throttledDrawn = true;
        if (view.countsAsData) this.stats.dataDraws += 1;
      }
    }
    if (wait < Infinity && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.request();
      }, wait);
    }
    if (drew) {
      this.stats.renders += 1;
      this.stats.renderMs += performance.now() - started;
    }
    if (again) this.request();
  }
}
