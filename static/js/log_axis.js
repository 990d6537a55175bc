// Log axes labelled at whole decades that never end with a single label or a pile of them: the
// range is widened to whole decades (at least one, so two labels: 0.003 shows between 10⁻³ and
// 10⁻², 1e-6 between 10⁻⁶ and 10⁻⁵) and the labels are spaced so at most MAX_DECADE_LABELS show.

export const MAX_DECADE_LABELS = 7;

/** [lo, hi] exponents of the whole decades around [lowest, highest] (positive numbers). */
export function decadeRange(lowest, highest) {
  const lo = Math.floor(Math.log10(lowest) + 1e-9);
  let hi = Math.ceil(Math.log10(highest) - 1e-9);
  if (hi <= lo) hi = lo + 1;
  return [lo, hi];
}

/** Spacing (in decades) of the labels of a log axis over `decades` decades: they never crowd. */
export function decadeStep(decades) {
  return Math.max(1, Math.ceil(decades / MAX_DECADE_LABELS));
}

/**
 * Plotly settings of a log axis showing `values` (non-positive and non-finite ones ignored):
 * `{range, dtick, autorange: false}` at whole decades, or {} when there is nothing to show.
 */
export function logAxis(values) {
  let lowest = Infinity;
  let highest = -Infinity;
  for (const v of values) {
    if (!(v > 0) || !Number.isFinite(v)) continue;
    if (v < lowest) lowest = v;
    if (v > highest) highest = v;
  }
  if (!(highest >= lowest)) return {};
  const [lo, hi] = decadeRange(lowest, highest);
  // Plotly puts a dtick-spaced label on each multiple of dtick: start the range on one
  const step = decadeStep(hi - lo);
  const start = Math.floor(lo / step) * step;
  return { range: [start, Math.max(hi, start + step)], dtick: step, autorange: false };
}
