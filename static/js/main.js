// Backprop Studio dashboard: wires the form, the socket, the REST calls and the views together.

import { AccuracyChart } from "./accuracy_chart.js";
import { api } from "./api.js";
import { ConfigForm } from "./controls.js";
import { createFitView } from "./fit_views.js";
import { LossChart } from "./loss_chart.js";
import { NetworkView } from "./network_view.js";
import { RenderLoop } from "./render_loop.js";
import { RunSocket } from "./socket_client.js";
import { StatusLine, isEnded } from "./status.js";
import { onThemeChange } from "./theme.js";
import { queryToConfig, taskFromPath, writeUrl } from "./url_state.js";

const FALLBACK_CONFIG = {
  hidden: [32, 32], activation: "tanh", optimizer: "adam", lr: 0.01, momentum: 0.9,
  weight_decay: 0, batch_size: 32, epochs: 500, samples: 500, test_fraction: 0.3, noise: 0,
  seed: 0,
};
const LOSS_LABELS = { mse: "MSE", cross_entropy: "cross-entropy", bce: "BCE" };

const $ = (selector) => document.querySelector(selector);
const tasks = JSON.parse($("#studio-tasks").textContent || "[]");
const initialTask = JSON.parse($("#studio-initial-task").textContent || "null");
const taskById = new Map(tasks.map((t) => [t.id, t]));

const loop = new RenderLoop();
const status = loop.add(new StatusLine($("#status"), $("#banners")));
const lossChart = loop.add(new LossChart($("#loss-chart"), {
  smoothing: Number($("#smoothing").value), logScale: $("#log-scale").checked,
}));
const accuracyChart = loop.add(new AccuracyChart($("#accuracy-chart")));
const network = loop.add(new NetworkView($("#network-view"), $("#network-note")));
network.requestRender = () => loop.request();
let fitView = null;

const state = {
  task: null, runId: null, ownRun: false, status: "idle",
  haveSnapshot: false, fillFromSnapshot: false, preview: true,
};

const buttons = { train: $("#train"), pause: $("#pause"), stop: $("#stop") };

const form = new ConfigForm($("#config-form"), tasks, {
  onTaskChange: (id) => {
    // The page's own run stops when the user moves on to another task (it would only hold a
    // training slot, unseen); a run opened from a link is someone else's and keeps going.
    if (state.ownRun && state.runId && !isEnded(state.status)) {
      api.control(state.runId, "stop").catch(() => {});
    }
    detach();
    selectTask(id);
  },
  onChange: (field) => {
    if (field === "hidden") previewNetwork();
    if (field === "loss" && !state.runId) labelLoss();
    syncUrl();
  },
  onSubmit: () => train(),
});

const socket = new RunSocket({
  onSnapshot, onFrame, onDone,
  onError: (payload) => {
    status.setBanner("run", "failed", `The server does not know run ${payload.run_id} (runs are forgotten when the server restarts). Press Train to start a new one.`);
    detach();
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
  const task = taskById.get(id) || tasks[0];
  state.task = task;
  form.setTask(task);
  form.fill({ ...FALLBACK_CONFIG, domain: task.domain, ...(task.defaults || {}), ...overrides });
  $("#task-title").textContent = task.title;
  $("#task-heading-formula").textContent = task.formula;
  document.title = `${task.title} · Backprop Studio`;
  showTaskView(task);
  previewNetwork();
  labelLoss();
  syncUrl();
}

/** The loss chart's axis names the loss the form would train with (a run names its own). */
function labelLoss() {
  const loss = form.classifies() ? $("#loss").value : "mse";
  lossChart.setLossName(LOSS_LABELS[loss] || loss);
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
  $("#fit-title").textContent = classifies ? "Decision regions"
    : task.inputs === 2 ? "Fit · surface" : "Fit · curve";
  loop.request();
}

function previewNetwork() {
  const hidden = form.hiddenSizes().filter((n) => n >= 1);
  state.preview = true;
  network.setArchitecture([state.task.inputs, ...hidden, outputsOf(state.task)],
    state.runId ? "preview of your edits — press Train to run it" : "preview — press Train to see live weights");
  loop.request();
}

function syncUrl() {
  if (state.task) writeUrl(state.task.id, form.rawConfig(), state.runId);
}

// ---- runs ----------------------------------------------------------------------------------

async function train() {
  const { config, errors } = form.read();
  if (Object.keys(errors).length) {
    form.showErrors(errors);
    return;
  }
  form.clearErrors();
  buttons.train.disabled = true;
  const previous = state.ownRun && state.runId && !isEnded(state.status) ? state.runId : null;
  try {
    const response = await api.createRun(config);
    if (response.status === 201 && response.data) {
      // One run per page: the run this page started before makes room for the new one.
      if (previous) api.control(previous, "stop").catch(() => {});
      form.fill(response.data.config || config);
      startWatching(response.data.id, { own: true });
    } else if (response.data && response.data.errors) {
      form.showErrors(response.data.errors);
    } else {
      const detail = response.data && (response.data.error || response.data.message);
      form.showErrors({ form: `The server did not start the run (HTTP ${response.status})${detail ? `: ${detail}` : ""}.` });
    }
  } catch (error) {
    form.showErrors({ form: `Could not reach the server: ${error.message}` });
  } finally {
    buttons.train.disabled = false;
  }
}

function startWatching(runId, { own, fillForm = false }) {
  Object.assign(state, {
    runId, ownRun: own, status: "queued", haveSnapshot: false, fillFromSnapshot: fillForm,
  });
  status.reset(runId, "queued");
  status.setBanner("run", "failed", null);
  lossChart.clear(runId);
  accuracyChart.clear(runId);
  fitView.clear();
  socket.watch(runId);
  syncUrl();
  updateButtons();
  loop.request();
}

/** Stops watching (the run itself keeps going on the server). */
function detach() {
  socket.unwatch();
  Object.assign(state, { runId: null, ownRun: false, status: "idle", haveSnapshot: false });
  status.reset();
  lossChart.clear();
  accuracyChart.clear();
  if (fitView) fitView.clear();
  updateButtons();
}

function networkCaption(epoch) {
  return `live weights · epoch ${epoch ?? 0}`;
}

function onSnapshot(snapshot) {
  if (snapshot.task && (!state.task || snapshot.task.id !== state.task.id)) {
    const task = taskById.get(snapshot.task.id) || snapshot.task;
    state.task = task;
    form.setTask(task);
    $("#task-title").textContent = task.title;
    $("#task-heading-formula").textContent = task.formula;
    showTaskView(task);
  }
  if (state.fillFromSnapshot && snapshot.config) {
    form.fill(snapshot.config);
    state.fillFromSnapshot = false;
  }
  state.haveSnapshot = true;
  state.status = snapshot.status;
  loop.stats.snapshots += 1;
  const loss = snapshot.config && snapshot.config.loss;
  lossChart.setLossName(LOSS_LABELS[loss] || (loss ? loss : "MSE"));
  lossChart.reset(snapshot.history, snapshot.run_id);
  accuracyChart.reset(snapshot.history, snapshot.run_id);
  fitView.setSnapshot(snapshot);
  state.preview = false;
  if (snapshot.network) network.setNetwork(snapshot.network, networkCaption(snapshot.epoch));
  status.reset(snapshot.run_id, snapshot.status);
  status.update(snapshot);
  status.updateFromHistory(snapshot.history);
  showOutcome(snapshot);
  syncUrl();
  updateButtons();
  loop.request();
}

function onFrame(frame) {
  if (!state.haveSnapshot) return;
  loop.stats.messages += 1;
  lossChart.append(frame.history);
  accuracyChart.append(frame.history);
  if (frame.prediction) fitView.setPrediction(frame.prediction, frame);
  if (frame.network && !state.preview) network.setNetwork(frame.network, networkCaption(frame.epoch));
  status.update(frame);
  status.updateFromHistory(frame.history);
  if (frame.status && frame.status !== state.status) {
    state.status = frame.status;
    updateButtons();
  }
  loop.request();
}

function onDone(done) {
  status.update(done);
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
  const live = Boolean(state.runId) && !isEnded(s) && s !== "idle";
  buttons.stop.disabled = !live;
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

function togglePause() {
  if (state.status === "paused") control("resume");
  else if (state.status === "running") control("pause");
}

buttons.pause.addEventListener("click", togglePause);
buttons.stop.addEventListener("click", () => control("stop"));

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
  for (const view of [lossChart, accuracyChart, network, fitView]) view.retheme();
  loop.request();
});

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
  const { config, runId } = queryToConfig(window.location.search);
  const first = initialTask || taskFromPath(window.location.pathname);
  selectTask(taskById.has(first) ? first : (taskById.has("sin") ? "sin" : tasks[0].id), config);
  if (runId) startWatching(runId, { own: false, fillForm: true });
  updateButtons();
  loop.request();
}

start();

// A handle for tests, benchmarks and curious users in the console.
window.studio = {
  state, stats: loop.stats, lossChart, accuracyChart, network, form, socket,
  get fitView() { return fitView; },
};
