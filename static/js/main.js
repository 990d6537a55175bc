// Backprop Studio dashboard: wires the form, the socket, the REST calls and the views together.

import { AccuracyChart } from "./accuracy_chart.js";
import { api } from "./api.js";
import {
  CUSTOM_ID, ConfigForm, ConfigSchema, DATASET_PREFIX, usesY,
} from "./controls.js";
import { createFitView, plottedInputs } from "./fit_views.js";
import { LayersView } from "./layers_view.js";
import { LossChart } from "./loss_chart.js";
import { NetworkView, inputNames } from "./network_view.js";
import { Previewer } from "./preview.js";
import { Replay } from "./replay.js";
import { RenderLoop } from "./render_loop.js";
import { RunSocket } from "./socket_client.js";
import { StatusLine, isEnded } from "./status.js";
import { onThemeChange } from "./theme.js";
import { UploadControl } from "./upload.js";
import { Insight } from "./insight.js";
import { SlicePicker } from "./slice_picker.js";
import { TablePreview } from "./table_preview.js";
import { queryToConfig, taskFromPath, writeUrl } from "./url_state.js";

const LOSS_LABELS = { mse: "MSE", cross_entropy: "cross-entropy", bce: "BCE" };
const DEFAULT_EXPRESSION = "sin(3*x) * exp(-x**2/4)";
const STEER_DELAY = 250; // ms: typing "0.05" sends one change, not four
// Form fields whose change changes the preview, per kind of task.
const PREVIEW_FIELDS = {
  regression: new Set(["expression", "domain"]),
  classification: new Set(["domain", "samples", "noise", "seed"]),
  dataset: new Set(),
};

const $ = (selector) => document.querySelector(selector);
const tasks = JSON.parse($("#studio-tasks").textContent || "[]");
const initialTask = JSON.parse($("#studio-initial-task").textContent || "null");
const initialTaskInfo = JSON.parse($("#studio-initial-task-info")?.textContent || "null");

/** The task `custom` for an expression: a curve in x, or a surface when it uses y. */
function customTask(expression, inputs) {
  return {
    id: CUSTOM_ID, kind: "regression", inputs, title: "Your function", formula: expression,
    domain: inputs === 2 ? [[-3, 3], [-3, 3]] : [[-3, 3]],
    defaults: { samples: inputs === 2 ? 2000 : 500 },
  };
}
tasks.push(customTask("", 1));
if (initialTaskInfo) tasks.push(initialTaskInfo); // an upload opened by its link
const findTask = (id) => tasks.find((t) => t.id === id);

const loop = new RenderLoop();
const status = loop.add(new StatusLine($("#status"), $("#banners")));
const lossChart = loop.add(new LossChart($("#loss-chart"), {
  smoothing: Number($("#smoothing").value), logScale: $("#log-scale").checked,
}));
const accuracyChart = loop.add(new AccuracyChart($("#accuracy-chart")));
const network = loop.add(new NetworkView($("#network-view"), $("#network-note"),
  { enlargedEl: $("#neuron-enlarged") }));
network.requestRender = () => loop.request();
const layers = loop.add(new LayersView($("#layers-view"), $("#layers-note")));
let fitView = null;
// Tasks of many inputs and images (issue 16): the test-set card, the slice view's inputs and an
// uploaded table's preview with its target and feature pickers.
const insight = loop.add(new Insight($("#insight-card")));
const slicePicker = new SlicePicker($("#slice-picker"), { onChange: sliceChanged });
const tablePreview = new TablePreview($("#table-preview"), {
  onChange: () => { state.slice = null; },
});
// Replay (issue 28): the time slider moves every view to a stored epoch (replay.js).
const replay = new Replay($("#replay"), {
  views: { fit: () => fitView, network, layers, insight, loop, charts: [lossChart, accuracyChart] },
  onSeek: () => syncUrl(),
});

/** The run config's JSON Schema: the form's choices, limits and fallback defaults. */
async function loadSchema() {
  try {
    const response = await api.schema();
    if (response.ok && response.data) return new ConfigSchema(response.data);
  } catch {
    // reported below
  }
  status.setBanner("run", "failed", "Could not load the run settings from the server: reload the page.");
  return new ConfigSchema(null);
}
const schema = await loadSchema();
// Defaults of fields a task does not set (the speed is not one: it stays as chosen).
const { epochs_per_second: _pace, ...FALLBACK_CONFIG } = schema.defaults();

const state = {
  task: null, runId: null, ownRun: false, status: "idle",
  haveSnapshot: false, fillFromSnapshot: false, preview: true,
  starting: false, expressionError: null,
  runConfig: null, // the watched run's config as the server has it (live changes included)
};

const buttons = { train: $("#train"), pause: $("#pause"), step: $("#step"), stop: $("#stop") };

/** True while the watched run can still change (queued, running, paused). */
function isLive() {
  return Boolean(state.runId) && !isEnded(state.status) && state.status !== "idle";
}

/** Leaves the watched run: the page's own live run stops, a linked one keeps going. */
function leaveRun() {
  // The page's own run stops when the user moves on to another task (it would only hold a
  // training slot, unseen); a run opened from a link is someone else's and keeps going.
  if (state.ownRun && state.runId && !isEnded(state.status)) {
    api.control(state.runId, "stop").catch(() => {});
  }
  detach();
}

function changeTask(id) {
  leaveRun();
  selectTask(id);
}

const form = new ConfigForm($("#config-form"), tasks, {
  onTaskChange: changeTask,
  onChange: (field) => {
    if (isLive() && schema.isLive(field)) steerSoon();
    if (field === "hidden" || field === "input_features") previewNetwork();
    if (field === "loss" && !state.runId) labelLoss();
    if (field === "expression") expressionEdited();
    else if (previewFields().has(field)) {
      // New data: an ended run's picture no longer matches the form, the preview does.
      if (state.runId && isEnded(state.status)) detach();
      requestPreview();
    }
    syncUrl();
  },
  onSubmit: () => train(),
}, schema);

new UploadControl($("#upload"), {
  onUploaded: (summary) => {
    form.addTask(summary.task);
    changeTask(summary.task.id);
  },
});

// ---- previews of the task before training ---------------------------------------------------

const previewer = new Previewer({ onResult: showPreview, onErrors: showPreviewErrors });

function isDataset(task) {
  return Boolean(task && task.id.startsWith(DATASET_PREFIX));
}

function previewFields() {
  if (!state.task) return PREVIEW_FIELDS.dataset;
  return PREVIEW_FIELDS[isDataset(state.task) ? "dataset" : state.task.kind] || PREVIEW_FIELDS.dataset;
}

/** Asks the server for the current task's preview (debounced unless `now`). */
function requestPreview({ now = false } = {}) {
  const task = state.task;
  if (!task) return;
  if (isDataset(task)) {
    previewer.request({ task: task.id }, { now });
    return;
  }
  const { config, errors } = form.read();
  if (form.isCustom() && errors.expression) {
    previewer.cancel();
    setExpressionError(errors.expression);
    fitView.setPreview(null, "Type your function on the left to see it here.");
    loop.request();
    return;
  }
  if (errors.domain) return; // the form says what is wrong when Train is pressed
  const body = { task: task.id, domain: config.domain };
  if (form.isCustom()) body.expression = config.expression;
  if (task.kind === "classification") {
    if (errors.samples || errors.noise || errors.seed) return;
    Object.assign(body, { samples: config.samples, noise: config.noise, seed: config.seed });
  }
  previewer.request(body, { now });
}

function showPreview(answer, body) {
  const task = state.task;
  if (!task || body.task !== task.id || !answer.task || answer.task.inputs !== task.inputs) return;
  if (form.isCustom()) {
    if (body.expression !== form.read().config.expression) return; // typed on since
    // A warning names where the function is not finite: a run would be refused, so it blocks.
    setExpressionError(answer.warning || null);
  }
  form.setFieldError("domain", "");
  fitView.setPreview(answer);
  if (answer.table && !tablePreview.table) tablePreview.show(answer.table);
  loop.request();
}

function showPreviewErrors(errors, body) {
  if (!state.task || body.task !== state.task.id) return;
  if (errors.expression && form.isCustom()) {
    setExpressionError(errors.expression);
    fitView.setPreview(null, "Fix your function on the left to see it here.");
  }
  for (const [field, message] of Object.entries(errors)) {
    if (field !== "expression") form.setFieldError(field, message);
  }
  loop.request();
}

function setExpressionError(message) {
  state.expressionError = message;
  form.setFieldError("expression", message);
  updateTrainButton();
}

/** Your function was edited: a new task (curve or surface as it uses y), a new preview. */
function expressionEdited() {
  const expression = form.read().config.expression || "";
  const inputs = usesY(expression) ? 2 : 1;
  if (state.runId) leaveRun(); // a run of the old function no longer shows what the form says
  if (inputs !== state.task.inputs) {
    const samples = form.form.elements.samples;
    const task = customTask(expression, inputs);
    // Still the default sample count of a curve (or surface)? Then take the other's default.
    if (samples.value === String(customTask("", state.task.inputs).defaults.samples)) {
      samples.value = String(task.defaults.samples);
    }
    state.task = task;
    form.setTask(task);
    showTaskView(task);
    previewNetwork();
  } else {
    state.task.formula = expression;
  }
  showHeading(state.task);
  requestPreview();
}

function updateTrainButton() {
  const blocked = form.isCustom() && Boolean(state.expressionError);
  // While a run starts the button only says so: disabling it would drop the keyboard focus.
  buttons.train.disabled = blocked;
  buttons.train.setAttribute("aria-disabled", String(state.starting));
  buttons.train.title = blocked ? "Fix your function first" : "";
}

const socket = new RunSocket({
  onSnapshot, onFrame, onDone,
  onError: (payload) => {
    status.setBanner("run", "failed", `The server has no run ${payload.run_id} (deleted, or stored in another database). Press Train to start a new one.`);
    detach({ keepDrawing: state.haveSnapshot });
    syncUrl();
    loop.request();
  },
  onConnectionChange: ({ connected, resumed }) => {
    if (!connected) status.setBanner("connection", "connection", "Connection to the server lost — reconnecting…");
    else {
      status.setBanner("connection", "connection", null);
      if (resumed) loop.request();
    }
  },
});

// ---- task and form -------------------------------------------------------------------------

function outputsOf(task) {
  return task.outputs || (task.kind === "classification" ? (task.classes || 2) : 1);
}

function selectTask(id, overrides = {}) {
  let task = findTask(id) || tasks[0];
  if (task.id === CUSTOM_ID) {
    const typed = form.expressionInput.value.trim();
    const expression = String(overrides.expression ?? (typed || DEFAULT_EXPRESSION));
    task = customTask(expression, usesY(expression) ? 2 : 1);
    overrides = { ...overrides, expression };
  }
  state.task = task;
  state.expressionError = null;
  form.setTask(task);
  // The speed stays as chosen across tasks (a link may set it).
  const { epochs_per_second: _speed, ...defaults } = task.defaults || {};
  form.fill({ ...FALLBACK_CONFIG, domain: task.domain, ...defaults, ...overrides });
  showHeading(task);
  showTaskView(task);
  previewNetwork();
  labelLoss();
  updateTrainButton();
  requestPreview({ now: true });
  syncUrl();
}

function showHeading(task) {
  $("#task-title").textContent = task.title;
  $("#task-heading-formula").textContent = task.formula;
  document.title = `${task.title} · Backprop Studio`;
  if (task.kind !== "classification") $("#fit-note").textContent = task.formula;
}

/** The loss's name on the chart's axis; regression losses are on standardised targets. */
function lossLabel(loss, task) {
  const name = LOSS_LABELS[loss] || loss;
  return task && task.kind !== "classification" ? `${name}, standardised targets` : name;
}

/** The loss chart's axis names the loss the form would train with (a run names its own). */
function labelLoss() {
  const loss = form.classifies() ? $("#loss").value : "mse";
  lossChart.setLossName(lossLabel(loss, state.task));
  loop.request();
}

function showTaskView(task) {
  if (fitView) {
    loop.remove(fitView);
    fitView.destroy();
  }
  // Classification lays the page out differently (regions beside the network, accuracy beside
  // the loss), so switch the layout before the views measure their size.
  const classifies = task.kind === "classification";
  $(".main").classList.toggle("classification", classifies);
  $("#accuracy-card").hidden = !classifies;
  accuracyChart.setVisible(classifies);
  $("#fit-note").textContent = classifies ? "" : task.formula;
  fitView = loop.add(createFitView($("#fit-view"), task));
  if (!isDataset(task)) tablePreview.hide();
  insight.setTask(task);
  slicePicker.setTask(task);
  state.slice = null;
  $("#fit-title").textContent = classifies ? "Decision regions"
    : plottedInputs(task) === 2 ? "Fit · surface" : "Fit · curve";
  loop.request();
}

function previewNetwork() {
  // While a run trains (or is paused) its live network stays in view: the edited layers are for
  // the next run, as their "next run" tags say; the preview shows once no run is live.
  if (isLive()) return;
  const hidden = form.hiddenSizes().filter((n) => n >= 1);
  state.preview = true;
  const inputs = form.inputCount();
  network.setArchitecture([inputs, ...hidden, outputsOf(state.task)],
    state.runId ? "preview of your edits — press Train to run it" : "preview — press Train to see live weights",
    inputNames(inputs, { input_features: form.inputFeatures() }, state.task));
  loop.request();
}

/** The address-bar fields of a run's config (as `ConfigForm.rawConfig` writes the form's). */
function urlFieldsOf(config, task) {
  const fields = { hidden: config.hidden, activation: config.activation, optimizer: config.optimizer };
  if (task.id === CUSTOM_ID && config.expression) fields.expression = config.expression;
  if (task.kind === "classification") fields.loss = config.loss;
  const dataset = isDataset(task);
  for (const name of schema.numberFields()) {
    if (form.offers(name, config.optimizer, task) && config[name] !== undefined) fields[name] = config[name];
  }
  const pace = config.epochs_per_second;
  if (pace === null) fields.speed = "full";
  else if (pace !== undefined && pace !== "auto") fields.epochs_per_second = pace;
  const schedule = config.schedule && (config.schedule.name || config.schedule);
  if (schedule && schedule !== "constant") fields.schedule = schedule;
  if (config.input_features) fields.input_features = config.input_features.join(";");
  if (!dataset && config.domain) fields.domain = config.domain;
  return fields;
}

/** The URL carries the watched run's config (live changes included), else the form's: fields
 * edited for the next run stay out of the link to the run being watched. */
function syncUrl() {
  if (!state.task) return;
  const fields = state.runId && state.runConfig ? urlFieldsOf(state.runConfig, state.task) : form.rawConfig();
  writeUrl(state.task.id, fields, state.runId, schema);
  replay.syncUrl();
}

// ---- live changes of a running run -----------------------------------------------------------

let steerTimer = null;

function steerSoon() {
  clearTimeout(steerTimer);
  steerTimer = setTimeout(steer, STEER_DELAY);
}

/** The steerable fields whose form value differs from the run's, as a PATCH body. */
function steeringChanges() {
  const { config, errors } = form.read();
  const run = state.runConfig || {};
  const changes = {};
  for (const name of schema.liveFields()) {
    if (!schema.usedBy(name, run.optimizer)) continue;
    const value = config[name];
    if (errors[name]) { // said at the field (a number read two ways, too: number_input.js)
      form.setFieldError(name, errors[name]);
      continue;
    }
    if (value === undefined || Number.isNaN(value)) continue;
    if (value !== run[name]) changes[name] = value;
  }
  return changes;
}

// Enter in a live field applies it to the running run at once; it never starts a new run (the
// form's implicit submission would ask to replace the run).
$("#config-form").addEventListener("keydown", (event) => {
  if (event.key !== "Enter" || !isLive() || !(event.target instanceof Element)) return;
  const field = event.target.closest("[data-field]")?.dataset.field;
  if (!schema.isLive(field)) return;
  event.preventDefault();
  clearTimeout(steerTimer);
  steer();
});

async function steer() {
  if (!isLive()) return;
  const changes = steeringChanges();
  if (!Object.keys(changes).length) return;
  const runId = state.runId;
  const response = await api.patchRun(runId, changes).catch(() => null);
  if (!response || runId !== state.runId) return;
  if (response.ok && response.data) {
    state.runConfig = { ...state.runConfig, ...(response.data.config || changes) };
    for (const name of Object.keys(changes)) form.setFieldError(name, "");
    $("#status-announce").textContent = `Applied to the running run: ${Object.keys(changes).join(", ")}`;
    syncUrl();
  } else if (response.status === 400 && response.data && response.data.errors) {
    for (const [name, message] of Object.entries(response.data.errors)) form.setFieldError(name, message);
  }
}

// ---- runs ----------------------------------------------------------------------------------

const replaceBox = $("#replace-box");

/** Train while a run trains: ask first (the Replace button starts the new run). */
function askToReplace() {
  $("#replace-text").textContent = state.ownRun
    ? "A run is training. Stop it and start a new one with these settings?"
    : "A run is training. Leave it running and watch a new one with these settings?";
  replaceBox.hidden = false;
  $("#replace-yes").focus();
}

function closeReplaceBox() {
  replaceBox.hidden = true;
}

$("#replace-yes").addEventListener("click", () => {
  closeReplaceBox();
  buttons.train.focus();
  train({ confirmed: true });
});
$("#replace-no").addEventListener("click", () => {
  closeReplaceBox();
  buttons.train.focus();
});
replaceBox.addEventListener("keydown", (event) => {
  if (event.key === "Escape") $("#replace-no").click();
});

async function train({ confirmed = false } = {}) {
  if (state.starting) return;
  if (isLive() && !confirmed) {
    askToReplace();
    return;
  }
  closeReplaceBox();
  const { config, errors } = form.read();
  if (form.isCustom() && state.expressionError && !errors.expression) {
    errors.expression = state.expressionError;
  }
  if (Object.keys(errors).length) {
    form.showErrors(errors);
    return;
  }
  form.clearErrors();
  Object.assign(config, runChoice());
  state.starting = true;
  updateTrainButton();
  const previous = state.ownRun && state.runId && !isEnded(state.status) ? state.runId : null;
  try {
    const response = await api.createRun(config);
    if (response.status === 201 && response.data) {
      // One run per page: the run this page started before makes room for the new one.
      if (previous) api.control(previous, "stop").catch(() => {});
      form.fill(response.data.config || config);
      startWatching(response.data.id, { own: true, config: response.data.config || config });
    } else if (response.data && response.data.errors) {
      form.showErrors(response.data.errors);
    } else {
      const detail = response.data && (response.data.error || response.data.message);
      form.showErrors({ form: `The server did not start the run (HTTP ${response.status})${detail ? `: ${detail}` : ""}.` });
    }
  } catch (error) {
    form.showErrors({ form: `Could not reach the server: ${error.message}` });
  } finally {
    state.starting = false;
    updateTrainButton();
  }
}

/** The run config fields the form does not hold: an uploaded table's target and features (and
 * the loss its kind takes), the slice view's two inputs. */
function runChoice() {
  const fields = {};
  if (isDataset(state.task) && tablePreview.table) {
    Object.assign(fields, tablePreview.fields());
    const kind = tablePreview.kind();
    if (kind && kind !== state.task.kind) fields.loss = kind === "regression" ? "mse" : "cross_entropy";
  }
  if (state.slice) fields.slice_features = state.slice;
  return fields;
}

/** A new slice view: a running run draws it at once (the server sends a fresh snapshot), else
 * the next run starts with it. */
function sliceChanged(pair) {
  state.slice = pair;
  if (isLive()) api.patchRun(state.runId, { slice_features: pair }).catch(() => {});
}

function startWatching(runId, { own, fillForm = false, config = null }) {
  Object.assign(state, {
    runId, ownRun: own, status: "queued", haveSnapshot: false, fillFromSnapshot: fillForm,
    runConfig: config,
  });
  status.reset(runId, "queued");
  status.setBanner("run", "failed", null);
  lossChart.clear(runId);
  accuracyChart.clear(runId);
  fitView.clear();
  layers.clear();
  replay.reset(runId);
  socket.watch(runId);
  syncUrl();
  updateButtons();
  loop.request();
}

/** Stops watching (the run itself keeps going on the server); `keepDrawing`: what the page
 * drew stays (the server forgot the run, but the user may still want to look at it). */
function detach({ keepDrawing = false } = {}) {
  socket.unwatch();
  replay.reset(null);
  Object.assign(state, {
    runId: null, ownRun: false, status: "idle", haveSnapshot: false, runConfig: null,
  });
  if (!keepDrawing) {
    status.reset();
    lossChart.clear();
    accuracyChart.clear();
    layers.clear();
    if (fitView) fitView.clear();
  }
  updateButtons();
}

function networkCaption(epoch) {
  return `live weights · epoch ${epoch ?? 0}`;
}

function onSnapshot(snapshot) {
  if (snapshot.task && state.task && isDataset(snapshot.task) && snapshot.task.id === state.task.id
      && (snapshot.task.kind !== state.task.kind || snapshot.task.inputs !== state.task.inputs)) {
    // A table trained on another target or features: its views follow the run.
    state.task = { ...state.task, ...snapshot.task, defaults: state.task.defaults };
    form.setTask(state.task);
    showHeading(state.task);
    showTaskView(state.task);
  }
  const known = snapshot.task && state.task && snapshot.task.id === state.task.id
    && snapshot.task.inputs === state.task.inputs;
  if (snapshot.task && !known) {
    // Your function and uploads are described by the run itself.
    let task = snapshot.task.id === CUSTOM_ID ? { ...snapshot.task, defaults: {} }
      : findTask(snapshot.task.id) || snapshot.task;
    if (isDataset(task) && !findTask(task.id)) form.addTask(task);
    task = task.id === CUSTOM_ID ? task : findTask(task.id) || task;
    state.task = task;
    form.setTask(task);
    showHeading(task);
    showTaskView(task);
  }
  if (snapshot.config) state.runConfig = snapshot.config;
  if (state.fillFromSnapshot && snapshot.config) {
    form.fill(snapshot.config);
    state.fillFromSnapshot = false;
    if (state.task.id === CUSTOM_ID && snapshot.task) {
      state.task.formula = snapshot.task.formula;
      showHeading(state.task);
    }
  }
  state.haveSnapshot = true;
  state.status = snapshot.status;
  loop.stats.snapshots += 1;
  const loss = snapshot.config && snapshot.config.loss;
  lossChart.setLossName(lossLabel(loss || "mse", state.task));
  lossChart.reset(snapshot.history, snapshot.run_id);
  lossChart.setMarks(snapshot);
  accuracyChart.reset(snapshot.history, snapshot.run_id);
  fitView.setSnapshot(snapshot);
  insight.setSnapshot(snapshot);
  if (snapshot.config && snapshot.config.slice_features) slicePicker.set(snapshot.config.slice_features);
  state.preview = false;
  if (snapshot.network) {
    const names = inputNames(snapshot.network.sizes[0], snapshot.config, state.task);
    network.setNetwork(snapshot.network, networkCaption(snapshot.epoch), names);
    network.setInside(snapshot.inside || null);
    layers.setSizes(snapshot.network.sizes);
  }
  layers.add(snapshot.inside, snapshot.epoch);
  status.reset(snapshot.run_id, snapshot.status);
  status.update(snapshot);
  status.updateFromHistory(snapshot.history);
  showOutcome(snapshot);
  replay.sawSnapshot(snapshot);
  syncUrl();
  updateButtons();
  loop.request();
}

function onFrame(frame) {
  if (!state.haveSnapshot) return;
  loop.stats.messages += 1;
  lossChart.append(frame.history);
  lossChart.setMarks(frame);
  accuracyChart.append(frame.history);
  const shown = replay.sawFrame(frame); // false while the replay holds a past epoch
  if (shown && frame.prediction) fitView.setPrediction(frame.prediction, frame);
  if (shown) insight.setFrame(frame);
  if (shown && frame.network && !state.preview) network.setNetwork(frame.network, networkCaption(frame.epoch));
  if (shown && frame.inside) {
    if (!state.preview) network.setInside(frame.inside);
    layers.add(frame.inside, frame.epoch);
  }
  status.update(frame);
  status.updateFromHistory(frame.history);
  if (frame.config) state.runConfig = frame.config;
  if (frame.status && frame.status !== state.status) {
    state.status = frame.status;
    updateButtons();
  }
  loop.request();
}

function onDone(done) {
  status.update(done);
  lossChart.setMarks(done);
  replay.sawDone(done);
  state.status = done.status;
  showOutcome(done);
  updateButtons();
  loop.request();
}

function showOutcome({ status: runStatus, reason, epoch }) {
  if (runStatus === "diverged") {
    status.setBanner("run", "diverged", reason
      ? `${/^diverged/i.test(reason) ? reason.replace(/^diverged/i, "Training diverged") : `Training diverged: ${reason}`}.`
      : `Training diverged at epoch ${epoch ?? "?"}: the loss stopped being a finite number. Try a smaller learning rate.`);
  } else if (runStatus === "failed") {
    status.setBanner("run", "failed", `The run failed${reason ? `: ${reason}` : "."}`);
  } else {
    status.setBanner("run", "failed", null);
  }
}

function updateButtons() {
  const s = state.status;
  const live = isLive();
  form.setLive(live);
  buttons.stop.disabled = !live;
  buttons.step.disabled = !(state.runId && s === "paused");
  buttons.pause.disabled = !(state.runId && (s === "running" || s === "paused"));
  buttons.pause.querySelector(".text").textContent = s === "paused" ? "Resume" : "Pause";
  buttons.pause.querySelector(".icon").textContent = s === "paused" ? "▶" : "❚❚";
  buttons.pause.setAttribute("aria-pressed", String(s === "paused"));
}

async function control(action) {
  if (!state.runId) return;
  const runId = state.runId;
  const response = await api.control(runId, action);
  if (runId !== state.runId) return;
  if (response.data && response.data.status) {
    state.status = response.data.status;
    status.update({ status: response.data.status });
    updateButtons();
    loop.request();
  }
}

async function stepOnce() {
  if (!state.runId || state.status !== "paused") return;
  const runId = state.runId;
  const response = await api.step(runId, { epochs: 1 }).catch(() => null);
  if (!response || runId !== state.runId || !response.data) return;
  if (response.data.status) status.update({ status: response.data.status });
  loop.request();
}

function togglePause() {
  if (state.status === "paused") control("resume");
  else if (state.status === "running") control("pause");
}

buttons.pause.addEventListener("click", togglePause);
buttons.stop.addEventListener("click", () => control("stop"));
buttons.step.addEventListener("click", stepOnce);

// Space pauses/resumes a live run unless focus is somewhere Space types or toggles.
function spaceBelongsToFocus(target) {
  if (!(target instanceof Element)) return false;
  if (target.isContentEditable) return true;
  if (target.matches("textarea, select")) return true;
  if (target.matches("input")) return !["range", "button", "submit"].includes(target.type);
  return false;
}
function isSpace(event) {
  return event.code === "Space" || event.key === " ";
}
document.addEventListener("keydown", (event) => {
  if (!isSpace(event) || event.ctrlKey || event.metaKey || event.altKey) return;
  if (spaceBelongsToFocus(event.target)) return;
  if (!state.runId || !(state.status === "running" || state.status === "paused")) return;
  event.preventDefault();
  if (!event.repeat) togglePause();
}, true);
// "." steps one epoch while paused (unless focus is in a field that types it).
document.addEventListener("keydown", (event) => {
  if (event.key !== "." || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof Element && (target.isContentEditable || target.matches("input, textarea, select"))) return;
  if (state.runId && state.status === "paused") {
    event.preventDefault();
    stepOnce();
  }
}, true);
document.addEventListener("keyup", (event) => {
  // Keep a focused button from also "clicking" on the key release.
  if (isSpace(event) && state.runId && !spaceBelongsToFocus(event.target)
      && (state.status === "running" || state.status === "paused")) event.preventDefault();
}, true);

// ---- chart controls and theme ---------------------------------------------------------------

$("#log-scale").addEventListener("change", (event) => {
  lossChart.setLogScale(event.target.checked);
  loop.request();
});
$("#smoothing").addEventListener("input", (event) => {
  const weight = Number(event.target.value);
  $("#smoothing-value").textContent = weight.toFixed(2);
  lossChart.setSmoothing(weight);
  loop.request();
});
onThemeChange(() => {
  for (const view of [lossChart, accuracyChart, network, layers, fitView]) view.retheme();
  loop.request();
});

onThemeChange(() => insight.retheme());

// Charts follow their box, not only the window: switching between the regression and the
// classification layout resizes them.
for (const chart of [lossChart, accuracyChart]) {
  new ResizeObserver(() => {
    if (chart.el.data && chart.el.offsetParent !== null) window.Plotly.Plots.resize(chart.el);
  }).observe(chart.el);
}

// ---- start ---------------------------------------------------------------------------------

function start() {
  if (!tasks.length) {
    status.setBanner("run", "failed", "The server offers no tasks.");
    return;
  }
  const { config, runId } = queryToConfig(window.location.search, schema);
  const first = initialTask || taskFromPath(window.location.pathname);
  selectTask(findTask(first) ? first : (findTask("sin") ? "sin" : tasks[0].id), config);
  if (runId) startWatching(runId, { own: false, fillForm: true });
  updateButtons();
  loop.request();
}

start();

// A handle for tests, benchmarks and curious users in the console.
window.studio = {
  state, stats: loop.stats, replay, lossChart, accuracyChart, network, layers, form, socket, previewer, schema,
  get fitView() { return fitView; },
};
Object.assign(window.studio, { insight, slicePicker, tablePreview });
