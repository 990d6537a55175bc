// The runs page's list of stored uploads (GET /api/datasets): size as stored, when, and a
// Delete button (DELETE /api/datasets/<id>; refused with the reason while runs of it are
// unfinished). With owners (a token), each row names its owner and someone else's upload has its
// Delete disabled, saying whose it is (anyone may still train on it).

import { formatTime } from "./format.js";

const list = document.getElementById("uploads-body");
const summary = document.getElementById("uploads-summary");
const message = document.getElementById("uploads-message");
const OWNERS = document.getElementById("uploads-table").dataset.owners === "true";

function size(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${bytes} bytes`;
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

async function remove(id, shown) {
  const response = await fetch(`/api/datasets/${encodeURIComponent(id)}`, {
    method: "DELETE",
    headers: { Accept: "application/json" },
  });
  const data = await response.json().catch(() => ({}));
  message.textContent = response.ok ? `Deleted upload ${shown}.` : data.error || `Error ${response.status}`;
  await load();
}

async function load() {
  const response = await fetch("/api/datasets", { headers: { Accept: "application/json" } });
  if (!response.ok) return;
  const data = await response.json();
  const mine = data.datasets.filter((entry) => entry.mine);
  summary.textContent = `${data.count} of at most ${data.max_count} uploads, ` +
    `${size(data.bytes)} of ${size(data.max_bytes)}` + (data.max_count_per_owner === undefined ? ""
      : `; yours: ${mine.length} of at most ${data.max_count_per_owner}, ` +
        `${size(mine.reduce((sum, entry) => sum + entry.bytes, 0))} of ${size(data.max_bytes_per_owner)}`);
  list.replaceChildren(...data.datasets.map((entry) => {
    const row = document.createElement("tr");
    row.dataset.id = entry.id;
    const created = formatTime(entry.created);
    const name = cell(entry.name || `upload ${entry.id}`); // the file's name (older ones: the id)
    name.title = `dataset:${entry.id}`;
    row.append(name);
    if (OWNERS) {
      const owner = cell(entry.mine ? `${entry.owner} (you)` : entry.owner ?? "—");
      owner.className = "upload-owner";
      row.append(owner);
    }
    row.append(cell(size(entry.bytes)), cell(created));
    const button = document.createElement("button");
    button.type = "button";
    button.className = "delete-upload";
    button.textContent = "Delete";
    button.setAttribute("aria-label", `Delete upload ${entry.name || entry.id}`);
    if (entry.yours === false) { // someone else's upload: only its owner (or the admin) deletes it
      button.disabled = true;
      button.title = `Only ${entry.owner} can delete this upload (you can still train on it)`;
    }
    button.addEventListener("click", () => remove(entry.id, entry.name || entry.id));
    const action = document.createElement("td");
    action.append(button);
    row.append(action);
    return row;
  }));
}

load();
