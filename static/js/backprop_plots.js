// Clicking a plotted point of the fit view picks the training sample nearest to it in the
// Backprop view (backprop_view.js). Plotly makes a new `on` whenever it plots afresh (and drops
// the handlers), so the plots are looked at again now and then (`hookPlots`).

const hooked = new WeakMap();

/**
 * Hook each plot of the fit view not hooked yet: a click, while `isOpen()`, calls `onPoint(near)`
 * with the point's first `inputs()` coordinates (1 or 2); `onHooked()` is called per plot hooked.
 */
export function hookPlots({ isOpen, inputs, onPoint, onHooked }) {
  const fit = document.getElementById("fit-view");
  if (!fit) return;
  for (const plot of [fit, ...fit.querySelectorAll(".js-plotly-plot")]) {
    if (typeof plot.on !== "function" || hooked.get(plot) === plot.on) continue;
    hooked.set(plot, plot.on);
    onHooked();
    plot.on("plotly_click", (event) => {
      if (!isOpen() || !event.points.length) return;
      const point = event.points[0];
      onPoint(inputs() === 1 ? [point.x] : [point.x, point.y]);
    });
  }
}
