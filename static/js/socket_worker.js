// The Socket.IO connection of the dashboard, in a Worker (socket_client.js starts it): frames are
// acknowledged here as soon as they are parsed, whatever the page's main thread is doing (a 3-D
// surface's redraw holds it for tens of milliseconds while software WebGL renders), so the server
// sends the next one at once; each event is then handed to the page with the counters below.
// Re-watches after every (re)connect, so that the server resends the whole history in a snapshot.
/* global importScripts, io */

importScripts("../vendor/socket.io.min.js");

const socket = io({ reconnectionDelay: 500, reconnectionDelayMax: 3000 });
let runId = null;
let everConnected = false;
// acks: acknowledgements sent; seq: the last frame's number (frames are numbered from 1 after
// each snapshot; Infinity while a snapshot is awaited); gaps: frames found missing
const counters = { acks: 0, seq: 0, gaps: 0 };

function post(kind, fields = {}) {
  self.postMessage({ kind, ...fields, counters: { ...counters }, connected: socket.connected });
}

socket.on("connect", () => {
  const resumed = everConnected;
  everConnected = true;
  post("connection", { resumed });
  if (runId) socket.emit("watch", { run_id: runId });
});
socket.on("disconnect", (reason) => {
  if (reason === "io client disconnect") return;
  post("connection", { reason });
  // The server closed the socket on purpose: socket.io does not retry that by itself.
  if (reason === "io server disconnect") socket.connect();
});
socket.on("connect_error", () => {
  if (everConnected) post("connection", { reason: "connect error" });
});

/** Acknowledges at once (per-client flow control on the server: one frame in flight), then
 * hands an event of the watched run on (`take` may return false: dropped). */
const forThisRun = (kind, take = () => true) => (payload, ack) => {
  if (typeof ack === "function") {
    ack();
    counters.acks += 1;
  }
  if (!payload || !runId) return;
  if (kind === "snapshot" && payload.run_id?.startsWith(runId)) runId = payload.run_id; // a prefix
  if (payload.run_id === runId && take(payload)) post(kind, { payload });
};

const listeners = {
  snapshot: forThisRun("snapshot", () => {
    counters.seq = 0;
    return true;
  }),
  frame: forThisRun("frame", (p) => {
    if (counters.seq === Infinity) return false; // a snapshot is on its way: this one is stale
    if (typeof p.seq === "number" && p.seq !== counters.seq + 1) {
      // one that does not follow the last means frames were lost (never on one healthy
      // connection): watching again brings a snapshot
      counters.gaps += 1;
      counters.seq = Infinity;
      socket.emit("watch", { run_id: runId });
      post("counters");
      return false;
    }
    counters.seq = p.seq ?? counters.seq + 1;
    return true;
  }),
  done: forThisRun("done"),
  error: forThisRun("error"),
};
for (const [event, listener] of Object.entries(listeners)) socket.on(event, listener);

self.onmessage = ({ data }) => {
  if (data.kind === "watch") {
    if (runId && runId !== data.runId && socket.connected) socket.emit("unwatch", { run_id: runId });
    runId = data.runId;
    if (socket.connected) socket.emit("watch", { run_id: runId });
  } else if (data.kind === "unwatch") {
    if (runId && socket.connected) socket.emit("unwatch", { run_id: runId });
    runId = null;
  } else if (data.kind === "drop") {
    socket.io.engine.close(); // tests: the connection is lost (socket.io reconnects)
  } else if (data.kind === "receive") {
    listeners[data.event](data.payload, () => {}); // tests: an event as if it came from the server
  }
};
