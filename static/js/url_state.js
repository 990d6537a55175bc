// Shareable state: /fit/<task>?hidden=16,16&activation=tanh&lr=0.01&...&run=<id>; your own
// function as /fit/custom?expression=sin(5*x)*x&domain=-3,3&..., an upload as /fit/dataset:<id>.
// The URL is rewritten with history.replaceState as the form changes, so reloading or sending the
// link reopens the same view (and, with run=, the same run's live stream).

const NUMERIC = ["lr", "momentum", "weight_decay", "l1", "dropout", "batch_size", "epochs",
  "samples", "noise", "test_fraction", "seed", "epochs_per_second"];
// speed: "full" (or "auto", the default, left out); input_features: "x;y;x**2"
const CHOICES = ["activation", "optimizer", "loss", "schedule", "speed"];
const TEXTS = ["expression", "input_features"];
const ORDER = ["expression", "hidden", "input_features", ...CHOICES, ...NUMERIC, "domain"];
// Characters that are safe in a query string but URLSearchParams escapes: kept readable, so an
// expression reads as sin(5*x)*x in the address bar. ("+" stays %2B: a bare + means a space.)
const READABLE = { "%2C": ",", "%28": "(", "%29": ")", "%2A": "*", "%2F": "/", "%3B": ";" };

/** The query string for a config (and optional run id). */
export function configToQuery(config, runId) {
  const params = new URLSearchParams();
  for (const key of ORDER) {
    const value = config[key];
    if (value === undefined || value === null) continue;
    if (key === "hidden") params.set(key, value.join(","));
    else if (TEXTS.includes(key)) params.set(key, value);
    else if (key === "domain") params.set(key, value.map((pair) => pair.join(",")).join(","));
    else if (typeof value === "number" && !Number.isFinite(value)) continue;
    else params.set(key, String(value));
  }
  if (runId) params.set("run", runId);
  return params.toString().replace(/%2C|%28|%29|%2A|%2F|%3B/g, (code) => READABLE[code]);
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
  for (const key of TEXTS) {
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
  // "dataset:<id>" keeps its colon (a valid path character), as the server's links write it.
  const path = encodeURIComponent(taskId).replaceAll("%3A", ":");
  const url = `/fit/${path}${query ? `?${query}` : ""}`;
  if (url !== window.location.pathname + window.location.search) {
    window.history.replaceState(null, "", url);
  }
}

/** The task id in /fit/<task>, or null. */
export function taskFromPath(pathname) {
  const match = pathname.match(/^\/fit\/([^/?#]+)/);
  return match ? decodeURIComponent(match[1]) : null;
}
