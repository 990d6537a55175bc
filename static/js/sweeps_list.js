// The runs page's list of sweeps (issue 30): each with its status, runs ended and varied axes,
// linked to its page (/sweeps/<id>). Polls while a sweep runs.

import { formatTime } from "./format.js";

const POLL_MS = 3000;

function cell(row, content) {
  const td = document.createElement("td");
  td.append(content);
  row.append(td);
}

async function refresh() {
  const answer = await fetch("/api/sweeps");
  if (!answer.ok) return;
  const sweeps = await answer.json();
  const body = document.getElementById("sweeps-body");
  body.replaceChildren();
  for (const sweep of sweeps) {
    const row = document.createElement("tr");
    const link = document.createElement("a");
    link.href = `/sweeps/${encodeURIComponent(sweep.id)}`;
    link.className = "run-id";
    link.textContent = sweep.id.slice(0, 8);
    cell(row, link);
    cell(row, sweep.status);
    const cancelled = sweep.counts.cancelled ? ` (${sweep.counts.cancelled} cancelled)` : "";
    cell(row, `${sweep.counts.ended}/${sweep.total}${cancelled}`);
    cell(row, Object.keys(sweep.config.vary).join(", "));
    cell(row, formatTime(sweep.created));
    body.append(row);
  }
  document.getElementById("sweeps-summary").textContent = sweeps.length
    ? `${sweeps.length} sweep${sweeps.length === 1 ? "" : "s"}` : "No sweep yet: launch one with Sweep… on the dashboard.";
  if (sweeps.some((sweep) => sweep.status === "running")) setTimeout(refresh, POLL_MS);
}

refresh();
