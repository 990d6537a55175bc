// Debiased exponential moving average, as TensorBoard smooths scalar charts, by epoch distance:
// a value d epochs before the one smoothed weighs w^d. On a history of every epoch this is
// TensorBoard's curve exactly (Σ w^(i−j)·v_j / Σ w^(i−j) is its debiased EMA); on a thinned one
// (a long run's snapshot carries every k-th epoch) the weights follow the epochs, not the points,
// so the curve does not change with the thinning. Each smoothed value depends only on the values
// before it, so appending points never changes an earlier smoothed value.
// On a log axis (`log`) the logarithms are averaged (a weighted geometric mean): a loss falling
// by orders of magnitude is not drawn above every raw point by the arithmetic mean of its past
// (TensorBoard's arithmetic curve is, early on a log chart); values ≤ 0 are skipped there.

export class DebiasedEma {
  /**
   * @param {number} weight smoothing weight per epoch in [0, 1): 0 = no smoothing.
   * @param {{log?: boolean}} options log: average the logarithms (for a log axis).
   */
  constructor(weight, { log = false } = {}) {
    this.weight = weight;
    this.log = log;
    this.sum = 0; // Σ w^d · value over the values so far
    this.total = 0; // Σ w^d
    this.lastEpoch = null;
    this.count = 0;
  }

  /**
   * Feeds one value (of epoch `epoch`; without epochs, each value is one epoch after the
   * last); returns its smoothed value (null for a missing or non-finite value, which is skipped).
   */
  push(value, epoch) {
    if (value === null || value === undefined || !Number.isFinite(value)) return null;
    if (this.log && value <= 0) return null;
    const distance = epoch === undefined || epoch === null || this.lastEpoch === null
      ? 1 : Math.max(epoch - this.lastEpoch, 1);
    const decay = Math.pow(this.weight, distance);
    this.sum = this.sum * decay + (this.log ? Math.log(value) : value);
    this.total = this.total * decay + 1;
    if (epoch !== undefined && epoch !== null) this.lastEpoch = epoch;
    this.count += 1;
    const mean = this.sum / this.total;
    return this.log ? Math.exp(mean) : mean;
  }
}

/**
 * Smooths a whole series at once (the same as pushing the values one by one): `epochs` (the
 * epoch of each value, increasing) makes the weight apply per epoch; without it each value is
 * one epoch after the last; `log` averages the logarithms (see `DebiasedEma`).
 */
export function smoothSeries(values, weight, epochs, { log = false } = {}) {
  const ema = new DebiasedEma(weight, { log });
  return values.map((v, i) => ema.push(v, epochs ? epochs[i] : undefined));
}
