// Space never starts a run by accident (a fresh user pressed Space on a finished run, with the
// Train button still focused from the click that started it, and got a new run).
// The Space shortcut pauses or resumes a live run (main.js); while a run is shown that has
// ended, Space on the Train button does nothing (Enter or a click still start a run), and when
// a run ends with focus on Train, focus moves to the status line.

const isSpace = (event) => event.code === "Space" || event.key === " ";

/** Space on `trainButton` does nothing while `endedRunShown()` is true. */
export function guardTrainSpace(trainButton, endedRunShown) {
  for (const type of ["keydown", "keyup"]) {
    trainButton.addEventListener(type, (event) => {
      if (isSpace(event) && endedRunShown()) event.preventDefault();
    });
  }
}

/** A run ended: if `trainButton` has focus, give it to `statusEl` (focusable by script only). */
export function focusOffTrain(trainButton, statusEl) {
  if (document.activeElement !== trainButton) return;
  if (!statusEl.hasAttribute("tabindex")) statusEl.setAttribute("tabindex", "-1");
  statusEl.focus({ preventScroll: true });
}
