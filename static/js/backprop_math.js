// The Backprop view's arithmetic, written out: activations and their derivatives, the formula of
// every edge and neuron with its numbers (plain text), and the pass as a Markdown worked example
// (tables per layer, the chain rule with numbers, LaTeX). No DOM here: node can load it.
//
// `pass` is the answer of POST /api/runs/<id>/backprop for one sample (arrays per neuron) and
// `batch` that for the next mini-batch (its update is what the next step does).

import { counted } from "./format.js";

const C = Math.sqrt(2 / Math.PI);

/** f(z) and f′(z) of the engine's activations (GELU in its tanh form, LeakyReLU slope 0.01). */
export const ACTIVATIONS = {
  sigmoid: [(z) => 1 / (1 + Math.exp(-z)), (z) => { const s = 1 / (1 + Math.exp(-z)); return s * (1 - s); }],
  tanh: [Math.tanh, (z) => 1 - Math.tanh(z) ** 2],
  relu: [(z) => Math.max(z, 0), (z) => (z > 0 ? 1 : 0)],
  leaky_relu: [(z) => (z > 0 ? z : 0.01 * z), (z) => (z > 0 ? 1 : 0.01)],
  elu: [(z) => (z > 0 ? z : Math.expm1(z)), (z) => (z > 0 ? 1 : Math.exp(z))],
  gelu: [
    (z) => 0.5 * z * (1 + Math.tanh(C * (z + 0.044715 * z ** 3))),
    (z) => {
      const t = Math.tanh(C * (z + 0.044715 * z ** 3));
      return 0.5 * (1 + t) + 0.5 * z * (1 - t * t) * C * (1 + 3 * 0.044715 * z * z);
    },
  ],
  softplus: [(z) => Math.log1p(Math.exp(-Math.abs(z))) + Math.max(z, 0), (z) => 1 / (1 + Math.exp(-z))],
  identity: [(z) => z, () => 1],
};

/** 3 significant digits with a real minus sign ("−0.223"); tiny or huge in exponent form. */
export function num(value, digits = 3) {
  if (value === null || value === undefined || !Number.isFinite(value)) return "—";
  const magnitude = Math.abs(value);
  const text = magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e5)
    ? value.toExponential(digits - 1) : String(Number(value.toPrecision(digits)));
  return text.replace(/-/g, "−");
}

/**
 * "0.1234 → 0.1237": a value before and after a change, each with just the significant digits
 * that show the change (`least` at least, at most 15), so a small step is never read as none.
 */
export function change(before, after, least = 3) {
  const scale = Math.max(Math.abs(before), Math.abs(after));
  const step = Math.abs(after - before);
  const digits = step > 0 && scale > 0
    ? Math.min(15, Math.max(least, Math.ceil(Math.log10(scale / step)) + 2)) : least;
  return `${num(before, digits)} → ${num(after, digits)}`;
}

/** A factor in a product: always in parentheses, "(−0.31)". */
export const factor = (value) => `(${num(value)})`;

/** Names of the network's inputs (as the task names them) and of its layers. */
export function inputName(pass, i) {
  return (pass.input_names && pass.input_names[i]) || `x${i + 1}`;
}

export function layerName(pass, l) {
  return l === pass.layers.length - 1 ? "output" : `hidden ${l + 1}`;
}

/** The activation of layer `l` (none on the output layer: it gives logits or the prediction). */
export function activationOf(pass, l) {
  return l === pass.layers.length - 1 ? "identity" : pass.activation;
}

/** f′(z_j) of layer `l`'s neuron j. */
export function derivative(pass, l, j) {
  return ACTIVATIONS[activationOf(pass, l)][1](pass.layers[l].z[j]);
}

/** dL/dx_i: the input neurons' δ (Σ_j w_ij δ_j of the first layer). */
export function inputDeltas(pass) {
  const first = pass.layers[0];
  return first.W.map((row) => row.reduce((sum, w, j) => sum + w * first.delta[j], 0));
}

/** The activation a_i feeding layer `l` (an input x_i for the first layer). */
export const feeding = (pass, l, i) => pass.layers[l].input[i];

function feedName(pass, l, i) {
  return l === 0 ? `x_${i + 1} (${inputName(pass, i)})` : `a_${i + 1}`;
}

function terms(products, shown = 4) {
  const written = products.slice(0, shown).map(([a, b]) => `${factor(a)}·${factor(b)}`).join(" + ");
  return products.length > shown ? `${written} + … (${products.length} terms)` : written;
}

/** The formula of the edge i → j of layer `l` in a `phase` ("forward", "backward", "update"). */
export function edgeFormula(pass, batch, phase, l, i, j) {
  const layer = pass.layers[l];
  const w = layer.W[i][j];
  const where = `w_${i + 1},${j + 1} of ${layerName(pass, l)}`;
  if (phase === "forward") {
    const a = feeding(pass, l, i);
    return `${where}: w = ${num(w)}; its share of z_${j + 1}: ${feedName(pass, l, i)} · w = ${factor(a)}·${factor(w)} = ${num(a * w)}`;
  }
  if (phase === "update") {
    const delta = batch.layers[l].update.W[i][j];
    const g = batch.layers[l].dW[i][j];
    return `${where}: Δw = ${updateRule(batch)} = ${num(delta)} (∂L/∂w over the mini-batch = ${num(g)}); w: ${change(w, w + delta)}`;
  }
  const a = feeding(pass, l, i);
  return `${where}: ∂L/∂w = δ_${j + 1} · a_${i + 1} = ${factor(layer.delta[j])}·${factor(a)} = ${num(layer.dW[i][j])}`;
}

/** The optimizer's step rule, in words of the formula. */
export function updateRule(pass) {
  const o = pass.optimizer || {};
  const lr = `${num(o.lr)}`;
  if (o.name === "adam") return `−lr · m̂ / (√v̂ + ε) with lr = ${lr} (Adam, from its moments)`;
  if (o.name === "rmsprop") return `−lr · g / (√(E[g²]) + ε) with lr = ${lr} (RMSprop, from its average)`;
  const decay = o.weight_decay ? ` (g = ∂L/∂w + ${num(o.weight_decay)}·w)` : "";
  if (o.momentum) return `−lr · (μ·v + g) with lr = ${lr}, μ = ${num(o.momentum)}${decay}`;
  return `−lr · g with lr = ${lr}${decay}`;
}

/** The loss node: prediction, target and loss, with the loss's formula. */
export function lossFormula(pass) {
  const y = pass.output.prediction;
  const t = pass.target;
  const list = (values) => `[${values.map((v) => num(v)).join(", ")}]`;
  if (pass.loss_name === "cross_entropy") {
    const label = t.indexOf(Math.max(...t));
    const p = pass.output.probabilities[label];
    return `L = −log softmax(ŷ)_t = −log ${factor(p)} = ${num(pass.loss)}; logits ŷ = ${list(y)}, class t = ${pass.classes[label] ?? label}`;
  }
  if (pass.loss_name === "bce") {
    return `L = mean(log(1 + e^ŷ) − t·ŷ) = ${num(pass.loss)}; logits ŷ = ${list(y)}, t = ${list(t)}`;
  }
  const squares = y.map((value, k) => `(${num(value)} − ${num(t[k])})²`).join(" + ");
  const n = y.length > 1 ? `(1/${y.length})·(` : "";
  return `L = mean((ŷ − t)²) = ${n}${squares}${n ? ")" : ""} = ${num(pass.loss)}; prediction ŷ = ${list(y)}, target t = ${list(t)} (standardised)`;
}

/** The output neuron j's δ: the loss's own derivative. */
export function outputDelta(pass, j) {
  const layer = pass.layers[pass.layers.length - 1];
  const y = pass.output.prediction[j];
  const t = pass.target[j];
  const n = pass.output.prediction.length;
  if (pass.loss_name === "cross_entropy") {
    return `δ_${j + 1} = ∂L/∂ŷ_${j + 1} = softmax(ŷ)_${j + 1} − t_${j + 1} = ${factor(pass.output.probabilities[j])} − ${factor(t)} = ${num(layer.delta[j])}`;
  }
  if (pass.loss_name === "bce") {
    return `δ_${j + 1} = ∂L/∂ŷ_${j + 1} = (σ(ŷ_${j + 1}) − t_${j + 1}) / ${n} = (${factor(pass.output.probabilities[j])} − ${factor(t)}) / ${n} = ${num(layer.delta[j])}`;
  }
  return `δ_${j + 1} = ∂L/∂ŷ_${j + 1} = 2·(ŷ_${j + 1} − t_${j + 1}) / ${n} = 2·(${factor(y)} − ${factor(t)}) / ${n} = ${num(layer.delta[j])}`;
}

/** The formula of neuron j of layer `l` (l = −1: an input) in a `phase`. */
export function neuronFormula(pass, batch, phase, l, j) {
  if (l < 0) {
    const dx = inputDeltas(pass)[j];
    return `${inputName(pass, j)}: x_${j + 1} = ${num(pass.layers[0].input[j])} (standardised); ∂L/∂x_${j + 1} = Σ_k w_${j + 1}k δ_k = ${num(dx)}`;
  }
  const layer = pass.layers[l];
  const last = l === pass.layers.length - 1;
  if (phase === "forward" || phase === "loss") {
    const products = layer.input.map((a, i) => [a, layer.W[i][j]]);
    const f = activationOf(pass, l);
    const output = last ? (pass.kind === "classification" ? "logit" : "prediction") : `a = ${f}(z)`;
    return `${layerName(pass, l)} neuron ${j + 1}: z_${j + 1} = Σ_i a_i w_i,${j + 1} + b_${j + 1} = ${terms(products)} + ${factor(layer.b[j])} = ${num(layer.z[j])}; ${last ? `${output} ŷ_${j + 1} = z_${j + 1} = ${num(layer.z[j])}` : `${output} = ${f}(${num(layer.z[j])}) = ${num(layer.a[j])}`}`;
  }
  if (phase === "update") {
    const delta = batch.layers[l].update.b[j];
    return `b_${j + 1} of ${layerName(pass, l)}: Δb = ${updateRule(batch)} = ${num(delta)} (∂L/∂b over the mini-batch = ${num(batch.layers[l].db[j])}); b: ${change(layer.b[j], layer.b[j] + delta)}`;
  }
  if (last) return outputDelta(pass, j);
  const next = pass.layers[l + 1];
  const products = next.W[j].map((w, k) => [w, next.delta[k]]);
  return `δ_${j + 1} = f′(z_${j + 1}) · Σ_k w_${j + 1}k δ_k = ${factor(derivative(pass, l, j))}·(${terms(products)}) = ${factor(derivative(pass, l, j))}·${factor(layer.dL_da[j])} = ${num(layer.delta[j])}`;
}

// ------------------------------------------------------------------ the worked example

const TEX = {
  sigmoid: "\\sigma(z)", tanh: "\\tanh z", relu: "\\max(0, z)", leaky_relu: "\\max(0.01z, z)",
  elu: "z \\text{ if } z>0 \\text{ else } e^z - 1", gelu: "\\tfrac{z}{2}\\left(1+\\tanh\\left(\\sqrt{2/\\pi}\\,(z+0.044715z^3)\\right)\\right)",
  softplus: "\\log(1+e^z)", identity: "z",
};
const LOSS_TEX = {
  mse: "L = \\frac{1}{n}\\sum_k (\\hat y_k - t_k)^2, \\quad \\frac{\\partial L}{\\partial \\hat y_k} = \\frac{2}{n}(\\hat y_k - t_k)",
  cross_entropy: "L = -\\log \\operatorname{softmax}(\\hat y)_t, \\quad \\frac{\\partial L}{\\partial \\hat y_k} = \\operatorname{softmax}(\\hat y)_k - [k = t]",
  bce: "L = \\frac{1}{n}\\sum_k \\left(\\log(1+e^{\\hat y_k}) - t_k \\hat y_k\\right), \\quad \\frac{\\partial L}{\\partial \\hat y_k} = \\frac{\\sigma(\\hat y_k) - t_k}{n}",
};

const md = (text) => text.replace(/\|/g, "\\|");
const row = (cells) => `| ${cells.map((cell) => md(String(cell))).join(" | ")} |`;
const table = (head, rows) => [row(head), row(head.map(() => "---")), ...rows.map(row)].join("\n");

/** The whole pass as Markdown for a teacher's notes (LaTeX between $ … $). */
export function workedExample(pass, batch, shown = 3) {
  const sizes = [pass.layers[0].input.length, ...pass.layers.map((layer) => layer.z.length)];
  const sample = pass.rows ? `training sample ${pass.rows[0]}` : "a point";
  const raw = pass.raw_input_names.map((name, i) => `${name} = ${num(pass.raw.x[i], 4)}`).join(", ");
  const out = [
    `# One step of backpropagation, worked out`,
    "",
    `Network ${sizes.join("–")}, activation ${pass.activation}, loss ${pass.loss_name}, optimizer ${pass.optimizer.name} (lr ${num(pass.optimizer.lr)}); epoch ${pass.epoch}, after ${counted(pass.steps, "step")}. Computed in float64 from the run's weights.`,
    "",
    `Sample: ${sample} (${raw}); the network's input (standardised): ${pass.layers[0].input.map((v, i) => `${inputName(pass, i)} = ${num(v)}`).join(", ")}.`,
    "",
    "## Forward",
    "",
    `$$z^{(l)}_j = \\sum_i a^{(l-1)}_i w^{(l)}_{ij} + b^{(l)}_j, \\qquad a^{(l)}_j = f(z^{(l)}_j), \\qquad f(z) = ${TEX[pass.activation]}$$`,
  ];
  pass.layers.forEach((layer, l) => {
    out.push("", `### Layer ${l + 1} (${layerName(pass, l)})`, "");
    out.push(table(["neuron", "z", "a"], layer.z.map((z, j) => [j + 1, num(z), num(layer.a[j])])));
  });
  out.push("", "## Loss", "", `$$${LOSS_TEX[pass.loss_name] || LOSS_TEX.mse}$$`, "", lossFormula(pass));
  out.push("", "## Backward", "", "$$\\delta^{(L)} = \\frac{\\partial L}{\\partial \\hat y}, \\qquad \\delta^{(l)}_j = f'(z^{(l)}_j) \\sum_k w^{(l+1)}_{jk} \\delta^{(l+1)}_k, \\qquad \\frac{\\partial L}{\\partial w^{(l)}_{ij}} = a^{(l-1)}_i \\, \\delta^{(l)}_j, \\qquad \\frac{\\partial L}{\\partial b^{(l)}_j} = \\delta^{(l)}_j$$");
  for (let l = pass.layers.length - 1; l >= 0; l -= 1) {
    const layer = pass.layers[l];
    const last = l === pass.layers.length - 1;
    out.push("", `### Layer ${l + 1} (${layerName(pass, l)})`, "");
    out.push(table(["neuron", "∂L/∂a", "f′(z)", "δ"], layer.delta.map((d, j) => [
      j + 1, num(layer.dL_da[j]), last ? "1" : num(derivative(pass, l, j)), num(d)])));
    out.push("", "Chain rule, with numbers:", "");
    layer.delta.slice(0, shown).forEach((_, j) => out.push(`- ${neuronFormula(pass, batch, "backward", l, j)}`));
    layer.input.slice(0, shown).forEach((a, i) => {
      out.push(`- $\\frac{\\partial L}{\\partial w_{${i + 1}${1}}} = a_{${i + 1}}\\,\\delta_{1} = (${num(a)})(${num(layer.delta[0])}) = ${num(layer.dW[i][0])}$`);
    });
  }
  if (batch) {
    out.push("", "## Update", "", `The next step trains the mini-batch of ${counted(batch.rows.length, "row")} (${batch.rows.slice(0, 8).join(", ")}${batch.rows.length > 8 ? ", …" : ""}); its gradient is that of the mean loss. Rule: Δw = ${updateRule(batch)}.`);
    batch.layers.forEach((layer, l) => {
      out.push("", `### Layer ${l + 1} (${layerName(pass, l)}): Δw (rows: inputs, columns: neurons)`, "");
      const head = ["", ...layer.update.W[0].map((_, j) => `n${j + 1}`)].slice(0, 9);
      out.push(table(head, layer.update.W.slice(0, 8).map((values, i) => [
        l === 0 ? inputName(pass, i) : `a${i + 1}`, ...values.slice(0, 8).map((v) => num(v))])));
      out.push("", `Δb: ${layer.update.b.slice(0, 8).map((v) => num(v)).join(", ")}`);
    });
  }
  return `${out.join("\n")}\n`;
}

/** After a Step: the edge's weight before and after, against the change reported before it. */
export function steppedFormula(before, after, l, i, j) {
  const old = before.layers[l].W[i][j];
  const now = after.layers[l].W[i][j];
  return `w_${i + 1},${j + 1} of ${layerName(after, l)} after the step: ${change(old, now, 6)}; changed by ${num(now - old)}, reported Δw = ${num(before.layers[l].update.W[i][j])}`;
}
