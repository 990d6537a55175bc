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
     * (synchronous part).
     */
    this.stats = { renders: 0, dataDraws: 0, messages: 0, snapshots: 0, renderMs: 0 };
  }

  add(view) {
    this.views.push(view);
    return view;
  }

  remove(view) {
    this.views = this.views.filter((v) => v !== view);
  }

  /** Ask for a render on the next animation frame (many requests, one render). */
  request() {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => this.run());
  }

  run() {
    this.scheduled = false;
    const started = performance.now();
    let drew = false;
    let again = false;
    let wait = Infinity;
    for (const view of this.views) {
      // A view may ask to be drawn at most every `minInterval` ms (the loss chart, whose cost
      // grows with the history); its pending points keep accumulating meanwhile.
      const since = started - (view.lastDrawn || 0);
      if (view.minInterval && since < view.minInterval && view.hasPending && view.hasPending()) {
        wait = Math.min(wait, view.minInterval - since);
        continue;
      }
      const result = view.render();
      if (result === "busy") again = true;
      else if (result) {
        drew = true;
        view.lastDrawn = started;
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
