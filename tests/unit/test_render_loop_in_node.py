"""The render loop's order (static/js/render_loop.js, issue 27): the views drawn at every change
(the fit) come first in an animation frame, and at most one throttled view (the charts, the layers
panel: each a whole Plotly redraw) draws per animation frame, the others on the next ones, so no
frame holds the main thread for all of them. See `js_modules.run_js`."""

from __future__ import annotations

from js_modules import run_js

LOOP = """
const { RenderLoop } = await importModule('/static/js/render_loop.js');
const frames = [];
globalThis.requestAnimationFrame = (callback) => frames.push(callback);
const loop = new RenderLoop();
const log = [];
const view = (name, minInterval) => {
  const v = { pending: true, minInterval, hasPending() { return this.pending; },
              render() { if (!this.pending) return false; this.pending = false; log.push(name);
                         return true; } };
  return loop.add(v, name);
};
"""


def test_the_fit_draws_first_and_one_throttled_view_per_animation_frame() -> None:
    drawn = run_js(
        LOOP
        + """
        view('loss', 250); view('accuracy', 250); view('layers', 250);
        const fit = view('fit', 0);
        fit.countsAsData = true;
        const perFrame = [];
        loop.request();
        while (frames.length) {
          const before = log.length;
          frames.shift()();
          perFrame.push(log.slice(before));
        }
        return perFrame;
        """
    )
    assert drawn == [["fit", "loss"], ["accuracy"], ["layers"]]
