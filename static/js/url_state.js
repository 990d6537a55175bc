// Shareable state: /fit/<task>?hidden=16,16&activation=tanh&lr=0.01&...&run=<id>.
// The URL is rewritten with history.replaceState as the form changes, so reloading or sending the
// link reopens the same view (and, with run=, the same run's live stream).

const NUMERIC = ["lr", "momentum", "weight_decay", "batch_size", "epochs", "samples", "noise",
  "test_fraction", "seed"];
const CHOICES = ["activation", "optimizer", "loss"];
const ORDER = ["hidden", ...CHOICES, ...NUMERIC, "domain"];

/** The query string for a config (and optional run id). */
export function configToQuery(config, runId) {
  const params = new URLSearchParams();
  for (const key of ORDER) {
    const value = config[key];
    if (value === undefined || value === null) continue;
    if (key === "hidden") params.set(key, value.join(","));
    else if (key === "domain") params.set(key, value.map((pair) => pair.join(",")).join(","));
    else if (typeof value === "number" && !Number.isFinite(value)) continue;
    else params.set(key, String(value));
  }
  if (runId) params.set("run", runId);
  // Commas are safe in a query string; keep them readable.
  return params.toString().replaceAll("%2C", ",");
}

/** Parses a query string into {config (partial), runId}; unparseable values are skipped. */
export function queryToConfig(search) {
  const params = new URLSearchParams(search);
  const config = {};
  if (params.has("hidden")) {
    const text = params.get("hidden").trim();
    config.hidden = text === "" ? [] : text.split(",").map((s) => s.trim());
  }
  for (const key of CHOICES) {
    if (params.has(key)) config[key] = params.get(key);
  }
  for (const key of NUMERIC) {
    if (params.has(key) && params.get(key).trim() !== "") config[key] = params.get(key).trim();
  }
  if (params.has("domain")) {
    const values = params.get("domain").split(",").map((s) => s.trim());
    const pairs = [];
    for (let i = 0; i + 1 < values.length; i += 2) pairs.push([values[i], values[i + 1]]);
    if (pairs.length) config.domain = pairs;
  }
  return { config, runId: params.get("run") || null };
}

/** Writes /fit/<task>?<config>&run=<id> into the address bar without a reload. */
export function writeUrl(taskId, config, runId) {
  const query = configToQuery(config, runId);
  const url = `/fit/${encodeURIComponent(taskId)}${query ? `?${query}` : ""}`;
  if (url !== window.location.pathname + window.location.search) {
    window.history.replaceState(null, "", url);
  }
}

/** The task id in /fit/<task>, or null. */
export function taskFromPath(pathname) {
  const match = pathname.match(/^\/fit\/([^/?#]+)/);
  return match ? decodeURIComponent(match[1]) : null;
}
