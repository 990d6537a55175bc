// What the Backprop view's Step button offers (backprop_view.js): a pure function of the run's
// status, whose it is and whether the view shows a past epoch.

import { isEnded } from "./statuses.js";

/**
 * What Step offers for the watched run's status: only a paused run steps; a running one is
 * paused first (the button says so); otherwise the button is disabled and says why. `past`: the
 * view shows a past epoch (the time slider's), from which nothing steps.
 */
export function stepOffer(status, yours = true, past = false) {
  if (!status || status === "idle") return { label: "Step", reason: "Start or open a run first." };
  if (isEnded(status)) return { label: "Step", reason: `The run has ended (${status}): it trains no more steps.` };
  if (past) return { label: "Step", reason: "Step trains the run from where it is now: press Live first." };
  if (!yours) return { label: "Step", reason: "Someone else's run: only its owner can step it." };
  if (status === "paused") return { label: "Step: train the mini-batch", enabled: true, reason: "" };
  if (status === "running") {
    return { label: "Pause and step", enabled: true,
      reason: "The run is training: Step pauses it first, then trains one mini-batch (Resume goes on)." };
  }
  if (status === "queued") return { label: "Step", reason: "The run waits for a training slot: it can step once it trains." };
  return { label: "Step", reason: "" };
}
