// Debiased exponential moving average, as TensorBoard smooths scalar charts, by epoch distance:
// a value d epochs before the one smoothed weighs w^d. On a history of every epoch this is
// TensorBoard's curve exactly (Σ w^(i−j)·v_j / Σ w^(i−j) is its debiased EMA); on a thinned one
// (a long run's snapshot carries every k-th epoch) the weights follow the epochs, not the points,
// so the curve does not change with the thinning. Each smoothed value depends only on the values
// before it, so appending points never changes an earlier smoothed value.

export class DebiasedEma {
  /** @param {number} weight smoothing weight per epoch in [0, 1): 0 = no smoothing. */
  constructor(weight) {
    this.weight = weight;
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
    const distance = epoch === undefined || epoch === null || this.lastEpoch === null
      ? 1 : Math.max(epoch - this.lastEpoch, 1);
    const decay = Math.pow(this.weight, distance);
    this.sum = this.sum * decay + value;
    this.total = this.total * decay + 1;
    if (epoch !== undefined && epoch !== null) this.lastEpoch = epoch;
    this.count += 1;
    return this.total > 0 ? this.sum / this.total : value;
  }
}

/**
 * Smooths a whole series at once (the same as pushing the values one by one): `epochs` (the
 * epoch of each value, increasing) makes the weight apply per epoch; without it each value is
 * one epoch after the last.
 */
export function smoothSeries(values, weight, epochs) {
  const ema = new DebiasedEma(weight);
  return values.map((v, i) => ema.push(v, epochs ? epochs[i] : undefined));
}
