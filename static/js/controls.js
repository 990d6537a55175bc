// The configuration form: task picker, editable hidden-layer list, training and data fields,
// client-side validation next to each field, and the server's 400 errors shown the same way.
// The fields, their choices, limits, defaults and help, which of them a running run takes (its
// "live" tags) and which optimizers use a field (Adam has no momentum) come from the run config's
// JSON Schema (GET /api/schema, read by `ConfigSchema`): the page holds no copy of them.
// Besides the server's tasks the picker offers "Your function" (task `custom`: an expression
// typed in the form) and every CSV uploaded from this page (tasks `dataset:<id>`).

import { followInputs } from "./feature_inputs.js";
import { parseNumber, readForm, typedConfig } from "./form_reading.js";
import { domainInputs, featureToggle, formatBound, layerRow } from "./form_widgets.js";
import { counted } from "./format.js";
import { decimalFields } from "./number_input.js";
import {
  CUSTOM_ID, DATASET_PREFIX, DATA_FIELDS, KIND_GROUPS, PLAYGROUND_FEATURES, RAW_INPUTS, isOwnTask,
} from "./task_kinds.js";

// How the choices read in the selects (the schema gives the names; any name without a label
// here shows as itself).
const CHOICE_LABELS = {
  optimizer: { adam: "Adam", sgd: "SGD", rmsprop: "RMSprop" },
  loss: { cross_entropy: "Cross-entropy (softmax)", mse: "MSE on one-hot targets" },
  schedule: { constant: "Constant", step: "Step decay", exponential: "Exponential decay",
    inverse: "Inverse decay", cosine: "Cosine to 0" },
};

/** Scrolls a message into the form's view (not left under the Train bar the form scrolls behind). */
function reveal(box) {
  if (box && box.textContent) box.scrollIntoView({ block: "nearest" });
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
      const name = event.target.dataset.field || event.target.name;
      // a field left: its problem, once the form is whole (a task change removing it sends one)
      if (name && name !== "task") queueMicrotask(() => event.target.isConnected && this.check(name));
    });
    // A field taken up again shows its message too (the form may have scrolled or shrunk since).
    form.addEventListener("focusin", (event) => reveal(event.target.closest("[data-field]")?.querySelector(".field-error")));
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
      this.domainBox.append(...domainInputs(task, d, this.domainBounds, dataset));
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

  layerInputs() {
    return [...this.layerList.querySelectorAll("input.layer-size")];
  }

  /** Rebuilds the hidden-layer list from sizes (numbers or strings as typed). */
  setLayers(sizes) {
    this.layerList.replaceChildren();
    const neurons = this.layerLimits.items || {};
    this.layerList.append(...sizes.map((size, index) => layerRow(index, size, neurons)));
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
    this.featureBox.replaceChildren(...offered.map((feature) => featureToggle(feature, on.has(feature.text))));
    this.featureBox.hidden = !(inputs === 1 || inputs === 2);
    this.customFeatures.placeholder = inputs === 2 ? "x**3; cos(x*y)" : "x**3; cos(3*x)"; // its own inputs
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
      select.add(new Option(`after ${counted(Number(text), "epoch")}`, text));
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
    return readForm(this);
  }

  /** The form's values as typed (strings), for the address bar: even invalid input survives. */
  rawConfig() {
    return typedConfig(this);
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
    reveal(first?.closest("[data-field]")?.querySelector(".field-error") || this.form.querySelector("#error-form"));
  }

  /** Shows (message) or clears (empty) one field's error without touching the others. */
  setFieldError(field, message) {
    const box = this.form.querySelector(`#error-${field}`);
    if (!box) return;
    box.textContent = message || "";
    if (message) reveal(box);
    for (const input of this.form.querySelectorAll(`[data-field="${field}"] input, [data-field="${field}"] select, input[data-field="${field}"]`)) {
      if (message) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    }
  }

  clearErrors() {
    for (const box of this.form.querySelectorAll(".field-error")) box.textContent = "";
    for (const input of this.form.querySelectorAll('[aria-invalid="true"]')) input.removeAttribute("aria-invalid");
  }

  /** Shows field `field`'s problem (the schema's limits, as Train would say it) or clears it. */
  check(field) {
    if (field === "expression") return; // the server's preview says it
    const { errors } = this.read();
    this.setFieldError(field, errors[field] || "");
    if (field !== "hidden" || !errors.hidden) return;
    this.layerInputs().forEach((input, i) => { if (i !== errors.hiddenIndex) input.removeAttribute("aria-invalid"); });
  }

  /** A field was edited: re-validate just that field so its message clears as soon as it is fixed
   * (a layer's size is checked as it is typed: a blank one only once left). */
  changed(field) {
    if (field === "hidden" && this.layerInputs().every((input) => input.value.trim() !== "")) this.check("hidden");
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
