// Equality of the arrays frames carry (predictions, weights): a frame between two views of the
// run repeats the last one's, and the views skip drawing it again.

/** True when `a` and `b` (numbers, nulls, or arrays of them, nested) hold the same values. */
export function sameValues(a, b) {
  if (a === b) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (!Array.isArray(x) || !sameValues(x, y)) return false;
  }
  return true;
}
