// The watched run: which run the page shows and what it knows of it (`RunWatch.run`, the one
// object that holds it), and the Socket.IO handling that keeps its views up to date (a
// snapshot draws everything, each `frame` adds to it, `done` ends it).

import { api } from "./api.js";
import { inputNames } from "./network_layout.js";
import { learnOwner } from "./run_owner.js";
import { RunSocket } from "./socket_client.js";
import { focusOffTrain } from "./space_guard.js";
import { isEnded } from "./status.js";
import { CUSTOM_ID } from "./task_kinds.js";
import { isDataset, lossLabel } from "./task_picker.js";

function networkCaption(epoch) {
  return `live weights · epoch ${epoch ?? 0}`;
}

/** Tells the page's other parts (the task's run list) that the watched run's status changed. */
function announce(runId, status) {
  document.dispatchEvent(new CustomEvent("studio-run", { detail: { runId, status } }));
}

/** The banner text of a run that ended badly, or null. */
function outcomeText({ status: runStatus, reason, epoch }) {
  if (runStatus === "diverged") {
    return reason
      ? `${/^diverged/i.test(reason) ? reason.replace(/^diverged/i, "Training diverged") : `Training diverged: ${reason}`}.`
      : `Training diverged at epoch ${epoch ?? "?"}: the loss stopped being a finite number. Try a smaller learning rate.`;
  }
  if (runStatus === "failed") return `The run failed${reason ? `: ${reason}` : "."}`;
  return null;
}

export class RunWatch {
  /**
   * @param {object} page the page's parts: loop, views, form, picker (task_picker.js), buttons
   *   (run_buttons.js)
   */
  constructor(page) {
    this.page = page;
    /** The watched run: its id (null: none), whether this page started it, its status, whether
     * its snapshot arrived, whether that snapshot fills the form, its config as the server has it
     * (live changes included), its owner's name and whether this page may steer it (run_owner.js). */
    this.run = {
      runId: null, ownRun: false, status: "idle", haveSnapshot: false, fillFromSnapshot: false,
      runConfig: null, owner: null, yours: true,
    };
    this.showsArchitecture = true; // the network view shows the form's architecture, not the run's
    const status = page.views.status;
    this.socket = new RunSocket({
      onSnapshot: (snapshot) => this.onSnapshot(snapshot),
      onFrame: (frame) => this.onFrame(frame),
      onDone: (done) => this.onDone(done),
      onError: (payload) => this.unknown(payload.run_id, payload.message),
      onConnectionChange: ({ connected, resumed }) => {
        if (!connected) status.setBanner("connection", "connection", "Connection to the server lost — reconnecting…");
        else {
          status.setBanner("connection", "connection", null);
          if (resumed) page.loop.request();
        }
      },
    });
  }

  /** True while the watched run can still change (queued, running, paused). */
  isLive() {
    const { runId, status } = this.run;
    return Boolean(runId) && !isEnded(status) && status !== "idle";
  }

  /** Leaves the watched run: the page's own live run stops, a linked one keeps going. */
  leave() {
    // The page's own run stops when the user moves on to another task (it would only hold a
    // training slot, unseen); a run opened from a link is someone else's and keeps going.
    const { runId, ownRun, status } = this.run;
    if (ownRun && runId && !isEnded(status)) api.control(runId, "stop").catch(() => {});
    this.detach();
  }

  /** The server has no run `runId`: say so, with the server's `why` when it has one (a short
   * id too short to tell), else the likely causes (what the page drew of it stays). */
  unknown(runId, why = "") {
    this.detach({ keepDrawing: this.run.haveSnapshot });
    const reason = why.match(/\(([^)]*short id[^)]*)\)/)?.[1] ?? "deleted, or stored in another database";
    this.page.views.status.setBanner("run", "failed", `The server has no run ${runId} (${reason}). Press Train to start a new one.`);
    this.page.picker.syncUrl();
    this.page.loop.request();
  }

  start(runId, { own, fillForm = false, config = null }) {
    const { views, picker, loop } = this.page;
    Object.assign(this.run, {
      runId, ownRun: own, status: "queued", haveSnapshot: false, fillFromSnapshot: fillForm,
      runConfig: config,
    });
    views.status.reset(runId, "queued");
    views.status.setBanner("run", "failed", null);
    views.lossChart.clear(runId);
    views.accuracyChart.clear(runId);
    picker.fitView.clear();
    views.layers.clear();
    this.page.replay?.reset(runId);
    this.socket.watch(runId);
    learnOwner(this.page, runId, own);
    picker.syncUrl();
    this.page.buttons.updateButtons();
    loop.request();
  }

  /** Stops watching (the run itself keeps going on the server); `keepDrawing`: what the page
   * drew stays (the server forgot the run, but the user may still want to look at it). */
  detach({ keepDrawing = false } = {}) {
    const { views, picker } = this.page;
    this.socket.unwatch();
    this.page.replay?.reset(null);
    Object.assign(this.run, {
      runId: null, ownRun: false, status: "idle", haveSnapshot: false, runConfig: null,
      owner: null, yours: true,
    });
    if (!keepDrawing) {
      views.status.reset();
      views.lossChart.clear();
      views.accuracyChart.clear();
      views.layers.clear();
      if (picker.fitView) picker.fitView.clear();
    }
    this.page.buttons.updateButtons();
  }

  /** The snapshot's task, when the page does not show it yet (a link, a table trained on other
   * columns): the page follows the run. */
  followTask(snapshot) {
    const { picker, form } = this.page;
    const current = picker.task;
    if (!snapshot.task) return;
    if (current && isDataset(snapshot.task) && snapshot.task.id === current.id
        && (snapshot.task.kind !== current.kind || snapshot.task.inputs !== current.inputs)) {
      // A table trained on another target or features: its views follow the run.
      picker.followRunTask({ ...current, ...snapshot.task, defaults: current.defaults });
    }
    const known = picker.task && snapshot.task.id === picker.task.id
      && snapshot.task.inputs === picker.task.inputs;
    if (known) return;
    // Your function and uploads are described by the run itself.
    let task = snapshot.task.id === CUSTOM_ID ? { ...snapshot.task, defaults: {} }
      : picker.findTask(snapshot.task.id) || snapshot.task;
    if (isDataset(task) && !picker.findTask(task.id)) form.addTask(task);
    task = task.id === CUSTOM_ID ? task : picker.findTask(task.id) || task;
    picker.followRunTask(task);
  }

  onSnapshot(snapshot) {
    const { views, picker, form, loop } = this.page;
    const run = this.run;
    if (snapshot.run_id !== run.runId) { // a link's short id: the server says whose it is
      run.runId = snapshot.run_id;
      picker.syncUrl();
    }
    this.followTask(snapshot);
    if (snapshot.config) run.runConfig = snapshot.config;
    if (run.fillFromSnapshot && snapshot.config) {
      form.fill(snapshot.config);
      run.fillFromSnapshot = false;
      if (picker.task.id === CUSTOM_ID && snapshot.task) {
        picker.task.formula = snapshot.task.formula;
        picker.showHeading(picker.task);
      }
    }
    run.haveSnapshot = true;
    run.status = snapshot.status;
    loop.stats.snapshots += 1;
    const loss = snapshot.config && snapshot.config.loss;
    views.lossChart.setLossName(lossLabel(loss || "mse", picker.task));
    views.lossChart.reset(snapshot.history, snapshot.run_id);
    views.lossChart.setMarks(snapshot);
    views.accuracyChart.reset(snapshot.history, snapshot.run_id);
    // the slice first: the views name their axes by it (slice_picker.js plottedNames)
    if (snapshot.config && snapshot.config.slice_features) views.slicePicker.set(snapshot.config.slice_features);
    picker.fitView.setSnapshot(snapshot);
    views.insight.setSnapshot(snapshot);
    this.showsArchitecture = false;
    if (snapshot.network) {
      const names = inputNames(snapshot.network.sizes[0], snapshot.config, snapshot.task || picker.task);
      views.network.setNetwork(snapshot.network, networkCaption(snapshot.epoch), names);
      views.network.setInside(snapshot.inside || null);
      views.layers.setSizes(snapshot.network.sizes);
    }
    views.layers.add(snapshot.inside, snapshot.epoch);
    views.status.reset(snapshot.run_id, snapshot.status);
    views.status.update(snapshot);
    views.status.updateFromHistory(snapshot.history);
    this.showOutcome(snapshot);
    this.page.replay?.sawSnapshot(snapshot);
    // views of their own (the Backprop tab) follow the watched run from its first weights on
    document.dispatchEvent(new CustomEvent("studio-snapshot", { detail: { runId: snapshot.run_id } }));
    picker.syncUrl();
    this.page.buttons.updateButtons();
    loop.request();
  }

  onFrame(frame) {
    if (!this.run.haveSnapshot) return;
    this.page.loop.stats.messages += 1;
    this.page.loop.timed("frame", () => this.takeFrame(frame));
  }

  /** Hands a frame's data to the views (they draw on the next animation frame). */
  takeFrame(frame) {
    const { views, picker, loop } = this.page;
    const run = this.run;
    views.lossChart.append(frame.history);
    views.lossChart.setMarks(frame);
    views.accuracyChart.append(frame.history);
    const shown = this.page.replay ? this.page.replay.sawFrame(frame) : true; // false: a past epoch held
    if (shown && frame.prediction) picker.fitView.setPrediction(frame.prediction, frame);
    if (shown) views.insight.setFrame(frame);
    if (shown && frame.network && !this.showsArchitecture) views.network.setNetwork(frame.network, networkCaption(frame.epoch));
    if (shown && frame.inside) {
      if (!this.showsArchitecture) views.network.setInside(frame.inside);
      views.layers.add(frame.inside, frame.epoch);
    }
    views.status.update(frame);
    views.status.updateFromHistory(frame.history);
    if (frame.config) run.runConfig = frame.config;
    if (frame.status && frame.status !== run.status) {
      run.status = frame.status;
      this.page.buttons.updateButtons();
      announce(run.runId, run.status);
    }
    loop.request();
  }

  onDone(done) {
    const { views, loop } = this.page;
    focusOffTrain(this.page.buttons.train, document.querySelector("#status"));
    views.status.update(done);
    views.lossChart.setMarks(done);
    for (const chart of [views.lossChart, views.accuracyChart]) chart.settle();
    this.page.replay?.sawDone(done);
    this.run.status = done.status;
    announce(this.run.runId, done.status);
    this.showOutcome(done);
    this.page.buttons.updateButtons();
    loop.request();
  }

  showOutcome(outcome) {
    const kind = outcome.status === "diverged" ? "diverged" : "failed";
    this.page.views.status.setBanner("run", kind, outcomeText(outcome));
  }
}
