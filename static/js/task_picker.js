// The task the page shows and its previews: picking a task (the server's, "Your function", an
// upload), its heading and fit view, the preview of its data before training (POST
// /api/preview) and of the network the form describes, the slice view's inputs and an uploaded
// table's target and features, and the address bar that links to all of it.

import { api } from "./api.js";
import { createFitView, plottedInputs } from "./fit_views.js";
import { inputNames } from "./network_layout.js";
import { Previewer } from "./preview.js";
import { isEnded } from "./status.js";
import { CUSTOM_ID, DATASET_PREFIX, usesY } from "./task_kinds.js";
import { writeUrl } from "./url_state.js";

const LOSS_LABELS = { mse: "MSE", cross_entropy: "cross-entropy", bce: "BCE" };
const DEFAULT_EXPRESSION = "sin(3*x) * exp(-x**2/4)";
// Form fields whose change changes the preview, per kind of task.
const PREVIEW_FIELDS = {
  regression: new Set(["expression", "domain"]),
  classification: new Set(["domain", "samples", "noise", "seed"]),
  dataset: new Set(),
};

const $ = (selector) => document.querySelector(selector);

/** The task `custom` for an expression: a curve in x, or a surface when it uses y. */
export function customTask(expression, inputs) {
  return {
    id: CUSTOM_ID, kind: "regression", inputs, title: "Your function", formula: expression,
    domain: inputs === 2 ? [[-3, 3], [-3, 3]] : [[-3, 3]],
    defaults: { samples: inputs === 2 ? 2000 : 500 },
  };
}

export function isDataset(task) {
  return Boolean(task && task.id.startsWith(DATASET_PREFIX));
}

function outputsOf(task) {
  return task.outputs || (task.kind === "classification" ? (task.classes || 2) : 1);
}

/** The loss's name on the chart's axis; regression losses are on standardised targets. */
export function lossLabel(loss, task) {
  const name = LOSS_LABELS[loss] || loss;
  return task && task.kind !== "classification" ? `${name}, standardised targets` : name;
}

export class TaskPicker {
  /**
   * @param {object} page the page's parts: loop, views, form, schema, tasks, fallbackConfig,
   *   watch (the watched run, run_watch.js), buttons (run_buttons.js)
   */
  constructor(page) {
    this.page = page;
    this.task = null;
    this.expressionError = null; // the server's word on Your function (blocks Train)
    this.slice = null; // the slice view's two inputs, chosen for the next run
    this.fitView = null;
    this.previewer = new Previewer({
      onResult: (answer, body) => this.showPreview(answer, body),
      onErrors: (errors, body) => this.showPreviewErrors(errors, body),
    });
  }

  findTask(id) {
    return this.page.tasks.find((t) => t.id === id);
  }

  /** Another task picked: the watched run is left, the task shown. */
  changeTask(id) {
    this.page.watch.leave();
    this.selectTask(id);
  }

  /** A form field changed (`field`: its name): steer, re-preview, relabel as it asks. */
  fieldChanged(field) {
    const { schema, watch } = this.page;
    if (watch.isLive() && schema.isLive(field)) this.page.steering.steerSoon();
    if (field === "hidden" || field === "input_features") this.previewNetwork();
    if (field === "loss" && !watch.run.runId) this.labelLoss();
    if (field === "expression") this.expressionEdited();
    else if (this.previewFields().has(field)) {
      // New data: an ended run's picture no longer matches the form, the preview does.
      if (watch.run.runId && isEnded(watch.run.status)) watch.detach();
      this.requestPreview();
    }
    this.syncUrl();
  }

  selectTask(id, overrides = {}) {
    const { form, tasks } = this.page;
    let task = this.findTask(id) || tasks[0];
    if (task.id === CUSTOM_ID) {
      const typed = form.expressionInput.value.trim();
      const expression = String(overrides.expression ?? (typed || DEFAULT_EXPRESSION));
      task = customTask(expression, usesY(expression) ? 2 : 1);
      overrides = { ...overrides, expression };
    }
    this.task = task;
    this.expressionError = null;
    form.setTask(task);
    // The speed stays as chosen across tasks (a link may set it).
    const { epochs_per_second: _speed, ...defaults } = task.defaults || {};
    form.fill({ ...this.page.fallbackConfig, domain: task.domain, ...defaults, ...overrides });
    this.showHeading(task);
    this.showTaskView(task);
    this.previewed = false;
    this.previewNetwork();
    form.check("hidden"); // (a link's sizes too)
    this.labelLoss();
    this.page.buttons.updateTrainButton();
    this.requestPreview({ now: true });
    this.syncUrl();
  }

  /** The watched run is of `task` (a run's own description): the page follows it. */
  followRunTask(task) {
    this.task = task;
    this.page.form.setTask(task);
    this.showHeading(task);
    this.showTaskView(task);
  }

  showHeading(task) {
    $("#task-title").textContent = task.title;
    $("#task-heading-formula").textContent = task.formula;
    document.title = `${task.title} · Backprop Studio`;
    if (task.kind !== "classification") $("#fit-note").textContent = task.formula;
  }

  /** The loss chart's axis names the loss the form would train with (a run names its own). */
  labelLoss() {
    const { form, views, loop } = this.page;
    const loss = form.classifies() ? $("#loss").value : "mse";
    views.lossChart.setLossName(lossLabel(loss, this.task));
    loop.request();
  }

  showTaskView(task) {
    const { loop, views } = this.page;
    if (this.fitView) {
      loop.remove(this.fitView);
      this.fitView.destroy();
    }
    // Classification lays the page out differently (regions beside the network, accuracy beside
    // the loss), so switch the layout before the views measure their size.
    const classifies = task.kind === "classification";
    $(".main").classList.toggle("classification", classifies);
    $("#accuracy-card").hidden = !classifies;
    views.accuracyChart.setVisible(classifies);
    $("#fit-note").textContent = classifies ? "" : task.formula;
    this.fitView = loop.add(createFitView($("#fit-view"), task), "fit");
    if (!isDataset(task)) views.tablePreview.hide();
    views.insight.setTask(task);
    views.slicePicker.setTask(task);
    this.slice = null;
    $("#fit-title").textContent = classifies ? "Decision regions"
      : plottedInputs(task) === 2 ? "Fit · surface" : "Fit · curve";
    loop.request();
  }

  /** The network the form describes, while no run is live (a live run's network stays). */
  previewNetwork() {
    const { form, watch, views, loop } = this.page;
    // While a run trains (or is paused) its live network stays in view: the edited layers are for
    // the next run, as their "next run" tags say; the preview shows once no run is live.
    if (watch.isLive()) return;
    // A layer size out of the schema's range is said at its field; the last good preview stays.
    if (form.read().errors.hidden && this.previewed) return;
    this.previewed = true;
    const hidden = form.hiddenSizes().filter((n) => n >= 1);
    watch.showsArchitecture = true;
    const inputs = form.inputCount();
    views.network.setArchitecture([inputs, ...hidden, outputsOf(this.task)],
      watch.run.runId ? "preview of your edits — press Train to run it" : "preview — press Train to see live weights",
      inputNames(inputs, { input_features: form.inputFeatures() }, this.task));
    loop.request();
  }

  // ---- previews of the task's data before training -----------------------------------------

  previewFields() {
    if (!this.task) return PREVIEW_FIELDS.dataset;
    return PREVIEW_FIELDS[isDataset(this.task) ? "dataset" : this.task.kind] || PREVIEW_FIELDS.dataset;
  }

  /** Asks the server for the current task's preview (debounced unless `now`). */
  requestPreview({ now = false } = {}) {
    const task = this.task;
    const form = this.page.form;
    if (!task) return;
    if (isDataset(task)) {
      this.previewer.request({ task: task.id }, { now });
      return;
    }
    const { config, errors } = form.read();
    if (form.isCustom() && errors.expression) {
      this.previewer.cancel();
      this.setExpressionError(errors.expression);
      this.fitView.setPreview(null, "Type your function on the left to see it here.");
      this.page.loop.request();
      return;
    }
    if (errors.domain) return; // the form says what is wrong when Train is pressed
    const body = { task: task.id, domain: config.domain };
    if (form.isCustom()) body.expression = config.expression;
    if (task.kind === "classification") {
      if (errors.samples || errors.noise || errors.seed) return;
      Object.assign(body, { samples: config.samples, noise: config.noise, seed: config.seed });
    }
    this.previewer.request(body, { now });
  }

  showPreview(answer, body) {
    const task = this.task;
    const form = this.page.form;
    if (!task || body.task !== task.id || !answer.task || answer.task.inputs !== task.inputs) return;
    if (form.isCustom()) {
      if (body.expression !== form.read().config.expression) return; // typed on since
      // A warning names where the function is not finite: a run would be refused, so it blocks.
      this.setExpressionError(answer.warning || null);
    }
    form.setFieldError("domain", "");
    this.fitView.setPreview(answer);
    const tablePreview = this.page.views.tablePreview;
    if (answer.table && !tablePreview.table) tablePreview.show(answer.table);
    this.page.loop.request();
  }

  showPreviewErrors(errors, body) {
    const form = this.page.form;
    if (!this.task || body.task !== this.task.id) return;
    if (errors.expression && form.isCustom()) {
      this.setExpressionError(errors.expression);
      this.fitView.setPreview(null, "Fix your function on the left to see it here.");
    }
    for (const [field, message] of Object.entries(errors)) {
      if (field !== "expression") form.setFieldError(field, message);
    }
    this.page.loop.request();
  }

  setExpressionError(message) {
    this.expressionError = message;
    this.page.form.setFieldError("expression", message);
    this.page.buttons.updateTrainButton();
  }

  /** Your function was edited: a new task (curve or surface as it uses y), a new preview. */
  expressionEdited() {
    const { form, watch } = this.page;
    const expression = form.read().config.expression || "";
    const inputs = usesY(expression) ? 2 : 1;
    if (watch.run.runId) watch.leave(); // a run of the old function no longer shows what the form says
    if (inputs !== this.task.inputs) {
      const samples = form.form.elements.samples;
      const task = customTask(expression, inputs);
      // Still the default sample count of a curve (or surface)? Then take the other's default.
      if (samples.value === String(customTask("", this.task.inputs).defaults.samples)) {
        samples.value = String(task.defaults.samples);
      }
      this.task = task;
      form.setTask(task);
      this.showTaskView(task);
      this.previewNetwork();
    } else {
      this.task.formula = expression;
    }
    this.showHeading(this.task);
    this.requestPreview();
  }

  // ---- the run's extra choices and the address bar ---------------------------------------------

  /** The run config fields the form does not hold: an uploaded table's target and features (and
   * the loss its kind takes), the slice view's two inputs. */
  runChoice() {
    const fields = {};
    const tablePreview = this.page.views.tablePreview;
    if (isDataset(this.task) && tablePreview.table) {
      Object.assign(fields, tablePreview.fields());
      const kind = tablePreview.kind();
      if (kind && kind !== this.task.kind) fields.loss = kind === "regression" ? "mse" : "cross_entropy";
    }
    if (this.slice) fields.slice_features = this.slice;
    return fields;
  }

  /** A new slice view: a running run draws it at once (the server sends a fresh snapshot), else
   * the next run starts with it. */
  sliceChanged(pair) {
    const watch = this.page.watch;
    this.slice = pair;
    if (watch.isLive()) api.patchRun(watch.run.runId, { slice_features: pair }).catch(() => {});
  }

  /** The address-bar fields of a run's config (as `ConfigForm.rawConfig` writes the form's). */
  urlFieldsOf(config, task) {
    const { form, schema } = this.page;
    const fields = { hidden: config.hidden, activation: config.activation, optimizer: config.optimizer };
    if (task.id === CUSTOM_ID && config.expression) fields.expression = config.expression;
    if (task.kind === "classification") fields.loss = config.loss;
    for (const name of schema.numberFields()) {
      if (form.offers(name, config.optimizer, task) && config[name] !== undefined) fields[name] = config[name];
    }
    const pace = config.epochs_per_second;
    if (pace === null) fields.speed = "full";
    else if (pace !== undefined && pace !== "auto") fields.epochs_per_second = pace;
    const schedule = config.schedule && (config.schedule.name || config.schedule);
    if (schedule && schedule !== "constant") fields.schedule = schedule;
    if (config.input_features) fields.input_features = config.input_features.join(";");
    if (!isDataset(task) && config.domain) fields.domain = config.domain;
    return fields;
  }

  /** The URL carries the watched run's config (live changes included), else the form's: fields
   * edited for the next run stay out of the link to the run being watched. */
  syncUrl() {
    if (!this.task) return;
    const { runId, runConfig } = this.page.watch.run;
    const fields = runId && runConfig ? this.urlFieldsOf(runConfig, this.task) : this.page.form.rawConfig();
    writeUrl(this.task.id, fields, runId, this.page.schema);
    this.page.replay?.syncUrl();
  }
}
