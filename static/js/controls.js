// The configuration form: task picker, editable hidden-layer list, training and data fields,
// client-side validation next to each field, and the server's 400 errors shown the same way.
// The fields, their choices, limits, defaults and help, which of them a running run takes (its
// "live" tags) and which optimizers use a field (Adam has no momentum) come from the run config's
// JSON Schema (GET /api/schema, read by `ConfigSchema`): the page holds no copy of them.
// Besides the server's tasks the picker offers "Your function" (task `custom`: an expression
// typed in the form) and every CSV uploaded from this page (tasks `dataset:<id>`).

import { followInputs } from "./feature_inputs.js";
import { decimalFields, numberProblem, readNumber } from "./number_input.js";

export const CUSTOM_ID = "custom";
export const DATASET_PREFIX = "dataset:";

/** True for the user's own tasks: a typed function or uploaded data. */
export function isOwnTask(task) {
  return task.id === CUSTOM_ID || task.id.startsWith(DATASET_PREFIX);
}

/** True when an expression uses the input y (then it is a surface z = f(x, y)). */
export function usesY(expression) {
  return (String(expression).match(/[A-Za-z_][A-Za-z_0-9]*/g) || []).includes("y");
}

const KIND_GROUPS = [
  { label: "Curves · y = f(x)",
    match: (t) => !isOwnTask(t) && t.kind === "regression" && t.inputs === 1 },
  { label: "Surfaces · z = f(x, y)",
    match: (t) => !isOwnTask(t) && t.kind === "regression" && t.inputs === 2 },
  { label: "Classification", match: (t) => !isOwnTask(t) && t.kind === "classification" },
  { label: "Your own", match: isOwnTask },
];
// An upload's rows are the data: it takes no number of samples and no noise.
const DATA_FIELDS = ["samples", "noise"];

// TensorFlow Playground's input features, as expressions of the app's evaluator.
export const PLAYGROUND_FEATURES = [
  { text: "x", label: "x" }, { text: "y", label: "y" },
  { text: "x**2", label: "x²" }, { text: "y**2", label: "y²" }, { text: "x*y", label: "xy" },
  { text: "sin(x)", label: "sin x" }, { text: "sin(y)", label: "sin y" },
];
const RAW_INPUTS = { 1: ["x"], 2: ["x", "y"] };
// How the choices read in the selects (the schema gives the names; any name without a label
// here shows as itself).
const CHOICE_LABELS = {
  optimizer: { adam: "Adam", sgd: "SGD", rmsprop: "RMSprop" },
  loss: { cross_entropy: "Cross-entropy (softmax)", mse: "MSE on one-hot targets" },
  schedule: { constant: "Constant", step: "Step decay", exponential: "Exponential decay",
    inverse: "Inverse decay", cosine: "Cosine to 0" },
};
// One line of help per field the schema does not describe as the page needs it.
const EXTRA_HELP = {
  l1: " The loss chart shows the data loss, without this penalty.",
  weight_decay: " The loss chart shows the data loss, without this penalty.",
  schedule: " Step: ×0.5 every 100 epochs; exponential: ×0.99 per epoch; inverse: (1 + 0.001·epoch)^-0.75; cosine: down to 0 over the run.",
  hidden: " Each layer: type its neurons, × removes it.",
  domain: " Where the samples are drawn (and the fit is drawn).",
  input_features: " Toggle Playground's seven or type your own.",
};
const AXES = ["x", "y", "z"];
// JSON Schema extensions of /api/schema (app/schema.py): a noise limit for classification tasks
// only; true on the fields a running run takes (PATCH); the optimizers that use a field.
const CLASSIFICATION_MAXIMUM = "x-classificationMaximum";
const LIVE = "x-live";
const OPTIMIZERS_USING = "x-optimizers";

function formatLimit(value) {
  return Number(value).toLocaleString("en-US", { maximumFractionDigits: 6 });
}

/** The limits in words: "from 1 to 100,000", "above 0 and at most 10", "0 or more". */
export function rangeText({ min, max, above, below }) {
  const low = min !== undefined ? `from ${formatLimit(min)}`
    : above !== undefined ? `above ${formatLimit(above)}` : "";
  if (max !== undefined) {
    return min !== undefined ? `${low} to ${formatLimit(max)}`
      : `${low}${low ? " and " : ""}at most ${formatLimit(max)}`;
  }
  if (below !== undefined) return `${low}${low ? " up to (not including) " : "below "}${formatLimit(below)}`;
  return min !== undefined ? `of ${formatLimit(min)} or more` : low;
}

/** The run config's JSON Schema (GET /api/schema): each field's choices, limits and help. */
export class ConfigSchema {
  /** @param {object|null} schema the JSON Schema (null when it could not be loaded) */
  constructor(schema) {
    this.properties = (schema && schema.properties) || {};
  }

  /** A field's schema; a nullable field's (anyOf [..., {type: "null"}]) other branch merged in. */
  field(name) {
    const property = this.properties[name] || {};
    const branch = (property.anyOf || []).find((s) => s.type && s.type !== "null");
    return branch ? { ...property, ...branch } : property;
  }

  /** The names a choice field accepts (its `enum`). */
  choices(name) {
    return this.field(name).enum || [];
  }

  /** Every field's name, in the schema's order. */
  names() {
    return Object.keys(this.properties);
  }

  /** True when the field may be null (an `anyOf` branch of type null). */
  isNullable(name) {
    return (this.properties[name]?.anyOf || []).some((branch) => branch.type === "null");
  }

  /** True for a number field (whole or not, nullable or not). */
  isNumber(name) {
    return ["number", "integer"].includes(this.field(name).type);
  }

  /** The fields typed as a number in an input of the form: the numbers that cannot be null. */
  numberFields() {
    return this.names().filter((name) => this.isNumber(name) && !this.isNullable(name));
  }

  /** The fields picked from a list (a select): those of an `enum` that cannot be null. */
  choiceFields() {
    return this.names().filter((name) => this.choices(name).length && !this.isNullable(name));
  }

  /** True when a running run takes the field at once (PATCH /api/runs/<id>). */
  isLive(name) {
    return this.properties[name]?.[LIVE] === true;
  }

  /** The fields a running run takes at once; the others wait for the next run. */
  liveFields() {
    return this.names().filter((name) => this.isLive(name));
  }

  /** The fields only some optimizers use (e.g. momentum: SGD and RMSprop, not Adam). */
  optimizerFields() {
    return this.names().filter((name) => Array.isArray(this.properties[name][OPTIMIZERS_USING]));
  }

  /** True when a run of `optimizer` uses the field (every optimizer, unless the schema says). */
  usedBy(name, optimizer) {
    const only = this.properties[name]?.[OPTIMIZERS_USING];
    return !Array.isArray(only) || only.includes(optimizer);
  }

  /** Every declared default: {field: value} (the task's own defaults take precedence). */
  defaults() {
    const defaults = {};
    for (const [name, property] of Object.entries(this.properties)) {
      if ("default" in property) defaults[name] = property.default;
    }
    return defaults;
  }

  isInteger(name) {
    return this.field(name).type === "integer";
  }

  /** {min, max, above, below} of a number field (`classification`: with that kind's limits). */
  limits(name, { classification = false } = {}) {
    const s = this.field(name);
    const limits = { min: s.minimum, max: s.maximum, above: s.exclusiveMinimum, below: s.exclusiveMaximum };
    if (classification && s[CLASSIFICATION_MAXIMUM] !== undefined) {
      limits.max = Math.min(limits.max ?? Infinity, s[CLASSIFICATION_MAXIMUM]);
    }
    return limits;
  }

  /** "" when the number `value` is within the field's limits, else a message saying them. */
  check(name, value, options) {
    const { min, max, above, below } = this.limits(name, options);
    const inside = !(value < min || value > max || value <= above || value >= below);
    if (inside) return "";
    const kind = this.isInteger(name) ? "a whole number" : "a number";
    return `Use ${kind} ${rangeText({ min, max, above, below })}.`;
  }

  /** Gives a number input its field's min, max, step and help (as a tooltip). */
  applyTo(input, name) {
    const s = this.field(name);
    const low = s.minimum ?? s.exclusiveMinimum;
    const high = s.maximum ?? s.exclusiveMaximum;
    if (low !== undefined) input.min = String(low);
    if (high !== undefined) input.max = String(high);
    input.step = this.isInteger(name) ? "1" : "any";
    if (s.description) input.title = s.description;
  }

  /** The one-line help of a field: its schema description. */
  help(name) {
    return (this.field(name).description || "") + (EXTRA_HELP[name] || "");
  }
}

/** Range ends with at most 6 significant digits (π shows as 3.14159, not 3.141592653589793). */
function formatBound(value) {
  const number = Number(value);
  return Number.isFinite(number) ? String(Number(number.toPrecision(6))) : String(value);
}

function parseNumber(input) {
  return readNumber(input); // a decimal comma too (number_input.js)
}

export class ConfigForm {
  /**
   * @param {HTMLFormElement} form
   * @param {object[]} tasks task dicts from /api/tasks
   * @param {{onTaskChange: Function, onChange: Function, onSubmit: Function}} handlers
   * @param {ConfigSchema} schema the run config's choices and limits
   */
  constructor(form, tasks, handlers, schema) {
    this.form = form;
    this.tasks = tasks;
    this.handlers = handlers;
    this.schema = schema;
    this.taskSelect = form.querySelector("#task");
    this.layerList = form.querySelector("#hidden-layers");
    this.addLayerButton = form.querySelector("#add-layer");
    this.domainBox = form.querySelector("#domain-inputs");
    this.expressionInput = form.querySelector("#expression");
    this.speedSelect = form.querySelector("#epochs_per_second");
    this.featureBox = form.querySelector("#feature-toggles");
    this.customFeatures = form.querySelector("#custom-features");
    this.task = null;
    this.fillTaskPicker();
    this.applySchema();
    decimalFields(form); // number fields read a decimal comma (number_input.js)

    this.taskSelect.addEventListener("change", () => handlers.onTaskChange(this.taskSelect.value));
    this.addLayerButton.addEventListener("click", () => {
      const sizes = this.layerInputs().map((i) => i.value);
      this.setLayers([...sizes, sizes.length ? sizes[sizes.length - 1] : "16"]);
      this.layerInputs().at(-1).focus();
      this.changed("hidden");
    });
    this.layerList.addEventListener("click", (event) => {
      const button = event.target.closest(".remove-layer");
      if (!button) return;
      const index = Number(button.dataset.index);
      const sizes = this.layerInputs().map((i) => i.value);
      sizes.splice(index, 1);
      this.setLayers(sizes);
      const inputs = this.layerInputs();
      (inputs[Math.min(index, inputs.length - 1)] || this.addLayerButton).focus();
      this.changed("hidden");
    });
    form.addEventListener("input", (event) => {
      const name = event.target.dataset.field || event.target.name;
      if (name && name !== "task") this.changed(name);
    });
    form.addEventListener("change", (event) => {
      if (event.target.name === "optimizer") this.updateOptimizerFields();
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      handlers.onSubmit();
    });
  }

  /** Choices, limits and help of the fields, from the schema. */
  applySchema() {
    for (const name of this.schema.choiceFields()) {
      const select = this.form.elements[name];
      if (!select) continue;
      const labels = CHOICE_LABELS[name] || {};
      select.replaceChildren(...this.schema.choices(name).map((value) => new Option(labels[value] || value, value)));
      const help = this.schema.field(name).description;
      if (help) select.title = help;
    }
    for (const name of this.schema.numberFields()) this.schema.applyTo(this.form.elements[name], name);
    this.applyTags();
    // Every control's help: a hint shown on hover and focus, and its accessible description.
    for (const hint of this.form.querySelectorAll("p.hint.tip[id^='hint-']")) {
      const name = hint.id.slice("hint-".length);
      const help = this.schema.help(name);
      if (help && !hint.textContent.trim()) hint.textContent = help.trim();
    }
    const maxLength = this.schema.field("expression").maxLength;
    if (maxLength) this.expressionInput.maxLength = maxLength;
    this.layerLimits = this.schema.field("hidden");
    const bounds = (this.schema.field("domain").items || {}).items || {};
    this.domainBounds = { min: bounds.minimum, max: bounds.maximum };
  }

  /** Tags each field "live" (a running run takes it at once) or "next run", as the schema says. */
  applyTags() {
    for (const tag of this.form.querySelectorAll(".tag[data-tag]")) {
      const live = this.schema.isLive(tag.dataset.tag);
      tag.classList.toggle("live-tag", live);
      tag.classList.toggle("next-tag", !live);
      tag.textContent = live ? "live" : "next run";
      tag.closest(".field")?.classList.toggle("steerable", live);
    }
  }

  /** True when the form offers field `name` to a run of `optimizer` on `task` (a field the
   * optimizer does not use is hidden, e.g. momentum for Adam; an upload brings its own data). */
  offers(name, optimizer = this.form.elements.optimizer.value, task = this.task) {
    if (!this.schema.usedBy(name, optimizer)) return false;
    const dataset = Boolean(task && task.id.startsWith(DATASET_PREFIX));
    return !(dataset && DATA_FIELDS.includes(name));
  }

  fillTaskPicker() {
    this.taskSelect.replaceChildren();
    for (const group of KIND_GROUPS) {
      const members = this.tasks.filter(group.match);
      if (!members.length) continue;
      const optgroup = document.createElement("optgroup");
      optgroup.label = group.label;
      for (const task of members) {
        // A classification task's "formula" is a sentence; it shows below the picker instead.
        const text = task.id === CUSTOM_ID ? "Your function…"
          : task.kind === "classification" || isOwnTask(task) ? task.title
            : `${task.title} — ${task.formula}`;
        const option = new Option(text, task.id);
        optgroup.appendChild(option);
      }
      this.taskSelect.appendChild(optgroup);
    }
  }

  /** Adds a task to the picker (an upload), or replaces the one with its id. */
  addTask(task) {
    const index = this.tasks.findIndex((t) => t.id === task.id);
    if (index >= 0) this.tasks[index] = task;
    else this.tasks.push(task);
    this.fillTaskPicker();
    if (this.task) this.taskSelect.value = this.task.id;
  }

  isCustom() {
    return Boolean(this.task && this.task.id === CUSTOM_ID);
  }

  isDataset() {
    return Boolean(this.task && this.task.id.startsWith(DATASET_PREFIX));
  }

  /**
   * Shows a task: picker, formula and its domain inputs (does not touch other fields). The same
   * task again with another number of inputs (your function gained or lost its y) keeps the
   * ranges already typed.
   */
  setTask(task) {
    const same = this.task && this.task.id === task.id;
    const typed = (same ? this.rawConfig().domain : null) || [];
    const before = this.task ? this.task.inputs : task.inputs;
    this.task = task;
    this.taskSelect.value = task.id;
    const custom = task.id === CUSTOM_ID;
    const dataset = task.id.startsWith(DATASET_PREFIX);
    this.form.querySelector("#task-formula").textContent = custom ? "" : task.formula;
    this.form.querySelector('[data-field="expression"]').hidden = !custom;
    this.form.querySelector("#expression-lhs").textContent = task.inputs === 2 ? "z = f(x, y) =" : "y = f(x) =";
    const classifies = task.kind === "classification";
    this.form.querySelector("#task-label").textContent = classifies ? "Data to classify" : "Function to learn";
    // The loss is a choice for classifiers only (regression always fits MSE).
    this.form.querySelector('[data-field="loss"]').hidden = !classifies;
    // Uploaded rows are the data: their count, their range, no noise added.
    for (const name of DATA_FIELDS) this.form.elements[name].disabled = dataset;
    // (the label's text only: its tag stays)
    this.form.querySelector('[data-field="samples"] label').firstChild.textContent = dataset ? "Samples (rows) " : "Samples ";
    this.setFeatureToggles(task.inputs, same ? followInputs(this.selectedFeatures(), before, task.inputs) : null);
    this.domainBox.replaceChildren();
    // One pair per plotted input: tasks of more than two inputs plot a slice over two of them.
    for (let d = 0; d < task.domain.length; d++) {
      const axis = AXES[d];
      const name = task.inputs === 1 ? "x" : axis;
      const lo = this.numberInput(`domain-${d}-lo`, "domain", `${name} from`);
      const hi = this.numberInput(`domain-${d}-hi`, "domain", `${name} to`);
      const label = document.createElement("span");
      label.className = "axis";
      label.textContent = name;
      label.setAttribute("aria-hidden", "true");
      const to = document.createElement("span");
      to.className = "to";
      to.textContent = "to";
      to.setAttribute("aria-hidden", "true");
      lo.disabled = dataset;
      hi.disabled = dataset;
      if (task.domain && task.domain[d]) {
        lo.value = formatBound(task.domain[d][0]);
        hi.value = formatBound(task.domain[d][1]);
      }
      this.domainBox.append(label, lo, to, hi);
    }
    if (same) {
      typed.forEach(([lo, hi], d) => {
        const loInput = this.form.querySelector(`#domain-${d}-lo`);
        const hiInput = this.form.querySelector(`#domain-${d}-hi`);
        if (loInput && hiInput && (lo !== "" || hi !== "")) {
          loInput.value = lo;
          hiInput.value = hi;
        }
      });
    }
  }

  numberInput(id, field, label) {
    const input = document.createElement("input");
    input.type = "number";
    input.step = "any";
    input.id = id;
    input.dataset.field = field;
    input.setAttribute("aria-label", label);
    input.setAttribute("aria-describedby", `hint-${field} error-${field}`);
    input.inputMode = "decimal";
    if (field === "domain") {
      if (this.domainBounds.min !== undefined) input.min = String(this.domainBounds.min);
      if (this.domainBounds.max !== undefined) input.max = String(this.domainBounds.max);
    }
    return input;
  }

  layerInputs() {
    return [...this.layerList.querySelectorAll("input.layer-size")];
  }

  /** Rebuilds the hidden-layer list from sizes (numbers or strings as typed). */
  setLayers(sizes) {
    this.layerList.replaceChildren();
    sizes.forEach((size, index) => {
      const row = document.createElement("li");
      row.className = "layer-row";
      const id = `hidden-${index}`;
      const label = document.createElement("label");
      label.htmlFor = id;
      label.textContent = `Layer ${index + 1}`;
      const input = document.createElement("input");
      input.type = "number";
      const neurons = this.layerLimits.items || {};
      if (neurons.minimum !== undefined) input.min = String(neurons.minimum);
      if (neurons.maximum !== undefined) input.max = String(neurons.maximum);
      input.step = "1";
      input.id = id;
      input.className = "layer-size";
      input.dataset.field = "hidden";
      input.inputMode = "numeric";
      input.value = String(size);
      input.setAttribute("aria-describedby", "hint-hidden error-hidden");
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button remove-layer";
      remove.dataset.index = String(index);
      remove.textContent = "×";
      remove.title = `Remove layer ${index + 1}`;
      remove.setAttribute("aria-label", `Remove layer ${index + 1}`);
      remove.setAttribute("aria-describedby", "hint-hidden");
      row.append(label, input, remove);
      this.layerList.appendChild(row);
    });
    this.addLayerButton.disabled = sizes.length >= (this.layerLimits.maxItems ?? Infinity);
  }

  /** Fills every field from a (possibly partial) config; missing fields keep their value. */
  fill(config) {
    if (config.hidden) this.setLayers(config.hidden);
    if (typeof config.expression === "string") this.expressionInput.value = config.expression;
    if (config.speed !== undefined) this.setSpeed(config.speed);
    else if (config.epochs_per_second !== undefined) this.setSpeed(config.epochs_per_second);
    if (config.early_stopping !== undefined) this.setEarlyStopping(config.early_stopping);
    if (config.input_features !== undefined) this.setFeatures(config.input_features);
    const choices = { ...config };
    if (config.schedule && typeof config.schedule === "object") choices.schedule = config.schedule.name;
    for (const name of this.schema.choiceFields()) {
      if (!this.form.elements[name]) continue;
      if (choices[name] === undefined || choices[name] === null) continue;
      const select = this.form.elements[name];
      // A value the select does not offer (e.g. a hand-edited URL) keeps the current choice.
      if ([...select.options].some((option) => option.value === String(choices[name]))) {
        select.value = String(choices[name]);
      }
    }
    for (const name of this.schema.numberFields()) {
      if (config[name] !== undefined && config[name] !== null) {
        this.form.elements[name].value = String(config[name]);
      }
    }
    if (config.domain) {
      config.domain.forEach((pair, d) => {
        const lo = this.form.querySelector(`#domain-${d}-lo`);
        const hi = this.form.querySelector(`#domain-${d}-hi`);
        if (lo && hi && pair) {
          lo.value = formatBound(pair[0]);
          hi.value = formatBound(pair[1]);
        }
      });
    }
    this.updateOptimizerFields();
    this.clearErrors();
  }

  /** Selects a speed ("auto"; null, "" or "full" = full speed; a rate); a rate the list lacks
   * (from a link) is added. */
  setSpeed(value) {
    const named = value === "auto" ? "auto" : value === null || value === "" || value === "full" ? "full" : null;
    const text = named || String(Number(Number(value).toPrecision(4)));
    if (text === "NaN") return;
    if (![...this.speedSelect.options].some((option) => option.value === text)) {
      this.speedSelect.add(new Option(`${text} epochs/s`, text));
    }
    this.speedSelect.value = text;
  }

  /** Playground's toggles for a task of `inputs` inputs, `selected` (texts) switched on (by
   * default the raw inputs). */
  setFeatureToggles(inputs, selected = null) {
    const on = new Set(selected || RAW_INPUTS[inputs] || []);
    const offered = PLAYGROUND_FEATURES.filter((f) => inputs === 2 || !f.text.includes("y"));
    this.featureBox.replaceChildren(...offered.map(({ text, label }) => {
      const wrap = document.createElement("label");
      wrap.className = "feature-toggle";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = text;
      box.dataset.field = "input_features";
      box.checked = on.has(text);
      box.setAttribute("aria-describedby", "hint-input_features error-input_features");
      box.title = `Feed ${label} to the network as an input`;
      const name = document.createElement("span");
      name.className = "formula";
      name.textContent = label;
      wrap.append(box, name);
      return wrap;
    }));
    this.featureBox.hidden = !(inputs === 1 || inputs === 2);
    this.customFeatures.value = (selected || []).filter((t) => !offered.some((f) => f.text === t)).join("; ");
  }

  /** Sets the features from a config (a list, a "x;x**2" text from a link, or null = raw). */
  setFeatures(features) {
    const inputs = this.task ? this.task.inputs : 1;
    const list = typeof features === "string"
      ? features.split(";").map((t) => t.trim()).filter(Boolean)
      : features;
    this.setFeatureToggles(inputs, list && list.length ? list : null);
  }

  /** The features switched on and typed, in order (texts). */
  selectedFeatures() {
    const toggled = [...this.featureBox.querySelectorAll("input:checked")].map((box) => box.value);
    const typed = this.customFeatures.value.split(";").map((t) => t.trim()).filter(Boolean);
    return [...toggled, ...typed.filter((t) => !toggled.includes(t))];
  }

  /** The config's input_features: null while they are the task's raw inputs. */
  inputFeatures() {
    const selected = this.selectedFeatures();
    const raw = RAW_INPUTS[this.task ? this.task.inputs : 1] || [];
    const same = selected.length === raw.length && selected.every((t, i) => t === raw[i]);
    return same ? null : selected;
  }

  /** Number of network inputs the form asks for (one per feature). */
  inputCount() {
    const features = this.inputFeatures();
    return features ? features.length : (this.task ? this.task.inputs : 1);
  }

  /** Early stopping as the config sends it: null (off) or {patience, restore_best: true}. */
  earlyStopping() {
    const value = this.form.elements.early_stopping.value;
    return value === "off" ? null : { patience: Number(value), restore_best: true };
  }

  /** Selects early stopping from a config's value: null (off), {patience, ...} or a patience. */
  setEarlyStopping(value) {
    const select = this.form.elements.early_stopping;
    const patience = value && typeof value === "object" ? value.patience : value;
    const text = patience === null || patience === undefined || patience === "off" ? "off"
      : String(Number(patience));
    if (text === "NaN") return;
    if (![...select.options].some((option) => option.value === text)) {
      select.add(new Option(`after ${text} epochs`, text));
    }
    select.value = text;
  }

  /** The speed as the config sends it: "auto" (the server paces by the learning, ~15 s a run),
   * null (full) or a rate. */
  pace() {
    const value = this.speedSelect.value;
    if (value === "auto") return "auto";
    return value === "full" || value === "" ? null : Number(value);
  }

  /** Shows the live/next-run tags while a run trains. */
  setLive(live) {
    this.form.classList.toggle("live", live);
  }

  classifies() {
    return Boolean(this.task && this.task.kind === "classification");
  }

  /** Shows the fields the chosen optimizer uses and hides the others (Adam's momentum). */
  updateOptimizerFields() {
    const optimizer = this.form.elements.optimizer.value;
    for (const name of this.schema.optimizerFields()) {
      const box = this.form.querySelector(`[data-field="${name}"]`);
      if (box) box.hidden = !this.schema.usedBy(name, optimizer);
    }
  }

  /** Current hidden sizes as numbers (NaN where a field is not a whole number). */
  hiddenSizes() {
    return this.layerInputs().map((input) => {
      const v = parseNumber(input);
      return Number.isInteger(v) ? v : NaN;
    });
  }

  /** Reads and validates the form: {config, errors} (errors: field -> message). */
  read() {
    const errors = {};
    const config = { task: this.task.id };
    const dataset = this.isDataset();
    if (this.isCustom()) {
      config.expression = this.expressionInput.value.trim();
      if (!config.expression) errors.expression = "Type a function of x (or of x and y), e.g. sin(5*x)*x.";
      else if (config.expression.length > this.expressionInput.maxLength && this.expressionInput.maxLength > 0) {
        errors.expression = `Keep it to ${this.expressionInput.maxLength} characters.`;
      }
    }
    const hidden = this.hiddenSizes();
    const { minimum: fewest, maximum: most } = this.layerLimits.items || {};
    const bad = hidden.findIndex((n) => !Number.isInteger(n) || n < fewest || n > most);
    if (bad >= 0) {
      const value = this.layerInputs()[bad].value.trim();
      errors.hidden = value !== "" && Number(value) < fewest
        ? `Layer ${bad + 1} needs at least ${fewest} neuron${fewest === 1 ? "" : "s"}.`
        : `Layer ${bad + 1}: use a whole number of neurons ${rangeText({ min: fewest, max: most })}.`;
      errors.hiddenIndex = bad;
    }
    config.hidden = hidden;
    config.activation = this.form.elements.activation.value;
    config.optimizer = this.form.elements.optimizer.value;
    if (this.classifies()) config.loss = this.form.elements.loss.value;
    for (const name of this.schema.numberFields()) {
      if (!this.offers(name, config.optimizer)) continue;
      const input = this.form.elements[name];
      const v = parseNumber(input);
      if (!Number.isFinite(v)) errors[name] = numberProblem(input) || "Enter a number.";
      else if (this.schema.isInteger(name) && !Number.isInteger(v)) errors[name] = "Enter a whole number.";
      else {
        const problem = this.schema.check(name, v, { classification: this.classifies() });
        if (problem) errors[name] = problem;
      }
      config[name] = v;
    }
    config.epochs_per_second = this.pace();
    config.early_stopping = this.earlyStopping();
    config.schedule = this.form.elements.schedule.value;
    config.input_features = this.inputFeatures();
    if (config.input_features && !config.input_features.length) {
      errors.input_features = "Switch on at least one feature.";
    } else if (config.input_features && config.input_features.length > (this.schema.field("input_features").maxItems ?? Infinity)) {
      errors.input_features = `At most ${this.schema.field("input_features").maxItems} features.`;
    }
    const domain = [];
    for (let d = 0; d < (dataset ? 0 : this.task.domain.length); d++) {
      const lo = parseNumber(this.form.querySelector(`#domain-${d}-lo`));
      const hi = parseNumber(this.form.querySelector(`#domain-${d}-hi`));
      const axis = this.task.inputs === 1 ? "x" : AXES[d];
      const unread = [`#domain-${d}-lo`, `#domain-${d}-hi`].map((id) => numberProblem(this.form.querySelector(id))).find(Boolean);
      if (!Number.isFinite(lo) || !Number.isFinite(hi)) errors.domain = unread || `Enter both ends of the ${axis} range.`;
      else if (!(lo < hi)) errors.domain = `The ${axis} range must run from a lower to a higher value.`;
      else if (lo < this.domainBounds.min || hi > this.domainBounds.max) {
        errors.domain = `Keep the ${axis} range ${rangeText(this.domainBounds)}.`;
      }
      domain.push([lo, hi]);
    }
    if (!dataset) config.domain = domain;
    const samples = dataset ? parseNumber(this.form.elements.samples) : config.samples;
    if (!errors.batch_size && !errors.samples && config.batch_size > samples) {
      errors.batch_size = dataset ? `The batch cannot be larger than the data (${samples} rows).`
        : "The batch cannot be larger than the number of samples.";
    }
    return { config, errors };
  }

  /** The form's values as typed (strings), for the address bar: even invalid input survives. */
  rawConfig() {
    const config = {};
    if (this.isCustom()) config.expression = this.expressionInput.value;
    config.hidden = this.layerInputs().map((i) => i.value.trim());
    const dataset = this.isDataset();
    config.activation = this.form.elements.activation.value;
    config.optimizer = this.form.elements.optimizer.value;
    if (this.classifies()) config.loss = this.form.elements.loss.value;
    for (const name of this.schema.numberFields()) {
      if (!this.offers(name, config.optimizer)) continue;
      config[name] = this.form.elements[name].value.trim();
    }
    if (this.speedSelect.value === "full") config.speed = "full";
    else if (this.speedSelect.value !== "auto") config.epochs_per_second = this.speedSelect.value;
    if (this.form.elements.schedule.value !== "constant") config.schedule = this.form.elements.schedule.value;
    if (this.earlyStopping()) config.early_stopping = this.form.elements.early_stopping.value;
    const features = this.inputFeatures();
    if (features) config.input_features = features.join(";");
    if (dataset) return config; // the data's own range
    config.domain = [];
    for (let d = 0; d < (this.task ? this.task.domain.length : 0); d++) {
      config.domain.push([this.form.querySelector(`#domain-${d}-lo`).value.trim(),
        this.form.querySelector(`#domain-${d}-hi`).value.trim()]);
    }
    return config;
  }

  /** Shows errors next to their fields; unknown fields go to the form-wide message. */
  showErrors(errors) {
    this.clearErrors();
    const general = [];
    for (const [key, message] of Object.entries(errors)) {
      if (key === "hiddenIndex") continue;
      const field = key.split(/[.[]/)[0];
      const box = this.form.querySelector(`#error-${field}`);
      if (!box) {
        general.push(`${key}: ${message}`);
        continue;
      }
      box.textContent = message;
      let inputs = [...this.form.querySelectorAll(`[data-field="${field}"] input, [data-field="${field}"] select`)];
      if (field === "hidden") {
        const index = errors.hiddenIndex ?? Number((key.match(/\d+/) || [])[0]);
        const layer = this.layerInputs()[index];
        if (layer) inputs = [layer];
      }
      for (const input of inputs) input.setAttribute("aria-invalid", "true");
    }
    this.form.querySelector("#error-form").textContent = general.join(" ");
    const first = this.form.querySelector('[aria-invalid="true"]');
    if (first) first.focus();
  }

  /** Shows (message) or clears (empty) one field's error without touching the others. */
  setFieldError(field, message) {
    const box = this.form.querySelector(`#error-${field}`);
    if (!box) return;
    box.textContent = message || "";
    for (const input of this.form.querySelectorAll(`[data-field="${field}"] input, [data-field="${field}"] select, input[data-field="${field}"]`)) {
      if (message) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
  }

  clearErrors() {
    for (const box of this.form.querySelectorAll(".field-error")) box.textContent = "";
    for (const input of this.form.querySelectorAll('[aria-invalid="true"]')) input.removeAttribute("aria-invalid");
  }

  /** A field was edited: re-validate just that field so its message clears as soon as it is fixed. */
  changed(field) {
    const { errors } = this.read();
    const box = this.form.querySelector(`#error-${field}`);
    // (Your function's message comes from the server's preview, which replaces it itself.)
    if (box && box.textContent && !errors[field] && field !== "expression") {
      box.textContent = "";
      for (const input of this.form.querySelectorAll(`[data-field="${field}"] [aria-invalid], [aria-invalid][data-field="${field}"]`)) {
        input.removeAttribute("aria-invalid");
      }
    }
    this.handlers.onChange(field);
  }
}
