// Socket.IO client for one watched run: watch/unwatch, and re-watch after every (re)connect so
// the server resends the whole history in a snapshot.

export class RunSocket {
  /**
   * @param {{onSnapshot, onFrame, onDone, onError, onConnectionChange}} handlers
   */
  constructor(handlers) {
    this.handlers = handlers;
    this.runId = null;
    this.everConnected = false;
    this.socket = window.io({ reconnectionDelay: 500, reconnectionDelayMax: 3000 });
    const s = this.socket;
    s.on("connect", () => {
      const resumed = this.everConnected;
      this.everConnected = true;
      handlers.onConnectionChange({ connected: true, resumed });
      if (this.runId) s.emit("watch", { run_id: this.runId });
    });
    s.on("disconnect", (reason) => {
      if (reason === "io client disconnect") return;
      handlers.onConnectionChange({ connected: false, reason });
      // The server closed the socket on purpose: socket.io does not retry that by itself.
      if (reason === "io server disconnect") s.connect();
    });
    s.on("connect_error", () => {
      if (this.everConnected) handlers.onConnectionChange({ connected: false, reason: "connect error" });
    });
    // Frames come with an acknowledgement callback (per-client flow control on the server: one
    // frame in flight): answer each as soon as it is parsed, before handing it on, so the next
    // one is on its way while this one is drawn (drawing is coalesced to animation frames).
    this.acks = 0;
    const forThisRun = (fn) => (payload, ack) => {
      if (typeof ack === "function") {
        ack();
        this.acks += 1;
      }
      if (payload && payload.run_id === this.runId) fn(payload);
    };
    // Frames are numbered from 1 after each snapshot: one that does not follow the last means
    // frames were lost (never on one healthy connection); watching again brings a snapshot.
    this.seq = 0;
    this.gaps = 0;
    s.on("snapshot", forThisRun((p) => {
      this.seq = 0;
      handlers.onSnapshot(p);
    }));
    s.on("frame", forThisRun((p) => {
      if (this.seq === Infinity) return; // a snapshot is on its way: what comes before is stale
      if (typeof p.seq === "number" && p.seq !== this.seq + 1) {
        this.gaps += 1;
        this.seq = Infinity;
        s.emit("watch", { run_id: this.runId });
        return;
      }
      this.seq = p.seq ?? this.seq + 1;
      handlers.onFrame(p);
    }));
    s.on("done", forThisRun((p) => handlers.onDone(p)));
    s.on("error", forThisRun((p) => handlers.onError(p)));
  }

  get connected() {
    return this.socket.connected;
  }

  /** Starts watching a run (and stops watching the previous one). */
  watch(runId) {
    if (this.runId && this.runId !== runId && this.socket.connected) {
      this.socket.emit("unwatch", { run_id: this.runId });
    }
    this.runId = runId;
    if (this.socket.connected) this.socket.emit("watch", { run_id: runId });
  }

  unwatch() {
    if (this.runId && this.socket.connected) this.socket.emit("unwatch", { run_id: this.runId });
    this.runId = null;
  }
}
