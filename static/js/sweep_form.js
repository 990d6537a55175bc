// The dashboard's "Sweep…" form (issue 30): the current config as the base, the axes to vary
// as lists ("4; 16; 16,16" for layer sizes, "0.01, 0.03" for numbers, "tanh, relu" for
// choices), seeds, grid or random mode, optional successive halving, and the count of runs
// before launching. A launched sweep opens its page (/sweeps/<id>). Kept apart from main.js: it
// reads the form through window.studio.form.
//
// What the user typed is theirs: the fields keep it, across openings and page loads (stored in
// this browser), and are never overwritten by the current config. The layer sizes are offered
// instead, as candidates around the current layers (widths halved / kept / doubled, one layer
// fewer / the same / one more) that a click puts in the field.

const AXES = [
  { name: "hidden", label: "Neurons per layer", hint: "layers separated by ;, e.g. 4; 16; 16,16" },
  { name: "lr", label: "Learning rate", hint: "e.g. 0.003, 0.01, 0.03" },
  { name: "activation", label: "Activation", hint: "e.g. tanh, relu" },
  { name: "optimizer", label: "Optimizer", hint: "e.g. sgd, adam" },
  { name: "batch_size", label: "Batch size", hint: "e.g. 16, 64" },
  { name: "l1", label: "L1", hint: "e.g. 0, 0.001" },
  { name: "weight_decay", label: "Weight decay", hint: "e.g. 0, 0.0001" },
  { name: "dropout", label: "Dropout", hint: "e.g. 0, 0.2" },
];
const TEXT_AXES = new Set(["activation", "optimizer"]);
const MAX_RUNS = 200;
const STORED = "backprop-studio:sweep-form"; // localStorage: the fields as last typed

/** An axis's typed text as the list of values it varies over ([] when empty). */
export function parseAxis(name, text) {
  const trimmed = text.trim();
  if (!trimmed) return [];
  if (name === "hidden") {
    return trimmed.split(";").map((layers) => layers.trim()).map((layers) => (
      layers === "" || layers === "none" ? [] : layers.split(/[,\s]+/).map(Number)));
  }
  const parts = trimmed.split(",").map((part) => part.trim()).filter((part) => part !== "");
  return TEXT_AXES.has(name) ? parts : parts.map(Number);
}

/** What is wrong with an axis's typed text (null: nothing), e.g. lr "abc, 0.01" → a message
 * naming "abc": the page says so before counting runs, rather than sending null. Layer sizes are
 * held to `limits` ({maxNeurons, maxLayers}: the schema's, as `hiddenLimits` reads them). */
export function axisError(name, text, limits = {}) {
  if (TEXT_AXES.has(name) || !text.trim()) return null;
  return numberError(name, text) || (name === "hidden" ? layersError(parseAxis(name, text), limits) : null);
}

function layersError(configs, { maxNeurons = Infinity, maxLayers = Infinity }) {
  const wide = configs.flat().find((n) => n > maxNeurons);
  if (wide !== undefined) return `hidden: ${wide} neurons is more than a layer takes (at most ${maxNeurons})`;
  const deep = configs.find((layers) => layers.length > maxLayers);
  return deep ? `hidden: “${deep.join(",")}” has ${deep.length} layers (at most ${maxLayers})` : null;
}

function numberError(name, text) {
  const entries = name === "hidden"
    ? text.split(";").flatMap((layers) => (layers.trim() === "none" ? [] : layers.trim().split(/[,\s]+/)))
    : text.split(",");
  const bad = entries.map((entry) => entry.trim()).find((entry) => entry !== "" && (
    !Number.isFinite(Number(entry)) || (name === "hidden" && !/^[1-9][0-9]*$/.test(entry))));
  if (bad === undefined) return null;
  return name === "hidden"
    ? `${name}: “${bad}” is not a number of neurons (layers as 16,16; configs separated by ;)`
    : `${name}: “${bad}” is not a number`;
}

/** The sweep's body: `base` (a run config) and the dialog's `fields`. */
export function sweepBody(base, fields) {
  const vary = {};
  for (const axis of AXES) {
    const values = parseAxis(axis.name, fields[axis.name] ?? "");
    if (values.length) vary[axis.name] = values;
  }
  const body = { base: { ...base, epochs_per_second: null }, vary, seeds: fields.seeds,
    mode: fields.mode };
  if (fields.mode === "random") body.count = fields.count;
  if (fields.halving) body.early_stop = "halving";
  return body;
}

/** How many runs a body makes (as the server counts them). */
export function runCount(body) {
  const lists = Object.values(body.vary);
  if (!lists.length) return 0;
  const configs = body.mode === "random" ? body.count : lists.reduce((n, list) => n * list.length, 1);
  return configs * body.seeds;
}

/**
 * Candidate layer sizes around `hidden` (the current layers), as texts for the hidden axis:
 * `widths` (every layer halved, kept, doubled) and `depths` (one layer fewer, the same, one more
 * of the last width), within `maxNeurons` per layer and `maxLayers` layers; duplicates dropped.
 */
export function layerCandidates(hidden, { maxNeurons = 1024, maxLayers = 8 } = {}) {
  const sizes = hidden.length ? hidden : [16];
  const text = (layers) => (layers.length ? layers.join(",") : "none");
  const scaled = (factor) => sizes.map((n) => Math.min(maxNeurons, Math.max(1, Math.round(n * factor))));
  const unique = (options) => [...new Set(options.map(text))].join("; ");
  const deeper = sizes.length < maxLayers ? [[...sizes, sizes[sizes.length - 1]]] : [];
  return { widths: unique([scaled(0.5), sizes, scaled(2)]),
    depths: unique([sizes.slice(0, -1), sizes, ...deeper]) };
}

function element(tag, props = {}, children = []) {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

function labelled(id, text, input, hint) {
  input.id = id;
  const parts = [element("label", { htmlFor: id, textContent: text }), input];
  if (hint) {
    const note = element("span", { id: `${id}-hint`, className: "hint", textContent: hint });
    input.setAttribute("aria-describedby", note.id);
    parts.push(note);
  }
  return element("div", { className: "sweep-field" }, parts);
}

function buildDialog() {
  const dialog = element("dialog", { id: "sweep-dialog", className: "sweep-dialog" });
  dialog.setAttribute("aria-labelledby", "sweep-dialog-title");
  const form = element("form", { id: "sweep-form", method: "dialog", noValidate: true });
  form.append(element("h2", { id: "sweep-dialog-title", textContent: "Sweep: vary the current config" }));
  form.append(element("p", { className: "hint",
    textContent: "The current settings are the base; each list below is tried (empty: not varied)." }));
  for (const axis of AXES) {
    form.append(labelled(`sweep-${axis.name}`, axis.label, element("input", { type: "text" }), axis.hint));
  }
  const suggested = element("div", { id: "sweep-hidden-candidates", className: "sweep-candidates" });
  suggested.setAttribute("role", "group");
  suggested.setAttribute("aria-label", "Candidate layer sizes");
  const parsed = element("span", { id: "sweep-hidden-parsed", className: "hint" });
  parsed.setAttribute("aria-live", "polite");
  form.querySelector("#sweep-hidden").parentElement.append(parsed, suggested);
  const seeds = element("input", { type: "number", min: 1, max: 10, value: 1 });
  form.append(labelled("sweep-seeds", "Seeds per config", seeds, "1 to 10 repeats"));
  const mode = element("select", {}, [element("option", { value: "grid", textContent: "grid: every combination" }),
    element("option", { value: "random", textContent: "random: draw configs" })]);
  form.append(labelled("sweep-mode", "Mode", mode));
  const count = element("input", { type: "number", min: 1, max: MAX_RUNS, value: 10 });
  form.append(labelled("sweep-count", "Configs drawn (random)", count));
  const halving = element("input", { type: "checkbox" });
  form.append(labelled("sweep-halving", "Stop the worst half at rungs (successive halving)", halving));
  form.append(element("p", { id: "sweep-run-count", className: "sweep-count" }));
  form.append(element("p", { id: "sweep-error", className: "field-error" }));
  form.lastChild.setAttribute("role", "alert");
  const actions = element("div", { className: "actions" }, [
    element("button", { type: "submit", id: "sweep-launch", className: "button primary", textContent: "Launch sweep" }),
    element("button", { type: "button", id: "sweep-cancel", className: "button", textContent: "Cancel" })]);
  form.append(actions);
  dialog.append(form);
  document.body.append(dialog);
  return dialog;
}

function fieldsOf() {
  const fields = {};
  for (const axis of AXES) fields[axis.name] = document.getElementById(`sweep-${axis.name}`).value;
  fields.seeds = Number(document.getElementById("sweep-seeds").value);
  fields.mode = document.getElementById("sweep-mode").value;
  fields.count = Number(document.getElementById("sweep-count").value);
  fields.halving = document.getElementById("sweep-halving").checked;
  return fields;
}

function hiddenLimits() {
  const field = window.studio.schema?.field("hidden") ?? {};
  return { maxNeurons: field.items?.maximum, maxLayers: field.maxItems };
}

/** The candidate buttons under the layer sizes, from the current layers (each opening). */
function showCandidates() {
  const box = document.getElementById("sweep-hidden-candidates");
  const { widths, depths } = layerCandidates(currentBase().hidden ?? [], hiddenLimits());
  box.replaceChildren("Try: ", ...[widths, depths].map((text) => {
    const button = element("button", { type: "button", className: "button small", textContent: text });
    button.dataset.candidate = text;
    button.addEventListener("click", () => {
      const input = document.getElementById("sweep-hidden");
      input.value = text;
      input.dispatchEvent(new Event("input", { bubbles: true }));
    });
    return button;
  }));
}

/** Keep the fields as typed, for the next opening and the next page load. */
function store() {
  try {
    localStorage.setItem(STORED, JSON.stringify(fieldsOf()));
  } catch { /* storage refused (private mode, quota): the fields still hold it in this page */ }
}

function restore() {
  let fields = null;
  try {
    fields = JSON.parse(localStorage.getItem(STORED) ?? "null");
  } catch { return; }
  if (!fields || typeof fields !== "object") return;
  for (const axis of AXES) {
    if (typeof fields[axis.name] === "string") {
      document.getElementById(`sweep-${axis.name}`).value = fields[axis.name];
    }
  }
  if (Number.isFinite(fields.seeds)) document.getElementById("sweep-seeds").value = fields.seeds;
  if (["grid", "random"].includes(fields.mode)) document.getElementById("sweep-mode").value = fields.mode;
  if (Number.isFinite(fields.count)) document.getElementById("sweep-count").value = fields.count;
  document.getElementById("sweep-halving").checked = fields.halving === true;
}

function currentBase() {
  const { config } = window.studio.form.read();
  return config;
}

/** The layer configs as read ("3 configs: 4 · 16 · 64"; "1 config: 4,16,64 — 3 layers"), so
 * "4, 16, 64" is seen to be one net of three layers, not three nets. */
export function configsText(text) {
  const configs = parseAxis("hidden", text);
  if (!configs.length) return "";
  const shown = configs.slice(0, 8).map((layers) => (layers.length ? layers.join(",") : "none")).join(" · ");
  const one = configs.length === 1 && configs[0].length > 1 ? ` — ${configs[0].length} layers in one net` : "";
  return `${configs.length} config${configs.length === 1 ? "" : "s"}: ${shown}${configs.length > 8 ? " · …" : ""}${one}`;
}

function showCount() {
  const body = sweepBody({}, fieldsOf());
  const runs = runCount(body);
  const text = document.getElementById("sweep-run-count");
  const fields = fieldsOf();
  document.getElementById("sweep-hidden-parsed").textContent = configsText(fields.hidden ?? "");
  const wrong = AXES.map((axis) => axisError(axis.name, fields[axis.name] ?? "", hiddenLimits())).find(Boolean);
  text.textContent = wrong || (runs ? `${runs} run${runs === 1 ? "" : "s"}${runs > MAX_RUNS ? ` (at most ${MAX_RUNS})` : ""}`
    : "Give at least one list to vary.");
  document.getElementById("sweep-launch").disabled = Boolean(wrong) || !runs || runs > MAX_RUNS;
  document.getElementById("sweep-count").disabled = body.mode !== "random";
}

async function launch(event) {
  event.preventDefault();
  const error = document.getElementById("sweep-error");
  error.textContent = "";
  const body = sweepBody(currentBase(), fieldsOf());
  const answer = await fetch("/api/sweeps", { method: "POST", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json", Accept: "application/json" } });
  const data = await answer.json().catch(() => null);
  if (answer.status === 201 && data) {
    window.location.href = `/sweeps/${encodeURIComponent(data.id)}`;
    return;
  }
  const errors = data?.errors ?? { sweep: data?.error ?? `HTTP ${answer.status}` };
  error.textContent = Object.entries(errors).map(([field, message]) => `${field}: ${message}`).join(" ");
}

function open() {
  const dialog = document.getElementById("sweep-dialog") ?? buildDialog();
  if (!dialog.dataset.wired) {
    dialog.dataset.wired = "yes";
    dialog.querySelector("form").addEventListener("input", showCount);
    dialog.querySelector("form").addEventListener("input", store);
    dialog.querySelector("form").addEventListener("change", store);
    dialog.querySelector("form").addEventListener("submit", launch);
    document.getElementById("sweep-cancel").addEventListener("click", () => dialog.close());
    restore();
  }
  showCandidates();
  showCount();
  dialog.showModal();
}

document.getElementById("sweep-open")?.addEventListener("click", open);
