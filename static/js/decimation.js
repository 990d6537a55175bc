// A line's points, bounded however long the series grows: the per-epoch charts draw this instead
// of every epoch, so a chart's redraw costs the same at epoch 100 and at epoch 100,000.
//
// M4 decimation (Jugel et al., "M4: a visualization-oriented time series data aggregation",
// VLDB 2014): the x axis is cut into buckets of `width` epochs and each bucket keeps its first,
// lowest, highest and last points, in epoch order. A line through them covers the same pixels as
// the line through every point as long as a bucket is no wider than a pixel or so; the first and
// the last point of the series, its minimum and its maximum are always among them. When the
// buckets outnumber `buckets`, the width doubles and neighbours merge (so the cost of an append
// stays constant, and a long tail is drawn as finely as the start). A series of up to `buckets`
// epochs is drawn as it is.

export const BUCKETS = 200; // ~2-3 px each on a dashboard chart: at most 800 points per line

function bucketOf(x, y) {
  const point = { x, y };
  return { first: point, low: point, high: point, last: point };
}

function merge(a, b) {
  return {
    first: a.first,
    low: b.low.y < a.low.y ? b.low : a.low,
    high: b.high.y > a.high.y ? b.high : a.high,
    last: b.last,
  };
}

export class DecimatedLine {
  /** `buckets`: how many buckets are kept before they merge in pairs. */
  constructor(buckets = BUCKETS) {
    this.limit = buckets;
    this.width = 1; // epochs per bucket (a power of two)
    this.buckets = []; // [{key, first, low, high, last}], keys increasing
    this.count = 0; // points pushed (non-null)
  }

  /** A line of the given points (null values are skipped: plotly would draw a gap at most). */
  static of(xs, ys, buckets = BUCKETS) {
    const line = new DecimatedLine(buckets);
    line.extend(xs, ys);
    return line;
  }

  /** Appends points (x increasing, after every x pushed before). */
  extend(xs, ys) {
    for (let i = 0; i < xs.length; i++) this.push(xs[i], ys[i]);
  }

  push(x, y) {
    if (y === null || y === undefined || x === null || x === undefined) return;
    this.count += 1;
    const key = Math.floor(x / this.width);
    const last = this.buckets[this.buckets.length - 1];
    if (last && last.key === key) {
      const merged = merge(last, bucketOf(x, y));
      merged.key = key;
      this.buckets[this.buckets.length - 1] = merged;
      return;
    }
    const bucket = bucketOf(x, y);
    bucket.key = key;
    this.buckets.push(bucket);
    if (this.buckets.length > this.limit) this.coarsen();
  }

  /** Doubles the bucket width: neighbours of the same new key merge. */
  coarsen() {
    this.width *= 2;
    const merged = [];
    for (const bucket of this.buckets) {
      const key = Math.floor(bucket.key / 2);
      const last = merged[merged.length - 1];
      if (last && last.key === key) {
        const both = merge(last, bucket);
        both.key = key;
        merged[merged.length - 1] = both;
      } else {
        merged.push({ ...bucket, key });
      }
    }
    this.buckets = merged;
  }

  /** The points to draw: {x: [...], y: [...]}, x increasing, no point twice. */
  points() {
    const x = [];
    const y = [];
    for (const bucket of this.buckets) {
      const kept = [bucket.first, bucket.low, bucket.high, bucket.last].sort((a, b) => a.x - b.x);
      let previous = null;
      for (const point of kept) {
        if (point === previous) continue;
        previous = point;
        x.push(point.x);
        y.push(point.y);
      }
    }
    return { x, y };
  }
}
