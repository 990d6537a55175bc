// Debiased exponential moving average, as TensorBoard smooths scalar charts.
// Each smoothed value depends only on the values before it, so appending points never
// changes an earlier smoothed value.

export class DebiasedEma {
  /** @param {number} weight smoothing weight in [0, 1): 0 = no smoothing. */
  constructor(weight) {
    this.weight = weight;
    this.last = 0;
    this.count = 0;
  }

  /** Feeds one value; returns its smoothed value (null for a missing or non-finite value). */
  push(value) {
    if (value === null || value === undefined || !Number.isFinite(value)) return null;
    this.last = this.last * this.weight + (1 - this.weight) * value;
    this.count += 1;
    const debias = 1 - Math.pow(this.weight, this.count);
    return debias > 0 ? this.last / debias : value;
  }
}

/** Smooths a whole series at once (same result as pushing the values one by one). */
export function smoothSeries(values, weight) {
  const ema = new DebiasedEma(weight);
  return values.map((v) => ema.push(v));
}
