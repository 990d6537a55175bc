// Socket.IO client for one watched run: watch/unwatch; the connection itself lives in a Worker
// (socket_worker.js), which acknowledges each frame as soon as it is parsed, off the main thread,
// re-watches after every (re)connect and checks the frames' numbering. Its events come here in
// order, with its counters.

export class RunSocket {
  /**
   * @param {{onSnapshot, onFrame, onDone, onError, onConnectionChange}} handlers
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.runId = null;
    this.connected = false;
    // mirrored from the worker: acks sent, the last frame's number, numbering gaps found
    this.acks = 0;
    this.seq = 0;
    this.gaps = 0;
    this.worker = new Worker(new URL("./socket_worker.js", import.meta.url));
    this.worker.onmessage = ({ data }) => this.take(data);
  }

  take({ kind, payload, counters, connected, resumed, reason }) {
    Object.assign(this, counters);
    this.connected = connected;
    if (kind === "connection") {
      this.handlers.onConnectionChange(connected ? { connected, resumed } : { connected, reason });
      return;
    }
    // (the worker may still be watching the run this page just left)
    // a run watched by a prefix of its id (a link's short id) is known by its id from its snapshot
    if (kind === "snapshot" && this.runId && payload?.run_id?.startsWith(this.runId)) this.runId = payload.run_id;
    if (!payload || payload.run_id !== this.runId) return;
    if (kind === "snapshot") this.handlers.onSnapshot(payload);
    else if (kind === "frame") this.handlers.onFrame(payload);
    else if (kind === "done") this.handlers.onDone(payload);
    else if (kind === "error") this.handlers.onError(payload);
  }

  /** Starts watching a run (and stops watching the previous one). */
  watch(runId) {
    this.runId = runId;
    this.worker.postMessage({ kind: "watch", runId });
  }

  unwatch() {
    this.runId = null;
    this.worker.postMessage({ kind: "unwatch" });
  }

  /** Tests: closes the connection as a network failure would (socket.io reconnects). */
  dropConnection() {
    this.worker.postMessage({ kind: "drop" });
  }

  /** Tests: hands the worker `payload` as if the server had sent `event`. */
  receive(event, payload) {
    this.worker.postMessage({ kind: "receive", event, payload });
  }
}
