// Replay (issue 28): the time slider under the loss chart. It moves every view (fit, network,
// neuron maps, layers card, test-set card) to a stored epoch of the watched run, marks that
// epoch on the loss and accuracy charts, plays the run back at a chosen speed, returns to the
// live run ("Live"), and keeps the epoch in the URL (&epoch=40).
//
// The stored epochs come from GET /api/runs/<id>/frames, the views at one of them from
// GET /api/runs/<id>/view?epoch=k (the same shapes as the stream's frames). main.js hands the
// views over (`views`) and tells the replay what the stream brings (sawSnapshot, sawFrame,
// sawDone); while the replay holds a past epoch (`holding`) live frames leave the views alone.

import { HISTORY } from "./layers_view.js";
import { recordVideo, saveBlob, videoEpochs, videoType } from "./video.js";

const FPS_CHOICES = [2, 5, 10, 15, 20, 30];
const PLAYBACK_SECONDS = 10; // Play's default speed shows the whole run in about this long
const REFRESH_MS = 2000; // a running run's stored epochs are asked for at most this often
const PREFETCH = 3; // views fetched ahead while playing
const ENDED = new Set(["finished", "stopped", "diverged", "failed", "interrupted"]);

const runPath = (runId) => `/api/runs/${encodeURIComponent(runId)}`;

/** A vertical line over a Plotly chart at an epoch (an element beside the chart, so the chart's
 * own redraws never remove it). */
export class ChartMarker {
  constructor(chart) {
    this.chart = chart;
    this.epoch = null;
    this.line = document.createElement("div");
    this.line.className = "replay-marker";
    this.line.hidden = true;
    this.line.dataset.replayMarker = chart.id;
    const holder = chart.parentElement;
    if (getComputedStyle(holder).position === "static") holder.style.position = "relative";
    holder.appendChild(this.line);
    this.hooked = false;
  }

  set(epoch) {
    this.epoch = epoch;
    if (!this.hooked && typeof this.chart.on === "function") {
      this.hooked = true; // follows zoom, resizes and redraws
      this.chart.on("plotly_afterplot", () => this.place());
    }
    // placed once per animation frame: a live run moves it with every frame, and placing reads
    // the layout (a forced layout per frame, when done at once)
    if (!this.placing) requestAnimationFrame(() => this.place());
    this.placing = true;
  }

  place() {
    this.placing = false;
    const layout = this.chart._fullLayout;
    const x = layout && layout.xaxis;
    if (this.epoch === null || !x || !layout.yaxis || this.chart.offsetParent === null) {
      this.line.hidden = true;
      return;
    }
    const left = x._offset + x.l2p(this.epoch);
    const inside = left >= x._offset - 1 && left <= x._offset + x._length + 1;
    this.line.hidden = !inside;
    this.line.dataset.epoch = String(this.epoch);
    Object.assign(this.line.style, {
      left: `${this.chart.offsetLeft + left - 1}px`,
      top: `${this.chart.offsetTop + layout.yaxis._offset}px`,
      height: `${layout.yaxis._length}px`,
    });
  }
}

/** The Play speed (frames per second) that shows `count` stored epochs in ~10 s, as offered. */
export function defaultFps(count) {
  const wanted = Math.min(30, Math.max(2, count / PLAYBACK_SECONDS));
  return FPS_CHOICES.reduce((a, b) => (Math.abs(b - wanted) < Math.abs(a - wanted) ? b : a));
}

export class Replay {
  /** root: the #replay block; views: {fit() -> the fit view, network, layers, insight, loop,
   * charts: [loss chart, accuracy chart]}; onSeek: called after an epoch is shown (e.g. the
   * URL). */
  constructor(root, { views, onSeek = () => {} }) {
    this.root = root;
    this.views = views;
    this.onSeek = onSeek;
    const $ = (id) => root.querySelector(`#${id}`);
    this.slider = $("replay-epoch");
    this.output = $("replay-epoch-value");
    this.playButton = $("replay-play");
    this.fps = $("replay-fps");
    this.liveButton = $("replay-live");
    this.videoButton = $("replay-video");
    this.note = $("replay-note");
    for (const fps of FPS_CHOICES) this.fps.add(new Option(`${fps} fps`, String(fps)));
    this.fpsChosen = false;
    this.markers = views.charts.map((chart) => new ChartMarker(chart.el));
    // a link's &epoch= (with the run= it belongs to) is where the watched run opens
    const linked = new URLSearchParams(window.location.search).has("run");
    this.wantedEpoch = linked ? epochInUrl(window.location.search) : null;
    this.slider.addEventListener("input", () => this.seekIndex(Number(this.slider.value)));
    this.playButton.addEventListener("click", () => (this.playing ? this.pause() : this.play()));
    this.liveButton.addEventListener("click", () => this.goLive());
    this.fps.addEventListener("change", () => { this.fpsChosen = true; });
    this.videoButton.addEventListener("click", () => this.downloadVideo());
    if (!videoType()) {
      this.videoButton.disabled = true;
      this.videoButton.title = "This browser cannot record video (MediaRecorder with WebM).";
    }
    this.reset(null);
  }

  /** A new run is watched (or none). */
  reset(runId) {
    this.pause();
    this.restoreLayers();
    Object.assign(this, {
      runId, status: "queued", total: 0, epochs: [], index: -1, holding: false, at: null,
      liveView: null, refreshed: 0, cache: new Map(), seq: 0,
    });
    this.root.hidden = true;
    this.liveButton.hidden = true;
    this.note.textContent = "";
    for (const marker of this.markers) marker.set(null);
  }

  /** The stream's snapshot of the watched run. */
  sawSnapshot(snapshot) {
    if (snapshot.run_id !== this.runId) this.reset(snapshot.run_id);
    this.status = snapshot.status;
    this.total = (snapshot.config && snapshot.config.epochs) || snapshot.epochs || 0;
    this.keepLive(snapshot);
    this.refresh();
    this.fetchLooks(snapshot);
  }

  /** The layers card's history before the first look this page saw, from the run's stored
   * epochs (GET /looks: weights' histograms, no gradients): a run opened after it trained (or
   * while it trains) shows its layers over time, not one look. */
  async fetchLooks(snapshot) {
    const runId = this.runId;
    const seen = this.views.layers.history[0]; // a page that watched from the start has them
    if (!runId || !(snapshot.epoch > 1) || (seen && seen.epoch !== null && seen.epoch <= 1)) return;
    const response = await fetch(`${runPath(runId)}/looks`, { headers: { Accept: "application/json" } })
      .catch(() => null);
    if (!response || !response.ok || runId !== this.runId) return;
    const { looks } = await response.json();
    const layers = this.views.layers;
    const before = (history) => {
      const first = history[0];
      const earlier = looks.filter((look) => (!first || (first.epoch !== null && look.epoch < first.epoch))
        && (!first || look.layers.length === first.layers.length));
      return [...earlier, ...history].slice(-HISTORY);
    };
    if (this.savedLayers) { // a past epoch is shown: its history up to it, then its own look
      this.savedLayers = before(this.savedLayers);
      const shown = layers.history[layers.history.length - 1];
      layers.history = [...this.savedLayers.filter((entry) => entry.epoch !== null && entry.epoch < this.at), shown];
    } else {
      layers.history = before(layers.history);
    }
    layers.needsFull = layers.dirty = true;
    this.views.loop.request();
    this.root.dataset.looks = String(looks.length); // tests wait on it
  }

  /** A live frame: true when the views should show it (the replay does not hold a past epoch). */
  sawFrame(frame) {
    if (frame.status) this.status = frame.status;
    this.keepLive(frame);
    if (performance.now() - this.refreshed > REFRESH_MS) this.refresh();
    this.followLive();
    return !this.holding;
  }

  /** The run ended: its last epoch is stored now. */
  sawDone(done) {
    this.status = done.status;
    if (done.epoch !== undefined && done.epoch !== null) this.keepLive({ epoch: done.epoch });
    this.followLive();
    this.refresh();
  }

  /** While live (no past epoch held, e.g. after Live), the markers and the label follow the
   * live epoch to the run's end: they never stay where Live was pressed. */
  followLive() {
    if (this.holding || !this.epochs.length) return;
    this.label(this.liveEpoch());
    this.markAt(this.liveEpoch());
  }

  /** The past epoch shown instead of the live views, or null (live). */
  heldEpoch() {
    return this.holding ? this.at : null;
  }

  keepLive(message) {
    const parts = ["prediction", "network", "inside", "test_predicted", "misclassified",
      "confusion", "first_layer", "epoch"];
    const live = { ...(this.liveView || {}) };
    for (const name of parts) if (message[name] !== undefined && message[name] !== null) live[name] = message[name];
    this.liveView = live;
  }

  async refresh() {
    const runId = this.runId;
    if (!runId) return;
    this.refreshed = performance.now();
    const response = await fetch(`${runPath(runId)}/frames`, { headers: { Accept: "application/json" } })
      .catch(() => null);
    if (!response || !response.ok || runId !== this.runId) return;
    const { epochs } = await response.json();
    const ended = ENDED.has(this.status);
    if (ended && this.liveView && epochs.length && epochs[epochs.length - 1] < this.liveView.epoch) {
      setTimeout(() => this.refresh(), 300); // the final frame is being written
    }
    this.setEpochs(epochs);
  }

  setEpochs(epochs) {
    this.epochs = epochs;
    this.root.hidden = !epochs.length;
    if (!epochs.length) return;
    this.slider.max = String(epochs.length - 1);
    if (!this.fpsChosen) this.fps.value = String(defaultFps(epochs.length));
    if (this.wantedEpoch !== null) { // a link's &epoch=
      const wanted = this.wantedEpoch;
      this.wantedEpoch = null;
      this.seekIndex(nearestIndex(epochs, wanted));
      return;
    }
    if (!this.holding) this.index = epochs.length - 1;
    else if (this.at !== null) this.index = nearestIndex(epochs, this.at);
    this.slider.value = String(this.index);
    this.label(this.holding ? this.at : this.liveEpoch());
    if (!this.holding) this.markAt(this.liveEpoch());
  }

  liveEpoch() {
    return this.liveView && this.liveView.epoch ? this.liveView.epoch : this.epochs[this.epochs.length - 1];
  }

  label(epoch) {
    const total = Math.max(this.total || 0, this.epochs[this.epochs.length - 1] || 0);
    const text = `epoch ${epoch} of ${total}`;
    this.slider.setAttribute("aria-valuetext", text);
    this.output.textContent = this.holding || !this.isRunning() ? text : `${text} · live`;
  }

  isRunning() {
    return Boolean(this.runId) && !ENDED.has(this.status);
  }

  /** Shows the stored epoch at `index` of the slider. */
  async seekIndex(index) {
    if (!this.epochs.length) return false;
    index = Math.max(0, Math.min(this.epochs.length - 1, index));
    const epoch = this.epochs[index];
    this.index = index;
    this.at = epoch; // the epoch chosen (its view may still be on its way)
    this.slider.value = String(index);
    this.holding = true;
    this.liveButton.hidden = !this.isRunning();
    this.label(epoch);
    const seq = ++this.seq;
    const view = await this.view(epoch).catch(() => null);
    if (!view || seq !== this.seq) return false; // a later seek won
    this.show(view);
    return true;
  }

  view(epoch) {
    if (!this.cache.has(epoch)) {
      const runId = this.runId;
      const answer = fetch(`${runPath(runId)}/view?epoch=${epoch}`, { headers: { Accept: "application/json" } })
        .then((response) => (response.ok ? response.json() : Promise.reject(new Error(String(response.status)))));
      answer.catch(() => this.cache.delete(epoch));
      this.cache.set(epoch, answer);
    }
    return this.cache.get(epoch);
  }

  /** Every view at `view.epoch` (a /view answer), its marker on the charts. */
  show(view) {
    const { fit, network, layers, insight, loop } = this.views;
    if (view.prediction) fit().setPrediction(view.prediction, view);
    insight.setFrame(view);
    if (view.network) network.setNetwork(view.network, `weights · epoch ${view.epoch} (replay)`);
    network.setInside(view.inside || null);
    this.showLayers(layers, view);
    this.markAt(view.epoch);
    this.note.textContent = "";
    this.onSeek(view.epoch);
    loop.request();
  }

  /** The layers card: its history up to the epoch, then the epoch's look inside (the live
   * history is kept aside and given back by `goLive`). */
  showLayers(layers, view) {
    if (!this.savedLayers) this.savedLayers = layers.history.slice();
    layers.history = this.savedLayers.filter((entry) => entry.epoch !== null && entry.epoch < view.epoch);
    layers.add(view.inside, view.epoch);
    layers.dirty = true;
  }

  restoreLayers() {
    if (!this.savedLayers) return;
    const layers = this.views.layers;
    layers.history = this.savedLayers;
    this.savedLayers = null;
    layers.needsFull = layers.dirty = true;
  }

  markAt(epoch) {
    for (const marker of this.markers) marker.set(epoch ?? null);
  }

  /** Back to the live run: the latest live views, the slider at its end. */
  goLive() {
    this.pause();
    this.holding = false;
    this.seq += 1;
    this.at = null;
    this.liveButton.hidden = true;
    this.restoreLayers();
    const live = this.liveView;
    if (live) {
      const { fit, network, insight, loop } = this.views;
      if (live.prediction) fit().setPrediction(live.prediction, live);
      insight.setFrame(live);
      if (live.network) network.setNetwork(live.network, `live weights · epoch ${live.epoch ?? 0}`);
      if (live.inside) network.setInside(live.inside);
      loop.request();
    }
    this.index = this.epochs.length - 1;
    this.slider.value = String(this.index);
    this.label(this.liveEpoch());
    this.markAt(this.liveEpoch());
    this.onSeek(null);
  }

  /** Plays the run back from its first stored epoch (or from where it is) to its last, on the
   * clock like a video: at the Play speed, skipping stored epochs when drawing one takes longer
   * than a frame (a busy machine), so the whole film still takes its time; the last is shown. */
  async play() {
    if (!this.epochs.length || this.playing) return;
    this.playing = true;
    this.playButton.textContent = "Pause";
    this.playButton.setAttribute("aria-pressed", "true");
    this.root.dataset.playing = "true";
    let index = this.holding && this.index < this.epochs.length - 1 ? this.index : 0;
    let clock = { begun: this.now(), first: index, fps: 0 }; // restarted when the speed changes
    while (this.playing && index < this.epochs.length) {
      for (let k = 1; k <= PREFETCH && index + k < this.epochs.length; k++) {
        this.view(this.epochs[index + k]).catch(() => {});
      }
      await this.seekIndex(index);
      if (index === this.epochs.length - 1) break;
      const fps = Number(this.fps.value);
      if (fps !== clock.fps) clock = { begun: this.now(), first: index, fps };
      const onTime = clock.first + Math.floor(((this.now() - clock.begun) * fps) / 1000) + 1;
      const next = Math.min(Math.max(index + 1, onTime), this.epochs.length - 1);
      const wait = clock.begun + ((next - clock.first) * 1000) / fps - this.now();
      if (wait > 0) await this.sleep(wait);
      index = next;
    }
    this.pause();
  }

  /** The playback's clock (ms) and its wait: a test may replace them with virtual time. */
  now() { return performance.now(); }

  sleep(ms) { return new Promise((resolve) => { setTimeout(resolve, ms); }); }

  pause() {
    this.playing = false;
    if (!this.playButton) return;
    this.playButton.textContent = "Play";
    this.playButton.setAttribute("aria-pressed", "false");
    delete this.root.dataset.playing;
  }

  /** Records the replay of the fit view (one stored epoch a frame at the Play speed, at most
   * ~30 s) as a WebM file and downloads it; `lastVideo` keeps the Blob. */
  async downloadVideo() {
    if (!this.epochs.length || this.recording) return;
    const runId = this.runId;
    const fps = Number(this.fps.value);
    this.recording = true;
    this.videoButton.disabled = true;
    this.root.dataset.recording = "true";
    try {
      const epochs = videoEpochs(this.epochs, fps);
      this.note.textContent = `Preparing the video: ${epochs.length} epochs…`;
      const views = await Promise.all(epochs.map((epoch) => this.view(epoch)));
      this.note.textContent = `Recording the video (${(epochs.length / fps).toFixed(1)} s)…`;
      const fit = this.views.fit();
      const target = fit && fit.snapshot ? fit.snapshot.target : null;
      const blob = await recordVideo(views, {
        fps, target, losses: (epoch) => this.losses(epoch), title: `run ${runId.slice(0, 8)}`,
      });
      if (runId !== this.runId) return;
      this.lastVideo = blob;
      saveBlob(blob, `run-${runId.slice(0, 8)}.webm`);
      this.note.textContent = `Video saved: run-${runId.slice(0, 8)}.webm (${Math.round(blob.size / 1024)} KB).`;
    } catch (error) {
      this.note.textContent = `No video: ${error.message}`;
    } finally {
      this.recording = false;
      this.videoButton.disabled = !videoType();
      delete this.root.dataset.recording;
    }
  }

  /** {train, test} losses of `epoch` from the loss chart's history (nulls if unknown). */
  losses(epoch) {
    const history = this.views.charts[0].history;
    const at = history.epoch.indexOf(epoch);
    return at < 0 ? { train: null, test: null } : { train: history.train[at], test: history.test[at] };
  }

  /** The URL with &epoch=k while a past epoch is shown (after main.js rewrote the rest). */
  syncUrl() {
    // the other parameters stay exactly as written (url_state.js keeps "x;x**2" readable)
    const parts = window.location.search.slice(1).split("&")
      .filter((part) => part && !part.startsWith("epoch="));
    if (this.holding && this.at !== null) parts.push(`epoch=${this.at}`);
    const search = parts.length ? `?${parts.join("&")}` : "";
    if (search !== window.location.search) {
      window.history.replaceState(null, "", window.location.pathname + search + window.location.hash);
    }
  }
}

/** The whole number ≥ 0 of a query string's `epoch`, or null. */
export function epochInUrl(search) {
  const text = new URLSearchParams(search).get("epoch");
  return text !== null && /^\d+$/.test(text) ? Number(text) : null;
}

/** The index of the element of `epochs` (increasing) nearest `epoch`. */
export function nearestIndex(epochs, epoch) {
  let best = 0;
  for (let i = 1; i < epochs.length; i++) {
    if (Math.abs(epochs[i] - epoch) < Math.abs(epochs[best] - epoch)) best = i;
  }
  return best;
}
