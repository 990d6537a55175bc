// The configuration form's generated controls: a hidden layer's row, a feature toggle, a
// domain's pair of number inputs. Built here, wired by `ConfigForm` (controls.js).

import { AXES } from "./form_reading.js";

/** Range ends with at most 6 significant digits (π shows as 3.14159, not 3.141592653589793). */
export function formatBound(value) {
  const number = Number(value);
  return Number.isFinite(number) ? String(Number(number.toPrecision(6))) : String(value);
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Hidden layer `index`'s row (label, neuron count `size`, remove button); `neurons`: the
 * schema's {minimum, maximum} of a layer. */
export function layerRow(index, size, neurons) {
  const row = element("li", "layer-row");
  const id = `hidden-${index}`;
  const label = element("label", "", `Layer ${index + 1}`);
  label.htmlFor = id;
  const input = element("input", "layer-size");
  input.type = "number";
  if (neurons.minimum !== undefined) input.min = String(neurons.minimum);
  if (neurons.maximum !== undefined) input.max = String(neurons.maximum);
  input.step = "1";
  input.id = id;
  input.dataset.field = "hidden";
  input.inputMode = "numeric";
  input.value = String(size);
  input.setAttribute("aria-describedby", "hint-hidden error-hidden");
  const remove = element("button", "button remove-layer", "×");
  remove.type = "button";
  remove.dataset.index = String(index);
  remove.title = `Remove layer ${index + 1}`;
  remove.setAttribute("aria-label", `Remove layer ${index + 1}`);
  remove.setAttribute("aria-describedby", "hint-hidden");
  row.append(label, input, remove);
  return row;
}

/** A Playground feature's toggle ({text, label}), switched on or not. */
export function featureToggle({ text, label }, on) {
  const wrap = element("label", "feature-toggle");
  const box = document.createElement("input");
  box.type = "checkbox";
  box.value = text;
  box.dataset.field = "input_features";
  box.checked = on;
  box.setAttribute("aria-describedby", "hint-input_features error-input_features");
  box.title = `Feed ${label} to the network as an input`;
  wrap.append(box, element("span", "formula", label));
  return wrap;
}

function numberInput(id, field, label, bounds) {
  const input = document.createElement("input");
  input.type = "number";
  input.step = "any";
  input.id = id;
  input.dataset.field = field;
  input.setAttribute("aria-label", label);
  input.setAttribute("aria-describedby", `hint-${field} error-${field}`);
  input.inputMode = "decimal";
  if (bounds.min !== undefined) input.min = String(bounds.min);
  if (bounds.max !== undefined) input.max = String(bounds.max);
  return input;
}

/** The elements of plotted input `d`'s range: axis name, from, "to", to (filled from the task's
 * domain; disabled for uploaded data, whose range is its own). */
export function domainInputs(task, d, bounds, dataset) {
  const name = task.inputs === 1 ? "x" : AXES[d];
  const lo = numberInput(`domain-${d}-lo`, "domain", `${name} from`, bounds);
  const hi = numberInput(`domain-${d}-hi`, "domain", `${name} to`, bounds);
  const label = element("span", "axis", name);
  label.setAttribute("aria-hidden", "true");
  const to = element("span", "to", "to");
  to.setAttribute("aria-hidden", "true");
  lo.disabled = dataset;
  hi.disabled = dataset;
  if (task.domain && task.domain[d]) {
    lo.value = formatBound(task.domain[d][0]);
    hi.value = formatBound(task.domain[d][1]);
  }
  return [label, lo, to, hi];
}
