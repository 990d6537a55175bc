// The Backprop view: a tab of the network panel that steps through one forward and backward pass
// of the watched run on one training sample, with every number (POST /api/runs/<id>/backprop),
// then the update the next step makes (of the next mini-batch), and Step trains it for real.
// Stages: forward layer by layer, the loss, backward from the output, update. Hover or focus an
// edge or a neuron for its formula with numbers (backprop_math.js). Keys in the panel: ←/→
// previous/next layer, [ and ] (or PageUp/PageDown) previous/next phase, A autoplay.

import {
  edgeFormula, inputDeltas, inputName, layerName, lossFormula, neuronFormula, num, steppedFormula,
  workedExample,
} from "./backprop_math.js";
import { hookPlots } from "./backprop_plots.js";
import { stepOffer } from "./backprop_step.js";
import { counted } from "./format.js";

const SHOWN = 16; // neurons drawn per layer; wider layers show their largest |δ|
const AUTOPLAY_MS = 1400;
const SVG = "http://www.w3.org/2000/svg";
const PHASES = { forward: "Forward", loss: "Loss", backward: "Backward", update: "Update" };

const $ = (id) => document.getElementById(id);
const tab = $("backprop-tab");
const panel = $("backprop-panel");
const state = { pass: null, batch: null, stepped: null, stage: 0, index: 0, timer: null, runId: null, hooked: 0,
  stepping: false, queued: false };

function runId() {
  return new URLSearchParams(window.location.search).get("run");
}

function stages() {
  const count = state.pass ? state.pass.layers.length : 0;
  const list = [];
  for (let l = 0; l < count; l += 1) list.push({ phase: "forward", layer: l });
  if (count) list.push({ phase: "loss", layer: count - 1 });
  for (let l = count - 1; l >= 0; l -= 1) list.push({ phase: "backward", layer: l });
  if (state.pass?.source === "film") return list; // a past epoch: no next step to show
  for (let l = 0; l < count; l += 1) list.push({ phase: "update", layer: l });
  return list;
}

const current = () => stages()[state.stage] || { phase: "forward", layer: 0 };

function build() {
  panel.innerHTML = `
    <div class="bp-controls">
      <label class="bp-sample">Sample <input type="number" id="bp-index" min="0" step="1" value="0"
        aria-describedby="bp-index-error bp-sample-hint"></label>
      <span class="field-error" id="bp-index-error" role="alert"></span>
      <span class="card-note" id="bp-sample-hint">a training row, or click a point of the plot</span>
      <span class="bp-buttons" role="group" aria-label="Step through the pass">
        <button type="button" class="button small" id="bp-prev-phase" aria-keyshortcuts="[">« Phase</button>
        <button type="button" class="button small" id="bp-prev" aria-keyshortcuts="ArrowLeft">‹ Layer</button>
        <button type="button" class="button small" id="bp-next" aria-keyshortcuts="ArrowRight">Layer ›</button>
        <button type="button" class="button small" id="bp-next-phase" aria-keyshortcuts="]">Phase »</button>
        <button type="button" class="button small" id="bp-play" aria-pressed="false" aria-keyshortcuts="A">Autoplay</button>
      </span>
      <button type="button" class="button small primary" id="bp-step" aria-describedby="bp-step-why">Step: train the mini-batch</button>
      <span class="card-note bp-step-why" id="bp-step-why" role="status"></span>
      <button type="button" class="button small" id="bp-copy">Copy as worked example</button>
    </div>
    <p class="bp-stage" id="bp-stage" aria-live="polite"></p>
    <div class="bp-diagram" id="bp-diagram"></div>
    <p class="bp-formula" id="bp-formula" aria-live="polite"></p>
    <p class="card-note" id="bp-note"></p>
    <details class="bp-markdown"><summary>Worked example (Markdown)</summary>
      <textarea id="bp-markdown" readonly rows="10" aria-label="The pass as a Markdown worked example"></textarea>
    </details>`;
  $("bp-prev").addEventListener("click", () => go(state.stage - 1));
  $("bp-next").addEventListener("click", () => go(state.stage + 1));
  $("bp-prev-phase").addEventListener("click", () => jumpPhase(-1));
  $("bp-next-phase").addEventListener("click", () => jumpPhase(1));
  $("bp-play").addEventListener("click", () => autoplay(!state.timer));
  $("bp-step").addEventListener("click", step);
  showStep();
  $("bp-copy").addEventListener("click", copy);
  $("bp-index").addEventListener("change", () => pick({ index: Number($("bp-index").value) }));
  panel.addEventListener("keydown", keys);
}

function keys(event) {
  const target = event.target;
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  if (target instanceof Element && target.matches("input, textarea, select")) return;
  const actions = {
    ArrowLeft: () => go(state.stage - 1), ArrowRight: () => go(state.stage + 1),
    "[": () => jumpPhase(-1), "]": () => jumpPhase(1), PageUp: () => jumpPhase(-1), PageDown: () => jumpPhase(1),
    a: () => autoplay(!state.timer), A: () => autoplay(!state.timer),
  };
  const action = actions[event.key];
  if (!action) return;
  event.preventDefault();
  event.stopPropagation();
  action();
}

function go(stage) {
  const count = stages().length;
  state.stage = Math.max(0, Math.min(count - 1, stage));
  draw();
}

function jumpPhase(direction) {
  const list = stages();
  const phase = current().phase;
  let stage = state.stage;
  while (stage >= 0 && stage < list.length && list[stage].phase === phase) stage += direction;
  if (direction < 0 && stage >= 0) {
    const before = list[stage].phase;
    while (stage > 0 && list[stage - 1].phase === before) stage -= 1;
  }
  go(stage);
}

function autoplay(on) {
  clearInterval(state.timer);
  state.timer = null;
  if (on) {
    state.timer = setInterval(() => {
      if (state.stage >= stages().length - 1) autoplay(false);
      else go(state.stage + 1);
    }, AUTOPLAY_MS);
  }
  $("bp-play").setAttribute("aria-pressed", String(Boolean(state.timer)));
}

async function post(path, body) {
  const answer = await fetch(`/api/runs/${state.runId}/${path}`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  const json = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(json.errors ? Object.values(json.errors).join("; ") : json.error || answer.statusText);
  return json;
}

/** Fetch the pass on a sample (`{index}` or `{near}`) and the next mini-batch's update. */
async function pick(body) {
  state.runId = runId();
  if (!state.runId) {
    note("Start or open a run to see its backpropagation.");
    return;
  }
  state.queued = $("status")?.dataset.status === "queued";
  if (state.queued) { // no weights yet: picked again once it trains
    state.pass = null;
    $("bp-diagram").replaceChildren();
    note("The run waits for a training slot: its pass shows as soon as it trains.");
    return;
  }
  const epoch = window.studio?.replay?.heldEpoch?.() ?? null; // the time slider's past epoch
  try {
    const [pass, batch] = await Promise.all(epoch === null
      ? [post("backprop", body), post("backprop", { batch: true })]
      : [post("backprop", { ...body, epoch }), null]);
    state.pass = pass;
    state.batch = batch ?? pass;
    state.index = pass.rows ? pass.rows[0] : state.index;
    refuse("");
    $("bp-index").value = String(state.index);
    $("bp-index").max = String(pass.samples - 1);
    note(epoch === null ? "" : `The weights of epoch ${pass.epoch}, where the time slider is (no `
      + "next step there: Live shows the run's own).");
    draw();
    showStep();
    panel.dataset.loaded = `${pass.steps}:${state.index}`;
    panel.dataset.epoch = String(pass.epoch); // the weights' epoch (tests read it)
  } catch (error) {
    if (body.index === undefined) note(`No pass: ${error.message}`);
    else refuse(error.message);
  }
}

/** A sample number refused (the server's `message`; "" clears it): said at the field, which keeps
 * what was typed, and the pass drawn for another sample is hidden rather than shown as this one's. */
function refuse(message) {
  $("bp-index-error").textContent = message ? `${message.charAt(0).toUpperCase()}${message.slice(1)}.` : "";
  if (message) $("bp-index").setAttribute("aria-invalid", "true");
  else $("bp-index").removeAttribute("aria-invalid");
  panel.classList.toggle("bp-refused", Boolean(message));
}

function showStep() {
  const button = $("bp-step");
  if (!button) return;
  const offer = stepOffer(window.studio?.state.status, window.studio?.state.yours !== false,
    state.pass?.source === "film");
  button.textContent = offer.label;
  button.disabled = !offer.enabled || state.stepping;
  $("bp-step-why").textContent = offer.reason;
}

async function step() {
  state.stepping = true;
  showStep();
  let before = state.batch;
  let failed = null;
  try {
    if (window.studio?.state.status === "running") {
      await post("pause", {});
      await pick({ index: state.index }); // the pass and mini-batch on the weights it stopped at
      before = state.batch;
    }
    await post("step", { batches: 1 });
  } catch (error) {
    failed = error;
  }
  state.stepping = false;
  showStep();
  if (failed) {
    $("bp-step-why").textContent = `Step: ${failed.message}`;
    return;
  }
  await pick({ index: state.index });
  state.stepped = before;
  state.stage = stages().findIndex((stage) => stage.phase === "update");
  draw();
}

async function copy() {
  const text = workedExample(state.pass, state.batch);
  $("bp-markdown").value = text;
  $("bp-markdown").closest("details").open = true;
  try {
    await navigator.clipboard.writeText(text);
    note("The worked example is on the clipboard (Markdown with LaTeX).");
  } catch {
    note("The clipboard is not available here: copy the Markdown below.");
  }
}

function note(text) {
  $("bp-note").textContent = text;
}

/** Which neurons of each column are drawn: all up to SHOWN, else the SHOWN largest |δ|. */
function shownNeurons(pass) {
  const columns = [inputDeltas(pass), ...pass.layers.map((layer) => layer.delta)];
  return columns.map((deltas) => {
    const order = deltas.map((d, k) => k);
    if (order.length <= SHOWN) return order;
    order.sort((a, b) => Math.abs(deltas[b]) - Math.abs(deltas[a]));
    return order.slice(0, SHOWN).sort((a, b) => a - b);
  });
}

function element(name, attributes, parent) {
  const made = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) made.setAttribute(key, value);
  if (parent) parent.append(made);
  return made;
}

function explain(target, text) {
  const show = () => { $("bp-formula").textContent = text; };
  target.addEventListener("mouseenter", show);
  target.addEventListener("focus", show);
}

/** The number shown on the active phase's edges: w (forward), ∂L/∂w (backward), Δw (update). */
function edgeValue(stage, l, i, j) {
  if (stage.phase === "update") return state.batch.layers[l].update.W[i][j];
  if (stage.phase === "backward") return state.pass.layers[l].dW[i][j];
  return state.pass.layers[l].W[i][j];
}

function draw() {
  const pass = state.pass;
  if (!pass) return;
  const stage = current();
  const shown = shownNeurons(pass);
  const width = 960;
  const height = 50 + 30 * Math.max(...shown.map((column) => column.length));
  const columns = shown.length;
  // room on the left for the input labels ("pixel (0, 3) −0.638": 10.5 px mono, ~6.4 px a
  // character), then the columns spread over the rest; 170 px on the right for the loss
  const longest = Math.max(0, ...shown[0].map((j) => `${inputName(pass, j)} ${num(pass.layers[0].input[j])}`.length));
  const left = Math.min(320, Math.max(90, 28 + 6.4 * longest));
  const xOf = (c) => left + (c * (width - 170 - left)) / (columns - 1);
  const yOf = (c, k) => 30 + ((k + 0.5) * (height - 40)) / shown[c].length;
  const svg = element("svg", { viewBox: `0 0 ${width} ${height}`, role: "group",
    "aria-label": `the network, ${PHASES[stage.phase]} phase` });
  const active = stage.phase === "loss" ? -1 : stage.layer;
  let largest = 1e-300;
  if (active >= 0) {
    shown[active].forEach((i) => shown[active + 1].forEach((j) => {
      largest = Math.max(largest, Math.abs(edgeValue(stage, active, i, j)));
    }));
  }
  for (let l = 0; l < pass.layers.length; l += 1) {
    shown[l].forEach((i, a) => shown[l + 1].forEach((j, b) => {
      const line = element("line", { x1: xOf(l), y1: yOf(l, a), x2: xOf(l + 1), y2: yOf(l + 1, b) }, svg);
      if (l !== active) {
        line.setAttribute("class", "bp-edge bp-faint");
        return;
      }
      const value = edgeValue(stage, l, i, j);
      const stroke = 0.75 + 4.25 * (Math.abs(value) / largest);
      line.setAttribute("class", `bp-edge ${value >= 0 ? "pos" : "neg"}`);
      line.setAttribute("stroke-width", String(stroke));
      // the edge answers the pointer along its whole length: a solid twin over the line, since
      // a negative edge is dashed and a dash's gap would not take the hover
      const hit = element("line", { x1: xOf(l), y1: yOf(l, a), x2: xOf(l + 1), y2: yOf(l + 1, b),
        class: "bp-edge-hit", "stroke-width": String(Math.max(stroke, 3)), tabindex: "0", role: "img" }, svg);
      hit.dataset.edge = `${l}:${i}:${j}`;
      const text = state.stepped && stage.phase === "update" ? steppedFormula(state.stepped, pass, l, i, j)
        : edgeFormula(pass, state.batch, stage.phase, l, i, j);
      hit.setAttribute("aria-label", text);
      explain(hit, text);
    }));
  }
  const lossX = xOf(columns - 1) + 110;
  shown[columns - 1].forEach((j, k) => element("line", { x1: xOf(columns - 1), y1: yOf(columns - 1, k),
    x2: lossX - 34, y2: height / 2, class: "bp-edge bp-faint" }, svg));
  shown.forEach((column, c) => column.forEach((j, k) => neuron(svg, stage, c - 1, j, xOf(c), yOf(c, k))));
  lossNode(svg, stage, lossX, height / 2);
  const titles = ["input", ...pass.layers.map((_, l) => layerName(pass, l)), "loss"];
  titles.forEach((title, c) => {
    const text = element("text", { x: c < columns ? xOf(c) : lossX, y: 12, class: "bp-label middle bp-title" }, svg);
    text.textContent = title;
  });
  $("bp-diagram").replaceChildren(svg);
  caption(stage, shown);
}

function neuron(svg, stage, l, j, x, y) {
  const pass = state.pass;
  const activeColumn = stage.phase === "loss" ? pass.layers.length - 1 : stage.layer;
  const isActive = l === activeColumn || (l === -1 && stage.layer === 0 && stage.phase !== "backward");
  const circle = element("circle", { cx: x, cy: y, r: 9, class: `bp-neuron${isActive ? " active" : ""}` }, svg);
  circle.dataset.bpNeuron = `${l}:${j}`;
  let label = ""; // what this stage has computed so far: nothing ahead of it
  if (l < 0) label = `${inputName(pass, j)} ${num(pass.layers[0].input[j])}`;
  else if (stage.phase === "update" || (stage.phase === "backward" && l >= stage.layer)) {
    label = `δ ${num(pass.layers[l].delta[j])}`;
  } else if (stage.phase === "backward") label = `a ${num(pass.layers[l].a[j])}`;
  else if (l <= stage.layer) label = `z ${num(pass.layers[l].z[j])} · a ${num(pass.layers[l].a[j])}`;
  // left of the neuron where the active layer's edges leave it (they fan out to the right)
  const left = l < 0 || (stage.phase !== "loss" && l === stage.layer - 1);
  const text = element("text", { x: left ? x - 14 : x + 13, y: y + 4, class: `bp-label${left ? " left" : ""}` }, svg);
  text.textContent = label;
  if (!isActive) return;
  const formula = neuronFormula(pass, state.batch, stage.phase, l, j);
  circle.setAttribute("tabindex", "0");
  circle.setAttribute("role", "img");
  circle.setAttribute("aria-label", formula);
  explain(circle, formula);
}

function lossNode(svg, stage, x, y) {
  const pass = state.pass;
  const box = element("rect", { x: x - 34, y: y - 16, width: 68, height: 32, rx: 6,
    class: `bp-loss${stage.phase === "loss" ? " active" : ""}`, tabindex: "0", role: "img" }, svg);
  const formula = lossFormula(pass);
  box.setAttribute("aria-label", formula);
  box.dataset.bpNeuron = "loss";
  explain(box, formula);
  const text = element("text", { x, y: y + 4, class: "bp-label middle" }, svg);
  text.textContent = `L ${num(pass.loss)}`;
  const shown = pass.output.prediction.length === 1
    ? [`ŷ ${num(pass.output.prediction[0])}`, `t ${num(pass.target[0])}`]
    : [`p(t) ${num(pass.output.probabilities[pass.target.indexOf(Math.max(...pass.target))])}`];
  shown.forEach((line, k) => {
    element("text", { x, y: y + 32 + 14 * k, class: "bp-label middle" }, svg).textContent = line;
  });
}

function caption(stage, shown) {
  const pass = state.pass;
  const name = stage.phase === "loss" ? "the loss" : layerName(pass, stage.layer);
  const words = {
    forward: "each neuron's z = Σ a·w + b and a = f(z); edges: the weights",
    loss: `prediction against target: ${lossFormula(pass)}`,
    backward: "each neuron's δ = ∂L/∂z; edges coloured and sized by ∂L/∂w",
    update: state.stepped ? "after the step: the new weights (hover an edge: before → after)"
      : `each edge's change at the next step (mini-batch of ${counted(state.batch.rows.length, "row")})`,
  };
  $("bp-stage").textContent = `${PHASES[stage.phase]} · ${name} (${state.stage + 1} of ${stages().length}): ${words[stage.phase]}`;
  const cut = shown.map((column, c) => [column.length, c === 0 ? pass.layers[0].input.length : pass.layers[c - 1].z.length])
    .filter(([drawn, all]) => drawn < all);
  $("bp-formula").textContent = cut.length
    ? `Wide layers: ${cut.map(([drawn, all]) => `${drawn} of ${all}`).join(", ")} neurons drawn, those of the largest |δ|.`
    : "Hover or focus an edge or a neuron for its formula with numbers.";
  panel.dataset.stage = `${stage.phase}:${stage.layer}`;
}

function select(backprop) {
  const network = $("network-tab");
  const before = tab.getBoundingClientRect().top; // the tabs stay where they were clicked:
  tab.setAttribute("aria-selected", String(backprop));
  network.setAttribute("aria-selected", String(!backprop));
  tab.tabIndex = backprop ? 0 : -1;
  network.tabIndex = backprop ? -1 : 0;
  panel.hidden = !backprop;
  $("network-panel").hidden = backprop;
  panel.closest(".card").classList.toggle("backprop-mode", backprop);
  if (backprop && !panel.firstChild) build();
  window.scrollBy(0, tab.getBoundingClientRect().top - before); // the panel moves, not the page
  if (backprop) pick({ index: state.index });
  else autoplay(false);
}

if (tab && panel) {
  // Step follows the watched run's status (the status line's data-status)
  const pill = $("status");
  // …and a run that had no weights when picked (queued) is picked again once it has them
  const follow = () => {
    showStep();
    if (!panel.hidden && state.queued && pill.dataset.status !== "queued") pick({ index: 0 });
  };
  if (pill) new MutationObserver(follow).observe(pill, { attributes: true, attributeFilter: ["data-status"] });
  // a newly watched run (trained or opened while the tab is open): its pass, not the last run's
  document.addEventListener("studio-snapshot", (event) => {
    if (!panel.hidden && event.detail.runId !== state.runId) pick({ index: 0 });
  });
  document.addEventListener("studio-replay", () => {
    if (!panel.hidden && state.runId) pick({ index: state.index });
  });
  tab.addEventListener("click", () => select(true));
  $("network-tab").addEventListener("click", () => select(false));
  for (const button of [tab, $("network-tab")]) {
    button.addEventListener("keydown", (event) => {
      if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
      event.preventDefault();
      const other = button === tab ? $("network-tab") : tab;
      other.focus();
      other.click();
    });
  }
  setInterval(() => hookPlots({
    isOpen: () => tab.getAttribute("aria-selected") === "true",
    inputs: () => (state.pass ? Math.min(2, state.pass.raw.x.length) : 1),
    onPoint: (near) => pick({ near }),
    onHooked: () => { state.hooked += 1; }, // plots hooked so far (tests wait on it)
  }), 1000);
}

window.backpropView = { state, pick, draw };
