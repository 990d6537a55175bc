// Steering a running run: the live fields (learning rate, batch size, penalties...) edited in the
// form are sent to the run as a PATCH once typing pauses, or at once on Enter (which never starts
// a new run there).

import { api } from "./api.js";

const STEER_DELAY = 250; // ms: typing "0.05" sends one change, not four

export class Steering {
  /**
   * @param {object} page the page's parts: form, schema, watch (run_watch.js), picker
   *   (task_picker.js)
   */
  constructor(page) {
    this.page = page;
    this.timer = null;
    // Enter in a live field applies it to the running run at once; it never starts a new run
    // (the form's implicit submission would ask to replace the run).
    page.form.form.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" || !page.watch.isLive() || !(event.target instanceof Element)) return;
      const field = event.target.closest("[data-field]")?.dataset.field;
      if (!page.schema.isLive(field)) return;
      event.preventDefault();
      clearTimeout(this.timer);
      this.steer();
    });
  }

  steerSoon() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.steer(), STEER_DELAY);
  }

  /** The steerable fields whose form value differs from the run's, as a PATCH body. */
  changes() {
    const { form, schema, watch } = this.page;
    const { config, errors } = form.read();
    const run = watch.run.runConfig || {};
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

  async steer() {
    const { form, watch, picker } = this.page;
    if (!watch.isLive()) return;
    const changes = this.changes();
    if (!Object.keys(changes).length) return;
    const runId = watch.run.runId;
    const response = await api.patchRun(runId, changes).catch(() => null);
    if (!response || runId !== watch.run.runId) return;
    if (response.ok && response.data) {
      watch.run.runConfig = { ...watch.run.runConfig, ...(response.data.config || changes) };
      for (const name of Object.keys(changes)) form.setFieldError(name, "");
      document.querySelector("#status-announce").textContent = `Applied to the running run: ${Object.keys(changes).join(", ")}`;
      picker.syncUrl();
    } else if (response.status === 400 && response.data && response.data.errors) {
      for (const [name, message] of Object.entries(response.data.errors)) form.setFieldError(name, message);
    }
  }
}
