// Backprop Studio dashboard: builds the views and the page's parts and wires them together.
//
// The parts, each in its own module and each handed the others through one `page` object:
//   picker   task_picker.js  the task shown, its previews, the address bar
//   watch    run_watch.js    the watched run (`watch.run`) and its Socket.IO events
//   buttons  run_buttons.js  Train, Pause/Resume, Step, Stop
//   steering steering.js     live changes of a running run
//   keyboard keyboard.js     Space and "." shortcuts

import { AccuracyChart } from "./accuracy_chart.js";
import { api } from "./api.js";
import { ConfigSchema } from "./config_schema.js";
import { ConfigForm } from "./controls.js";
import { Insight } from "./insight.js";
import { installShortcuts } from "./keyboard.js";
import { LayersView } from "./layers_view.js";
import { LossChart } from "./loss_chart.js";
import { NetworkView } from "./network_view.js";
import { RenderLoop } from "./render_loop.js";
import { Replay } from "./replay.js";
import { RunButtons } from "./run_buttons.js";
import { RunWatch } from "./run_watch.js";
import { SlicePicker } from "./slice_picker.js";
import { StatusLine } from "./status.js";
import { Steering } from "./steering.js";
import { TablePreview } from "./table_preview.js";
import { TaskPicker, customTask } from "./task_picker.js";
import { onThemeChange } from "./theme.js";
import { UploadControl } from "./upload.js";
import { queryToConfig, taskFromPath } from "./url_state.js";

const $ = (selector) => document.querySelector(selector);

/** The tasks the picker offers: the server's, Your function, and an upload opened by its link. */
function readTasks() {
  const tasks = JSON.parse($("#studio-tasks").textContent || "[]");
  tasks.push(customTask("", 1));
  const initialTaskInfo = JSON.parse($("#studio-initial-task-info")?.textContent || "null");
  if (initialTaskInfo) tasks.push(initialTaskInfo);
  return tasks;
}

/** The views, each registered with the render loop. */
function createViews(loop, handlers) {
  const views = {
    status: loop.add(new StatusLine($("#status"), $("#banners")), "status"),
    lossChart: loop.add(new LossChart($("#loss-chart"), {
      smoothing: Number($("#smoothing").value), logScale: $("#log-scale").checked,
    }), "loss"),
    accuracyChart: loop.add(new AccuracyChart($("#accuracy-chart")), "accuracy"),
    network: loop.add(new NetworkView($("#network-view"), $("#network-note"),
      { enlargedEl: $("#neuron-enlarged") }), "network"),
    layers: loop.add(new LayersView($("#layers-view"), $("#layers-note")), "layers"),
    // Tasks of many inputs and images (issue 16): the test-set card, the slice view's inputs
    // and an uploaded table's preview with its target and feature pickers.
    insight: loop.add(new Insight($("#insight-card")), "insight"),
    slicePicker: new SlicePicker($("#slice-picker"), { onChange: handlers.onSlice }),
    tablePreview: new TablePreview($("#table-preview"), { onChange: handlers.onTable }),
  };
  views.network.requestRender = () => loop.request();
  return views;
}

/** The run config's JSON Schema: the form's choices, limits and fallback defaults. */
async function loadSchema(status) {
  try {
    const response = await api.schema();
    if (response.ok && response.data) return new ConfigSchema(response.data);
  } catch {
    // reported below
  }
  status.setBanner("run", "failed", "Could not load the run settings from the server: reload the page.");
  return new ConfigSchema(null);
}

/** The loss chart's controls, the theme, and charts that follow their box. */
function wireCharts(page) {
  const { loop, views } = page;
  $("#log-scale").addEventListener("change", (event) => {
    views.lossChart.setLogScale(event.target.checked);
    loop.request();
  });
  $("#smoothing").addEventListener("input", (event) => {
    const weight = Number(event.target.value);
    $("#smoothing-value").textContent = weight.toFixed(2);
    views.lossChart.setSmoothing(weight);
    loop.request();
  });
  onThemeChange(() => {
    const { lossChart, accuracyChart, network, layers, insight } = views;
    for (const view of [lossChart, accuracyChart, network, layers, page.picker.fitView]) view.retheme();
    insight.retheme();
    loop.request();
  });
  // Charts follow their box, not only the window: switching between the regression and the
  // classification layout resizes them.
  for (const chart of [views.lossChart, views.accuracyChart]) {
    new ResizeObserver(() => {
      if (chart.el.data && chart.el.offsetParent !== null) window.Plotly.Plots.resize(chart.el);
    }).observe(chart.el);
  }
}

/** The page's task and run from the address (or the server's initial task). */
function start(page) {
  const { tasks, picker, watch, buttons, views, schema, loop } = page;
  if (!tasks.length) {
    views.status.setBanner("run", "failed", "The server offers no tasks.");
    return;
  }
  const { config, runId } = queryToConfig(window.location.search, schema);
  const initialTask = JSON.parse($("#studio-initial-task").textContent || "null");
  const first = initialTask || taskFromPath(window.location.pathname);
  picker.selectTask(picker.findTask(first) ? first : (picker.findTask("sin") ? "sin" : tasks[0].id), config);
  if (runId) watch.start(runId, { own: false, fillForm: true }); // an id, or a unique prefix
  buttons.updateButtons();
  loop.request();
}

/** The handle for tests, benchmarks and curious users in the console: `state` reads the page's
 * parts (the watched run's fields, the task, whether the network view shows the architecture). */
function studioHandle(page) {
  const { watch, picker, views, loop } = page;
  const state = {};
  for (const key of Object.keys(watch.run)) {
    Object.defineProperty(state, key, { get: () => watch.run[key], enumerable: true });
  }
  Object.defineProperties(state, {
    task: { get: () => picker.task, enumerable: true },
    preview: { get: () => watch.showsArchitecture, enumerable: true },
    starting: { get: () => page.buttons.starting, enumerable: true },
    expressionError: { get: () => picker.expressionError, enumerable: true },
  });
  return {
    state, stats: loop.stats, lossChart: views.lossChart, accuracyChart: views.accuracyChart,
    network: views.network, layers: views.layers, form: page.form, socket: watch.socket,
    previewer: picker.previewer, schema: page.schema, insight: views.insight,
    slicePicker: views.slicePicker, tablePreview: views.tablePreview, page, replay: page.replay,
    get fitView() { return picker.fitView; },
  };
}

const loop = new RenderLoop();
const page = { loop, tasks: readTasks() };
page.views = createViews(loop, {
  onSlice: (pair) => page.picker.sliceChanged(pair),
  onTable: () => { page.picker.slice = null; },
});
page.schema = await loadSchema(page.views.status);
// Defaults of fields a task does not set (the speed is not one: it stays as chosen).
const { epochs_per_second: _pace, ...fallbackConfig } = page.schema.defaults();
page.fallbackConfig = fallbackConfig;
page.form = new ConfigForm($("#config-form"), page.tasks, {
  onTaskChange: (id) => page.picker.changeTask(id),
  onChange: (field) => page.picker.fieldChanged(field),
  onSubmit: () => page.buttons.startRun(),
}, page.schema);
page.picker = new TaskPicker(page);
page.buttons = new RunButtons(page);
page.watch = new RunWatch(page);
page.steering = new Steering(page);
// Replay (issue 28): the time slider moves every view to a stored epoch (replay.js).
page.replay = new Replay($("#replay"), {
  views: {
    fit: () => page.picker.fitView, network: page.views.network, layers: page.views.layers,
    insight: page.views.insight, loop, charts: [page.views.lossChart, page.views.accuracyChart],
  },
  onSeek: (epoch) => { // the epoch shown, null when back to live; the Backprop view follows
    page.picker.syncUrl();
    document.dispatchEvent(new CustomEvent("studio-replay", { detail: { epoch } }));
  },
});
installShortcuts(page.watch, page.buttons);
new UploadControl($("#upload"), {
  onUploaded: (summary) => {
    page.form.addTask(summary.task);
    page.picker.changeTask(summary.task.id);
  },
});
wireCharts(page);
start(page);
window.studio = studioHandle(page);
