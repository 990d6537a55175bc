// The page's keyboard shortcuts: Space pauses or resumes the watched run and "." steps a paused
// one by an epoch, unless the focus is somewhere that key types or toggles.

/** True when Space belongs to the focused element (it types or toggles there). */
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

const withModifier = (event) => event.ctrlKey || event.metaKey || event.altKey;

/**
 * Installs the shortcuts on the document.
 * @param {{run: {runId, status}}} watch the watched run (run_watch.js)
 * @param {{togglePause: Function, stepOnce: Function}} buttons the run's controls (run_buttons.js)
 */
export function installShortcuts(watch, buttons) {
  const pausable = () => Boolean(watch.run.runId)
    && (watch.run.status === "running" || watch.run.status === "paused");
  document.addEventListener("keydown", (event) => {
    if (!isSpace(event) || withModifier(event)) return;
    if (spaceBelongsToFocus(event.target) || !pausable()) return;
    event.preventDefault();
    if (!event.repeat) buttons.togglePause();
  }, true);
  document.addEventListener("keydown", (event) => {
    if (event.key !== "." || withModifier(event)) return;
    const target = event.target;
    if (target instanceof Element && (target.isContentEditable || target.matches("input, textarea, select"))) return;
    if (watch.run.runId && watch.run.status === "paused") {
      event.preventDefault();
      buttons.stepOnce();
    }
  }, true);
  document.addEventListener("keyup", (event) => {
    // Keep a focused button from also "clicking" on the key release.
    if (isSpace(event) && pausable() && !spaceBelongsToFocus(event.target)) event.preventDefault();
  }, true);
}
