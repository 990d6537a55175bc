// The run config's JSON Schema (GET /api/schema) read for the form: its fields, choices, limits,
// defaults and help, which fields a running run takes ("live") and which optimizers use a field.
// The page holds no copy of them.

// One line of help per field the schema does not describe as the page needs it.
const EXTRA_HELP = {
  l1: " The loss chart shows the data loss, without this penalty.",
  weight_decay: " The loss chart shows the data loss, without this penalty.",
  schedule: " Step: ×0.5 every 100 epochs; exponential: ×0.99 per epoch; inverse: (1 + 0.001·epoch)^-0.75; cosine: down to 0 over the run.",
  hidden: " Each layer: type its neurons, × removes it.",
  domain: " Where the samples are drawn (and the fit is drawn).",
  input_features: " Toggle Playground's seven or type your own.",
};
// JSON Schema extensions of /api/schema (app/schema.py): a noise limit for classification tasks
// only; true on the fields a running run takes (PATCH); the optimizers that use a field.
const CLASSIFICATION_MAXIMUM = "x-classificationMaximum";
const LIVE = "x-live";
const OPTIMIZERS_USING = "x-optimizers";

function formatLimit(value) {
  return Number(value).toLocaleString("en-US", { maximumFractionDigits: 6 });
}

/** The limits in words: "from 1 to 100,000", "above 0 and at most 10", "0 or more". */
export function rangeText({ min, max, above, below }) {
  const low = min !== undefined ? `from ${formatLimit(min)}`
    : above !== undefined ? `above ${formatLimit(above)}` : "";
  if (max !== undefined) {
    return min !== undefined ? `${low} to ${formatLimit(max)}`
      : `${low}${low ? " and " : ""}at most ${formatLimit(max)}`;
  }
  if (below !== undefined) return `${low}${low ? " up to (not including) " : "below "}${formatLimit(below)}`;
  return min !== undefined ? `of ${formatLimit(min)} or more` : low;
}

/** The run config's JSON Schema (GET /api/schema): each field's choices, limits and help. */
export class ConfigSchema {
  /** @param {object|null} schema the JSON Schema (null when it could not be loaded) */
  constructor(schema) {
    this.properties = (schema && schema.properties) || {};
  }

  /** A field's schema; a nullable field's (anyOf [..., {type: "null"}]) other branch merged in. */
  field(name) {
    const property = this.properties[name] || {};
    const branch = (property.anyOf || []).find((s) => s.type && s.type !== "null");
    return branch ? { ...property, ...branch } : property;
  }

  /** The names a choice field accepts (its `enum`). */
  choices(name) {
    return this.field(name).enum || [];
  }

  /** Every field's name, in the schema's order. */
  names() {
    return Object.keys(this.properties);
  }

  /** True when the field may be null (an `anyOf` branch of type null). */
  isNullable(name) {
    return (this.properties[name]?.anyOf || []).some((branch) => branch.type === "null");
  }

  /** True for a number field (whole or not, nullable or not). */
  isNumber(name) {
    return ["number", "integer"].includes(this.field(name).type);
  }

  /** The fields typed as a number in an input of the form: the numbers that cannot be null. */
  numberFields() {
    return this.names().filter((name) => this.isNumber(name) && !this.isNullable(name));
  }

  /** The fields picked from a list (a select): those of an `enum` that cannot be null. */
  choiceFields() {
    return this.names().filter((name) => this.choices(name).length && !this.isNullable(name));
  }

  /** True when a running run takes the field at once (PATCH /api/runs/<id>). */
  isLive(name) {
    return this.properties[name]?.[LIVE] === true;
  }

  /** The fields a running run takes at once; the others wait for the next run. */
  liveFields() {
    return this.names().filter((name) => this.isLive(name));
  }

  /** The fields only some optimizers use (e.g. momentum: SGD and RMSprop, not Adam). */
  optimizerFields() {
    return this.names().filter((name) => Array.isArray(this.properties[name][OPTIMIZERS_USING]));
  }

  /** True when a run of `optimizer` uses the field (every optimizer, unless the schema says). */
  usedBy(name, optimizer) {
    const only = this.properties[name]?.[OPTIMIZERS_USING];
    return !Array.isArray(only) || only.includes(optimizer);
  }

  /** Every declared default: {field: value} (the task's own defaults take precedence). */
  defaults() {
    const defaults = {};
    for (const [name, property] of Object.entries(this.properties)) {
      if ("default" in property) defaults[name] = property.default;
    }
    return defaults;
  }

  isInteger(name) {
    return this.field(name).type === "integer";
  }

  /** {min, max, above, below} of a number field (`classification`: with that kind's limits). */
  limits(name, { classification = false } = {}) {
    const s = this.field(name);
    const limits = { min: s.minimum, max: s.maximum, above: s.exclusiveMinimum, below: s.exclusiveMaximum };
    if (classification && s[CLASSIFICATION_MAXIMUM] !== undefined) {
      limits.max = Math.min(limits.max ?? Infinity, s[CLASSIFICATION_MAXIMUM]);
    }
    return limits;
  }

  /** "" when the number `value` is within the field's limits, else a message saying them. */
  check(name, value, options) {
    const { min, max, above, below } = this.limits(name, options);
    const inside = !(value < min || value > max || value <= above || value >= below);
    if (inside) return "";
    const kind = this.isInteger(name) ? "a whole number" : "a number";
    return `Use ${kind} ${rangeText({ min, max, above, below })}.`;
  }

  /** Gives a number input its field's min, max, step and help (as a tooltip). */
  applyTo(input, name) {
    const s = this.field(name);
    const low = s.minimum ?? s.exclusiveMinimum;
    const high = s.maximum ?? s.exclusiveMaximum;
    if (low !== undefined) input.min = String(low);
    if (high !== undefined) input.max = String(high);
    input.step = this.isInteger(name) ? "1" : "any";
    if (s.description) input.title = s.description;
  }

  /** The one-line help of a field: its schema description. */
  help(name) {
    return (this.field(name).description || "") + (EXTRA_HELP[name] || "");
  }
}
