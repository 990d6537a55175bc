// Coalesces all drawing to animation frames: data arrives as fast as the server sends it,
// views remember only what is pending (latest prediction wins, history points accumulate), and
// each animation frame asks every view to draw what changed.

export class RenderLoop {
  constructor() {
    this.views = [];
    this.scheduled = false;
    /**
     * renders: animation frames that drew anything; dataDraws: frames that drew new fit data;
     * messages: frames received; snapshots: snapshots received.
     */
    this.stats = { renders: 0, dataDraws: 0, messages: 0, snapshots: 0 };
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
    let drew = false;
    let again = false;
    for (const view of this.views) {
      const result = view.render();
      if (result === "busy") again = true;
      else if (result) {
        drew = true;
        if (view.countsAsData) this.stats.dataDraws += 1;
      }
    }
    if (drew) this.stats.renders += 1;
    if (again) this.request();
  }
}
