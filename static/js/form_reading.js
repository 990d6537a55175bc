// Reading the configuration form (a `ConfigForm`): the run config it asks for with each field's
// problem, and the values as typed for the address bar.

import { rangeText } from "./config_schema.js";
import { numberProblem, readNumber } from "./number_input.js";

export const AXES = ["x", "y", "z"];

export function parseNumber(input) {
  return readNumber(input); // a decimal comma too (number_input.js)
}

/** Reads and validates `form`: {config, errors} (errors: field -> message). */
export function readForm(form) {
  const errors = {};
  const config = { task: form.task.id };
  const dataset = form.isDataset();
  if (form.isCustom()) {
    config.expression = form.expressionInput.value.trim();
    if (!config.expression) errors.expression = "Type a function of x (or of x and y), e.g. sin(5*x)*x.";
    else if (config.expression.length > form.expressionInput.maxLength && form.expressionInput.maxLength > 0) {
      errors.expression = `Keep it to ${form.expressionInput.maxLength} characters.`;
    }
  }
  const hidden = form.hiddenSizes();
  const { minimum: fewest, maximum: most } = form.layerLimits.items || {};
  const bad = hidden.findIndex((n) => !Number.isInteger(n) || n < fewest || n > most);
  if (bad >= 0) {
    const value = form.layerInputs()[bad].value.trim();
    errors.hidden = value !== "" && Number(value) < fewest
      ? `Layer ${bad + 1} needs at least ${fewest} neuron${fewest === 1 ? "" : "s"}.`
      : `Layer ${bad + 1}: use a whole number of neurons ${rangeText({ min: fewest, max: most })}.`;
    errors.hiddenIndex = bad;
  }
  config.hidden = hidden;
  config.activation = form.form.elements.activation.value;
  config.optimizer = form.form.elements.optimizer.value;
  if (form.classifies()) config.loss = form.form.elements.loss.value;
  for (const name of form.schema.numberFields()) {
    if (!form.offers(name, config.optimizer)) continue;
    const input = form.form.elements[name];
    const v = parseNumber(input);
    if (!Number.isFinite(v)) errors[name] = numberProblem(input) || "Enter a number.";
    else if (form.schema.isInteger(name) && !Number.isInteger(v)) errors[name] = "Enter a whole number.";
    else {
      const problem = form.schema.check(name, v, { classification: form.classifies() });
      if (problem) errors[name] = problem;
    }
    config[name] = v;
  }
  config.epochs_per_second = form.pace();
  config.early_stopping = form.earlyStopping();
  config.schedule = form.form.elements.schedule.value;
  config.input_features = form.inputFeatures();
  if (config.input_features && !config.input_features.length) {
    errors.input_features = "Switch on at least one feature.";
  } else if (config.input_features && config.input_features.length > (form.schema.field("input_features").maxItems ?? Infinity)) {
    errors.input_features = `At most ${form.schema.field("input_features").maxItems} features.`;
  }
  const domain = [];
  for (let d = 0; d < (dataset ? 0 : form.task.domain.length); d++) {
    const lo = parseNumber(form.form.querySelector(`#domain-${d}-lo`));
    const hi = parseNumber(form.form.querySelector(`#domain-${d}-hi`));
    const axis = form.task.inputs === 1 ? "x" : AXES[d];
    const unread = [`#domain-${d}-lo`, `#domain-${d}-hi`].map((id) => numberProblem(form.form.querySelector(id))).find(Boolean);
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) errors.domain = unread || `Enter both ends of the ${axis} range.`;
    else if (!(lo < hi)) errors.domain = `The ${axis} range must run from a lower to a higher value.`;
    else if (lo < form.domainBounds.min || hi > form.domainBounds.max) {
      errors.domain = `Keep the ${axis} range ${rangeText(form.domainBounds)}.`;
    }
    domain.push([lo, hi]);
  }
  if (!dataset) config.domain = domain;
  const samples = dataset ? parseNumber(form.form.elements.samples) : config.samples;
  if (!errors.batch_size && !errors.samples && config.batch_size > samples) {
    errors.batch_size = dataset ? `The batch cannot be larger than the data (${samples} rows).`
      : "The batch cannot be larger than the number of samples.";
  }
  return { config, errors };
}

/** `form`'s values as typed (strings), for the address bar: even invalid input survives. */
export function typedConfig(form) {
  const config = {};
  if (form.isCustom()) config.expression = form.expressionInput.value;
  config.hidden = form.layerInputs().map((i) => i.value.trim());
  const dataset = form.isDataset();
  config.activation = form.form.elements.activation.value;
  config.optimizer = form.form.elements.optimizer.value;
  if (form.classifies()) config.loss = form.form.elements.loss.value;
  for (const name of form.schema.numberFields()) {
    if (!form.offers(name, config.optimizer)) continue;
    config[name] = form.form.elements[name].value.trim();
  }
  if (form.speedSelect.value === "full") config.speed = "full";
  else if (form.speedSelect.value !== "auto") config.epochs_per_second = form.speedSelect.value;
  if (form.form.elements.schedule.value !== "constant") config.schedule = form.form.elements.schedule.value;
  if (form.earlyStopping()) config.early_stopping = form.form.elements.early_stopping.value;
  const features = form.inputFeatures();
  if (features) config.input_features = features.join(";");
  if (dataset) return config; // the data's own range
  config.domain = [];
  for (let d = 0; d < (form.task ? form.task.domain.length : 0); d++) {
    config.domain.push([form.form.querySelector(`#domain-${d}-lo`).value.trim(),
      form.form.querySelector(`#domain-${d}-hi`).value.trim()]);
  }
  return config;
}
