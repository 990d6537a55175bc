// Starting and controlling runs: Train (asking first when a run is training), Pause/Resume,
// Step and Stop, and what each button offers for the watched run's status.

import { api } from "./api.js";
import { maySteer, showOwnerLock } from "./run_owner.js";
import { guardTrainSpace } from "./space_guard.js";
import { isEnded } from "./status.js";

const $ = (selector) => document.querySelector(selector);

export class RunButtons {
  /**
   * @param {object} page the page's parts: loop, views, form, picker (task_picker.js), watch
   *   (run_watch.js)
   */
  constructor(page) {
    this.page = page;
    this.starting = false; // a POST /api/runs is on its way
    this.train = $("#train");
    this.pause = $("#pause");
    this.step = $("#step");
    this.stop = $("#stop");
    this.replaceBox = $("#replace-box");
    this.pause.addEventListener("click", () => this.togglePause());
    this.stop.addEventListener("click", () => this.control("stop"));
    this.step.addEventListener("click", () => this.stepOnce());
    guardTrainSpace(this.train, () => {
      const { runId, status } = this.page.watch.run;
      return Boolean(runId) && isEnded(status);
    });
    $("#replace-yes").addEventListener("click", () => {
      this.closeReplaceBox();
      this.train.focus();
      this.startRun({ confirmed: true });
    });
    $("#replace-no").addEventListener("click", () => {
      this.closeReplaceBox();
      this.train.focus();
    });
    this.replaceBox.addEventListener("keydown", (event) => {
      if (event.key === "Escape") $("#replace-no").click();
    });
  }

  updateTrainButton() {
    const { form, picker } = this.page;
    const blocked = form.isCustom() && Boolean(picker.expressionError);
    // While a run starts the button only says so: disabling it would drop the keyboard focus.
    this.train.disabled = blocked;
    this.train.setAttribute("aria-disabled", String(this.starting || blocked));
    this.train.title = blocked ? "Fix your function first" : "";
  }

  /** What the buttons offer for the watched run's status. */
  updateButtons() {
    const { watch, form } = this.page;
    const { runId, status: s } = watch.run;
    const live = watch.isLive();
    const steer = maySteer(watch); // false: someone else's run (run_owner.js)
    form.setLive(live);
    showOwnerLock(this.page, live && !steer);
    this.stop.disabled = !live || !steer;
    this.step.disabled = !(runId && s === "paused" && steer);
    this.pause.disabled = !(runId && (s === "running" || s === "paused") && steer);
    this.pause.querySelector(".text").textContent = s === "paused" ? "Resume" : "Pause";
    this.pause.querySelector(".icon").textContent = s === "paused" ? "▶" : "❚❚";
    this.pause.setAttribute("aria-pressed", String(s === "paused"));
  }

  /** Train while a run trains: ask first (the Replace button starts the new run). */
  askToReplace() {
    $("#replace-text").textContent = this.page.watch.run.ownRun
      ? "A run is training. Stop it and start a new one with these settings?"
      : "A run is training. Leave it running and watch a new one with these settings?";
    this.replaceBox.hidden = false;
    $("#replace-yes").focus();
  }

  closeReplaceBox() {
    this.replaceBox.hidden = true;
  }

  /** Train pressed (`confirmed`: the user agreed to replace the training run). */
  async startRun({ confirmed = false } = {}) {
    const { form, picker, watch } = this.page;
    if (this.starting) return;
    if (watch.isLive() && !confirmed) {
      this.askToReplace();
      return;
    }
    this.closeReplaceBox();
    const { config, errors } = form.read();
    if (form.isCustom() && picker.expressionError && !errors.expression) {
      errors.expression = picker.expressionError;
    }
    if (Object.keys(errors).length) {
      form.showErrors(errors);
      return;
    }
    form.clearErrors();
    Object.assign(config, picker.runChoice());
    this.starting = true;
    this.updateTrainButton();
    const { runId, ownRun, status } = watch.run;
    const previous = ownRun && runId && !isEnded(status) ? runId : null;
    try {
      const response = await api.createRun(config);
      if (response.status === 201 && response.data) {
        // One run per page: the run this page started before makes room for the new one.
        if (previous) api.control(previous, "stop").catch(() => {});
        form.fill(response.data.config || config);
        watch.start(response.data.id, { own: true, config: response.data.config || config });
      } else if (response.data && response.data.errors) {
        form.showErrors(response.data.errors);
      } else {
        const detail = response.data && (response.data.error || response.data.message);
        form.showErrors({ form: `The server did not start the run (HTTP ${response.status})${detail ? `: ${detail}` : ""}.` });
      }
    } catch (error) {
      form.showErrors({ form: `Could not reach the server: ${error.message}` });
    } finally {
      this.starting = false;
      this.updateTrainButton();
    }
  }

  /** Pause, resume or stop the watched run. */
  async control(action) {
    const { watch, views, loop } = this.page;
    const runId = watch.run.runId;
    if (!runId) return;
    const response = await api.control(runId, action);
    if (runId !== watch.run.runId) return;
    if (response.data && response.data.status) {
      watch.run.status = response.data.status;
      views.status.update({ status: response.data.status });
      this.updateButtons();
      loop.request();
    }
  }

  /** One epoch of a paused run. */
  async stepOnce() {
    const { watch, views, loop } = this.page;
    const runId = watch.run.runId;
    if (!runId || watch.run.status !== "paused" || this.step.disabled) return;
    const response = await api.step(runId, { epochs: 1 }).catch(() => null);
    if (!response || runId !== watch.run.runId || !response.data) return;
    if (response.data.status) views.status.update({ status: response.data.status });
    loop.request();
  }

  togglePause() {
    if (this.pause.disabled) return; // e.g. someone else's run (the Space key)
    const status = this.page.watch.run.status;
    if (status === "paused") this.control("resume");
    else if (status === "running") this.control("pause");
  }
}
