// Run statuses as the server defines them: the terminal ones come from <body data-terminal-statuses>
// (written by the server from app/control.py), so the page holds no copy of the list.

const ENDED = new Set((document.body.dataset.terminalStatuses || "").split(" ").filter(Boolean));

/** True for a status a run never leaves (finished, stopped, diverged, failed, interrupted). */
export function isEnded(status) {
  return ENDED.has(status);
}
