// Whose run the page watches (issue 31): on a server with an access token a run belongs to
// whoever started it, and only they (or the admin token) may steer it. Watching someone else's
// live run, the page keeps drawing it but disables Pause/Resume, Step, Stop and the live fields,
// and says why (#owner-note). Without a token (no `yours` in GET /api/runs/<id>) nothing changes.

import { api } from "./api.js";

/** Learns the owner of the watched run `runId` (GET /api/runs/<id>: `{owner, yours}`) into
 * `watch.run`, then refreshes the buttons; a run the page started is its own (no request). */
export async function learnOwner(page, runId, own) {
  const run = page.watch.run;
  Object.assign(run, { owner: null, yours: true });
  // only a server with an access token has owners (index.html says so): no request otherwise
  if (own || !document.getElementById("studio-owners")) return;
  const response = await api.getRun(runId).catch(() => null);
  if (!response || !response.ok || !response.data || runId !== run.runId) return;
  if (response.data.yours === false) {
    Object.assign(run, { owner: response.data.owner, yours: false });
    page.buttons.updateButtons();
  }
}

/** True when this page may steer the watched run (its own, or a server without owners). */
export function maySteer(watch) {
  return watch.run.yours !== false;
}

const lockedControls = new Set(); // the controls this module disabled (and only those it enables)

/** Disables the live fields while `locked` (someone else's live run) and shows the reason. */
export function showOwnerLock(page, locked) {
  const { form, schema, watch } = page;
  if (locked) {
    for (const name of schema.liveFields()) {
      const box = form.form.querySelector(`[data-field="${name}"]`);
      for (const control of box ? box.querySelectorAll("input, select, button") : []) {
        if (control.disabled) continue;
        control.disabled = true;
        lockedControls.add(control);
      }
    }
  } else {
    for (const control of lockedControls) control.disabled = false;
    lockedControls.clear();
  }
  const note = document.querySelector("#owner-note");
  if (!note) return;
  note.hidden = !locked;
  note.textContent = locked
    ? `Only ${watch.run.owner || "its owner"} can steer this run. You can watch it; Train starts a run of your own (Continue, once it ends, makes your own copy).`
    : "";
}
