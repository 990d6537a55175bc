// Status line (status, epoch / epochs, losses, epochs per second, elapsed) and banners.

import { isEnded } from "./statuses.js";

export { isEnded };

function formatLoss(value) {
  if (value === null || value === undefined) return "—";
  if (!Number.isFinite(value)) return String(value);
  return Math.abs(value) >= 0.001 && Math.abs(value) < 10000 ? value.toPrecision(4) : value.toExponential(3);
}

function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined) return "";
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const m = Math.floor(seconds / 60);
  return `${m} min ${Math.round(seconds - 60 * m)} s`;
}

function ordinal(n) {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? "th" : ({ 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th");
  return `${n}${suffix}`;
}

export class StatusLine {
  constructor(root, banners) {
    this.root = root;
    this.banners = banners;
    this.pill = root.querySelector("#status-pill");
    this.epochEl = root.querySelector("#status-epoch");
    this.lossesEl = root.querySelector("#status-losses");
    this.accuracyEl = root.querySelector("#status-accuracy") || document.createElement("span");
    this.speedEl = root.querySelector("#status-speed");
    this.elapsedEl = root.querySelector("#status-elapsed");
    this.runEl = root.querySelector("#status-run");
    this.observationsEl = document.getElementById("observations");
    // The line changes many times a second; screen readers hear only changes of status.
    this.announcer = document.getElementById("status-announce");
    this.announced = "";
    this.state = { status: "idle" };
    this.samples = [];
    this.dirty = true;
  }

  /** Resets to a new run (or to no run). */
  reset(runId = null, status = "idle") {
    this.state = { status, runId };
    this.samples = [];
    this.dirty = true;
  }

  /** Merges fields from a snapshot, frame, done or REST answer. */
  update(fields) {
    const s = this.state;
    for (const key of ["status", "epoch", "epochs", "elapsed", "reason", "train_loss", "test_loss",
      "train_acc", "test_acc", "warnings", "observations", "findings", "queue_position"]) {
      if (fields[key] !== undefined) s[key] = fields[key];
    }
    if (fields.epoch !== undefined && fields.elapsed !== undefined && fields.elapsed !== null) {
      this.samples.push([fields.elapsed, fields.epoch]);
      while (this.samples.length > 2 && this.samples[this.samples.length - 1][0] - this.samples[0][0] > 2) {
        this.samples.shift();
      }
    }
    this.dirty = true;
  }

  /** Last losses from a history block. */
  updateFromHistory(history) {
    if (!history || !history.epoch || !history.epoch.length) return;
    const last = history.epoch.length - 1;
    const pick = (name) => (history[name] ? history[name][last] : undefined);
    this.update({
      train_loss: pick("train_loss"), test_loss: pick("test_loss"),
      train_acc: pick("train_acc"), test_acc: pick("test_acc"),
    });
  }

  epochsPerSecond() {
    const s = this.state;
    if (s.status !== "running") return null;
    if (this.samples.length >= 2) {
      const [t0, e0] = this.samples[0];
      const [t1, e1] = this.samples[this.samples.length - 1];
      if (t1 - t0 > 0.2) return (e1 - e0) / (t1 - t0);
    }
    return s.elapsed > 0 && s.epoch ? s.epoch / s.elapsed : null;
  }

  render() {
    if (!this.dirty) return false;
    this.dirty = false;
    const s = this.state;
    this.root.dataset.status = s.status;
    this.root.dataset.epoch = s.epoch ?? 0;
    const warnings = (s.runId && s.warnings) || [];
    this.root.dataset.warned = String(warnings.length > 0);
    const verdict = this.verdictWord();
    this.pill.textContent = warnings.length && isEnded(s.status) ? `${s.status} · ${verdict}` : s.status;
    this.renderWarnings(warnings, verdict);
    this.renderObservations((s.runId && s.observations) || []);
    if (this.announcer && s.status !== this.announced) {
      this.announced = s.status;
      this.announcer.textContent = s.status === "idle" ? "" : `Run ${s.status}`;
    }
    this.epochEl.innerHTML = s.epochs ? `<span class="dim">epoch</span> <b>${s.epoch ?? 0}</b> / ${s.epochs}` : "";
    if (s.status === "finished" && s.reason) { // e.g. early stopping: why it ended before its last epoch
      const why = document.createElement("span");
      why.className = "dim finished-reason";
      why.textContent = ` · ${s.reason}`;
      this.epochEl.append(why);
    }
    this.lossesEl.innerHTML = s.runId && (s.train_loss !== undefined || s.test_loss !== undefined)
      ? `<span class="dim"><span class="wide-only">loss </span>train</span> <b>${formatLoss(s.train_loss)}</b> · <span class="dim">test</span> <b>${formatLoss(s.test_loss)}</b>`
      : "";
    const pct = (v) => (v === null || v === undefined ? "—" : `${(100 * v).toFixed(1)} %`);
    this.accuracyEl.innerHTML = s.runId && (s.train_acc !== undefined || s.test_acc !== undefined)
      ? `<span class="dim"><span class="wide-only">accuracy </span>train</span> <b>${pct(s.train_acc)}</b> · <span class="dim">test</span> <b id="status-test-acc">${pct(s.test_acc)}</b>`
      : "";
    const rate = this.epochsPerSecond();
    this.speedEl.innerHTML = rate !== null ? `<b>${rate >= 100 ? Math.round(rate) : rate.toFixed(1)}</b> <span class="dim"><span class="wide-only">epochs</span><span class="narrow-only">ep</span>/s</span>` : "";
    this.elapsedEl.innerHTML = s.elapsed !== undefined && s.elapsed !== null ? `<b>${formatSeconds(s.elapsed)}</b> <span class="dim wide-only">elapsed</span>` : "";
    if (s.runId) {
      this.runEl.hidden = false;
      this.runEl.textContent = `run ${s.runId.slice(0, 8)}`;
      this.runEl.title = `Link to run ${s.runId} (with its settings)`;
      this.runEl.href = window.location.href;
    } else {
      this.runEl.hidden = true;
    }
    if (s.status === "idle") this.epochEl.textContent = "Choose a task and press Train.";
    if (s.status === "queued") {
      const place = s.queue_position;
      this.epochEl.textContent = place
        ? `waiting for a free training slot: ${ordinal(place)} in line (other runs are using every slot)`
        : "waiting for a free training slot";
    }
    return true;
  }

  /** What the warnings say of the run in two words: a run whose only warning is overfitting
   * learned (too well), any other is not learning. */
  verdictWord() {
    const kinds = (this.state.findings || []).filter((f) => f.severity === "warning").map((f) => f.kind);
    return kinds.length && kinds.every((kind) => kind === "overfitting") ? "overfits" : "not learning";
  }

  /** The run's warnings (plain sentences) as one banner, or none. */
  renderWarnings(warnings, verdict = "not learning") {
    const key = `${verdict}\n${warnings.join("\n")}`;
    if (key === this.shownWarnings) return;
    this.shownWarnings = key;
    if (!warnings.length) {
      this.setBanner("warnings", "warning", null);
      return;
    }
    const lead = verdict === "overfits" ? "This run overfits" : "This run is not learning well";
    this.setBanner("warnings", "warning", warnings.length === 1
      ? `${lead}: ${warnings[0]}`
      : `${lead}: ${warnings.join("; ")}.`);
  }

  /** Informational findings on a run that learned (dead units, a plateau...): one quiet line. */
  renderObservations(observations) {
    if (!this.observationsEl) return;
    const text = observations.map((o) => o.charAt(0).toUpperCase() + o.slice(1)).join(". ");
    this.observationsEl.hidden = !text;
    this.observationsEl.textContent = text ? `${text}.` : "";
  }

  /** Shows (text) or removes (null) the banner with this key. */
  setBanner(key, kind, text) {
    let banner = this.banners.querySelector(`#banner-${key}`);
    if (!text) {
      if (banner) banner.remove();
      return;
    }
    if (!banner) {
      banner = document.createElement("div");
      banner.className = "banner";
      banner.id = `banner-${key}`;
      banner.setAttribute("role", "alert");
      banner.innerHTML = '<span class="banner-icon" aria-hidden="true">!</span><span class="banner-text"></span>';
      this.banners.appendChild(banner);
    }
    banner.dataset.kind = kind;
    banner.querySelector(".banner-text").textContent = text;
  }
}
