// Numbers as the pages show them: one rule everywhere (the dashboard's list of runs and the runs
// page), so the same loss reads the same in both.

/** `digits` significant digits; below 1e-3 or from 1e5 on, in exponent form ("2.25e-6"). */
export function formatNumber(value, digits = 4) {
  if (value === null || value === undefined) return "—";
  const magnitude = Math.abs(value);
  return magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e5) ? value.toExponential(2)
    : Number(value.toPrecision(digits)).toString();
}

/** `n` and its noun in the number it takes: counted(1, "row") is "1 row", counted(3, "row")
 * "3 rows" (the server's app/config/wording.py says it the same way). */
export function counted(n, noun, plural = `${noun}s`) {
  return `${n} ${n === 1 ? noun : plural}`;
}

/** A server time (seconds since 1970) as every page writes it, "12/7/26, 6:51 PM"; "—" if none. */
export function formatTime(seconds) {
  if (!seconds) return "—";
  return new Date(seconds * 1000).toLocaleString(undefined, { dateStyle: "short", timeStyle: "short" });
}
