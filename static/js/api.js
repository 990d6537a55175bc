// REST calls to the app (same origin).

async function send(method, url, options) {
  const response = await fetch(url, { method, ...options });
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  return { ok: response.ok, status: response.status, data };
}

function request(method, url, body, { signal } = {}) {
  const options = { headers: { Accept: "application/json" }, signal };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  return send(method, url, options);
}

export const api = {
  /** The run config as JSON Schema: every field's choices, limits, default and help. */
  schema: () => request("GET", "/api/schema"),
  createRun: (config) => request("POST", "/api/runs", config),
  getRun: (id) => request("GET", `/api/runs/${encodeURIComponent(id)}`),
  control: (id, action) => request("POST", `/api/runs/${encodeURIComponent(id)}/${action}`),
  /** Changes a running run's steerable fields: 200 {config}, 400 {errors}, 409 once ended. */
  patchRun: (id, changes) => request("PATCH", `/api/runs/${encodeURIComponent(id)}`, changes),
  /** While paused: trains {epochs: n} (or {batches: n}) and stays paused. */
  step: (id, amount = { epochs: 1 }) => request("POST", `/api/runs/${encodeURIComponent(id)}/step`, amount),
  /** A task's target (regression) or points (classification, uploads) before training. */
  preview: (body, options) => request("POST", "/api/preview", body, options),
  /** Uploads a CSV file (multipart field `file`): 201 {id, task, preview, ...} or 400 {errors}. */
  uploadDataset: (file) => {
    const body = new FormData();
    body.append("file", file, file.name);
    return send("POST", "/api/datasets", { headers: { Accept: "application/json" }, body });
  },
  uploadMnist: (files) => {
    const body = new FormData();
    for (const file of files) body.append("files", file, file.name);
    return send("POST", "/api/mnist", { headers: { Accept: "application/json" }, body });
  },
};
