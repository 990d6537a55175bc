// The axis ranges of a chart whose lines are drawn on a canvas of its own (line_canvas.js).
// Plotly autoranges the axes when it draws the whole chart; as new epochs come, an axis is
// widened here when the lines leave it, with room to grow, so that most new epochs only redraw
// the canvas. An axis the user zoomed or panned keeps the user's range; a log axis keeps the
// whole decades its chart sets (loss_chart.js).

const GROWTH = 0.25; // a widened axis leaves room for a quarter more

/** Whether two [from, to] ranges are the same. */
export function sameRange(a, b) {
  return Array.isArray(a) && Array.isArray(b) && a[0] === b[0] && a[1] === b[1];
}

/** Whether `axis` follows the data: Plotly autoranged it, or it has the range set here last. */
function follows(axis, set) {
  return Boolean(axis) && axis.type !== "log" && (axis.autorange === true || sameRange(axis.range, set));
}

/** [lowest, highest] of coordinate `key` ("x" or "y") over the visible traces on axis `id`. */
function extent(el, traces, key, id) {
  let lo = Infinity;
  let hi = -Infinity;
  for (const i of traces) {
    const style = el._fullData[i];
    if (!style || style.visible !== true || (style[`${key}axis`] || key) !== id) continue;
    for (const v of el.data[i][key] || []) {
      if (v === null || !Number.isFinite(v)) continue;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return [lo, hi];
}

/** `range` widened to hold [lo, hi] with room to grow (within `bounds`), or null if it holds it. */
export function widen([a, b], [lo, hi], [min, max] = [-Infinity, Infinity]) {
  if (!(hi >= lo) || (lo >= a && hi <= b)) return null;
  const from = Math.min(a, lo);
  const to = Math.max(b, hi);
  const room = GROWTH * (to - from || Math.abs(to) || 1);
  return [lo < a ? Math.max(min, from - room) : a, hi > b ? Math.min(max, to + room) : b];
}

/**
 * The relayout the chart `el` needs for the points now in its traces (`traces`, indices into
 * `el.data`) to fit its x axis and its first y axis, or null; `set`: the ranges set here last
 * ({x, y}); `yBounds`: the y values the axis may reach ([0, 100] for percentages; a loss axis
 * starts at 0 at the lowest, when no loss is negative). Returns {update, set}.
 */
export function fittedRanges(el, traces, set = {}, yBounds = null) {
  const full = el._fullLayout;
  if (!full || !el._fullData) return null;
  const update = {};
  const next = { ...set };
  for (const [key, axis] of [["x", full.xaxis], ["y", full.yaxis]]) {
    if (!follows(axis, set[key])) continue;
    const span = extent(el, traces, key, key);
    const bounds = yBounds && key === "y" ? yBounds : [span[0] >= 0 ? 0 : -Infinity, Infinity];
    const range = widen(axis.range, span, bounds);
    if (!range) continue;
    next[key] = range;
    update[`${key}axis.range`] = range;
    update[`${key}axis.autorange`] = false;
  }
  return Object.keys(update).length ? { update, set: next } : null;
}
