// The dashboard's part of the runs history (issue 13), kept apart from main.js: the list of the
// current task's runs with a link to /runs, and a banner for an interrupted run offering to
// continue it from its last saved weights (a new run) or to delete it. It reads the task and the
// run from the address bar (main.js keeps /fit/<task>?...&run=<id> current) and polls, and asks
// at once when the watched run starts or its status changes (run_watch.js's events), so the list
// agrees with the status pill.

import { formatNumber } from "./format.js";

const POLL_MS = 3000;
const SHOWN = 12;

const list = document.getElementById("task-runs-list");
const banner = document.getElementById("interrupted-banner");

function current() {
  const match = window.location.pathname.match(/^\/fit\/([^/]+)/);
  const task = match ? decodeURIComponent(match[1]) : null;
  const runId = new URLSearchParams(window.location.search).get("run");
  return { task, runId };
}

function runUrl(run) {
  const params = new URLSearchParams({ run: run.id });
  if (run.task === "custom" && run.config?.expression) params.set("expression", run.config.expression);
  return `/fit/${encodeURIComponent(run.task)}?${params}`;
}


function item(run, runId) {
  const li = document.createElement("li");
  const link = document.createElement("a");
  link.href = runUrl(run);
  link.dataset.runId = run.id;
  if (run.id === runId) link.setAttribute("aria-current", "true");
  const id = document.createElement("span");
  id.className = "run-id";
  id.textContent = run.id.slice(0, 8);
  const text = document.createElement("span");
  const layers = (run.config?.hidden ?? []).join(",") || "none";
  text.textContent = `${run.name || `[${layers}]`} · ${run.status} · best ${formatNumber(run.best_test_loss, 3)}`;
  link.append(id, text);
  li.append(link);
  return li;
}

let shownFor = "";

async function refresh() {
  const { task, runId } = current();
  if (!task) {
    list.replaceChildren();
    banner.hidden = true;
    return;
  }
  const answer = await fetch(`/api/runs?${new URLSearchParams({ task, sort: "-created", limit: SHOWN })}`);
  if (!answer.ok) return;
  const runs = await answer.json();
  const key = JSON.stringify([runId, runs.map((run) => [run.id, run.status, run.best_test_loss, run.name])]);
  if (key !== shownFor) {
    shownFor = key;
    list.replaceChildren(...runs.map((run) => item(run, runId)));
  }
  const watched = runs.find((run) => run.id === runId);
  banner.hidden = !(watched && watched.status === "interrupted");
}

document.getElementById("continue-run").addEventListener("click", async () => {
  const { runId } = current();
  const answer = await fetch(`/api/runs/${runId}/continue`, { method: "POST" });
  if (answer.ok) {
    const run = await answer.json();
    window.location.href = runUrl({ id: run.id, task: run.config.task, config: run.config });
  }
});

document.getElementById("delete-run").addEventListener("click", async () => {
  const { runId, task } = current();
  if (!window.confirm(`Delete run ${runId.slice(0, 8)} and its stored data?`)) return;
  const answer = await fetch(`/api/runs/${runId}`, { method: "DELETE" });
  if (answer.ok) window.location.href = `/fit/${encodeURIComponent(task)}`;
});

let asking = null; // the refresh in flight: events that come meanwhile ask once more after it
let again = false;

function refreshSoon() {
  if (asking) {
    again = true;
    return;
  }
  asking = refresh().catch(() => {}).finally(() => {
    asking = null;
    if (again) {
      again = false;
      refreshSoon();
    }
  });
}

document.addEventListener("studio-run", refreshSoon);
document.addEventListener("studio-snapshot", refreshSoon);
refreshSoon();
setInterval(refreshSoon, POLL_MS);
