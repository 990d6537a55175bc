// Input features that follow the task's inputs: a 1-D function typed into a 2-D one (or the
// other way) keeps the features the user chose, adds the new raw input (y) and drops what uses
// an input the task no longer has. Left behind, a network of x alone would fit sin(x)·cos(y).

const RAW = { 1: ["x"], 2: ["x", "y"] };

/** The names (x, y) that the expression `text` uses. */
export function inputsUsed(text) {
  return new Set((String(text).match(/[A-Za-z_][A-Za-z_0-9]*/g) || []).filter((name) => name === "x" || name === "y"));
}

/**
 * The features of a task of `after` inputs for the features `selected` chosen with `before`
 * inputs: the raw inputs when `selected` were the raw inputs (or nothing is left), else
 * `selected` without features of a lost input plus every raw input no feature uses.
 */
export function followInputs(selected, before, after) {
  if (before === after) return selected;
  const raw = RAW[after] || [];
  const same = (a, b) => a.length === b.length && a.every((text, i) => text === b[i]);
  if (!selected.length || same(selected, RAW[before] || [])) return raw;
  const kept = selected.filter((text) => [...inputsUsed(text)].every((name) => raw.includes(name)));
  const used = new Set(kept.flatMap((text) => [...inputsUsed(text)]));
  const added = raw.filter((name) => !used.has(name) && !kept.includes(name));
  const result = [...kept, ...added];
  return result.length ? result : raw;
}
