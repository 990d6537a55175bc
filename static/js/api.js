// REST calls to the app (same origin).

async function request(method, url, body) {
  const options = { method, headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  return { ok: response.ok, status: response.status, data };
}

export const api = {
  createRun: (config) => request("POST", "/api/runs", config),
  getRun: (id) => request("GET", `/api/runs/${encodeURIComponent(id)}`),
  control: (id, action) => request("POST", `/api/runs/${encodeURIComponent(id)}/${action}`),
};
