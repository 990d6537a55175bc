// Shareable state: /fit/<task>?hidden=16,16&activation=tanh&lr=0.01&...&run=<id>; your own
// function as /fit/custom?expression=sin(5*x)*x&domain=-3,3&..., an upload as /fit/dataset:<id>.
// The URL is rewritten with history.replaceState as the form changes, so reloading or sending the
// link reopens the same view (and, with run=, the same run's live stream).
//
// The parameters are the run config's fields (GET /api/schema, a `ConfigSchema`, in its order;
// the task is the path), plus `speed` ("full": no pace; "auto", the default, is left out) and
// `run`. A value is written by its field's shape: a list of numbers as 16,16, a list of pairs
// (domain) as lo,hi,lo,hi, a list of texts (input_features) as x;y;x**2, anything else as is.

// Page-only parameters, each placed after the field it stands for.
const PAGE_PARAMETERS = { speed: "epochs_per_second" };
// Characters that are safe in a query string but URLSearchParams escapes: kept readable, so an
// expression reads as sin(5*x)*x in the address bar. ("+" stays %2B: a bare + means a space.)
const READABLE = { "%2C": ",", "%28": "(", "%29": ")", "%2A": "*", "%2F": "/", "%3B": ";" };

/** The URL parameters of the config, in order: the schema's fields but the task, and `speed`. */
export function urlParameters(schema) {
  const names = [];
  for (const name of schema.names()) {
    if (name === "task") continue;
    names.push(name);
    for (const [parameter, field] of Object.entries(PAGE_PARAMETERS)) {
      if (field === name) names.push(parameter);
    }
  }
  return names;
}

/** How a field's value is written: "pairs", "texts", "list" (of numbers) or "text". */
function shape(schema, name) {
  const field = schema.field(name);
  if (field.type !== "array") return "text";
  const items = field.items || {};
  if (items.type === "array") return "pairs";
  return items.type === "string" ? "texts" : "list";
}

function written(kind, value) {
  if (!Array.isArray(value)) return String(value);
  if (kind === "pairs") return value.map((pair) => pair.join(",")).join(",");
  return value.join(kind === "texts" ? ";" : ",");
}

/** The query string for a config (and optional run id). */
export function configToQuery(config, runId, schema) {
  const params = new URLSearchParams();
  for (const key of urlParameters(schema)) {
    const value = config[key];
    if (value === undefined || value === null) continue;
    if (typeof value === "number" && !Number.isFinite(value)) continue;
    params.set(key, written(shape(schema, key), value));
  }
  if (runId) params.set("run", runId);
  return params.toString().replace(/%2C|%28|%29|%2A|%2F|%3B/g, (code) => READABLE[code]);
}

/** Parses a query string into {config (partial, values as typed), runId}; unparseable values
 * are skipped. */
export function queryToConfig(search, schema) {
  const params = new URLSearchParams(search);
  const config = {};
  for (const key of urlParameters(schema)) {
    if (!params.has(key)) continue;
    const text = params.get(key);
    const kind = shape(schema, key);
    if (kind === "list") {
      config[key] = text.trim() === "" ? [] : text.split(",").map((s) => s.trim());
    } else if (kind === "pairs") {
      const values = text.split(",").map((s) => s.trim());
      const pairs = [];
      for (let i = 0; i + 1 < values.length; i += 2) pairs.push([values[i], values[i + 1]]);
      if (pairs.length) config[key] = pairs;
    } else if (schema.isNumber(key)) {
      if (text.trim() !== "") config[key] = text.trim();
    } else {
      config[key] = text;
    }
  }
  return { config, runId: params.get("run") || null };
}

/** Writes /fit/<task>?<config>&run=<id> into the address bar without a reload. */
export function writeUrl(taskId, config, runId, schema) {
  const query = configToQuery(config, runId, schema);
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
