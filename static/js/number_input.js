// Number fields that read what people type: a decimal point or a decimal comma (0,001 is
// 0.001, as a German keyboard writes it), and refuse with a message what could be read two ways
// (1,000: one thousand or one?) or not at all. Never a silently different number: Chromium's
// <input type=number> drops the comma of "0,001" and answers 1 (in an en-US or de-DE browser
// alike), so the fields are text inputs with a decimal keyboard (`decimalFields`).

const PLAIN = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;
const COMMA = /^([+-]?)(\d*),(\d+)((?:e[+-]?\d+)?)$/i;

/**
 * Reads `text` as a number: {value, problem}. `value` is NaN when `text` is empty or refused;
 * `problem` says why a refused text is not read ("" when it is simply not a number or empty).
 */
export function parseDecimal(text) {
  const typed = String(text ?? "").trim();
  if (typed === "") return { value: NaN, problem: "" };
  if (PLAIN.test(typed)) return { value: Number(typed), problem: "" };
  const comma = COMMA.exec(typed);
  if (comma) {
    const [, sign, whole, fraction, exponent] = comma;
    // "1,000" or "12,500": a thousands separator as likely as a decimal comma
    if (fraction.length === 3 && /^[1-9]\d{0,2}$/.test(whole) && !exponent) {
      return { value: NaN, problem: `${typed} can be read two ways: write ${sign}${whole}${fraction} or ${sign}${whole}.${fraction}.` };
    }
    return { value: Number(`${sign}${whole || "0"}.${fraction}${exponent}`), problem: "" };
  }
  if (/^[+-]?[\d.,\s']+(?:e[+-]?\d+)?$/i.test(typed)) {
    return { value: NaN, problem: `Write ${typed} with one decimal mark (0.001 or 0,001) and no thousands separators.` };
  }
  return { value: NaN, problem: "" };
}

/** The number in `input` (NaN when empty or refused, see `parseDecimal`). */
export function readNumber(input) {
  return parseDecimal(input.value).value;
}

/** Why `input`'s text is refused as a number ("" when it is read, empty or plainly no number). */
export function numberProblem(input) {
  return parseDecimal(input.value).problem;
}

/** Makes `input` (an <input type=number>) a text field with a decimal (or numeric) keyboard. */
export function asDecimalField(input) {
  if (input.type !== "number") return;
  const whole = input.step === "1";
  input.type = "text";
  input.inputMode = whole ? "numeric" : "decimal";
  input.spellcheck = false;
  input.autocomplete = "off";
  input.dataset.number = whole ? "integer" : "decimal";
}

/** Every number input under `root`, now and added later, becomes a decimal text field. */
export function decimalFields(root) {
  const convert = (node) => {
    if (!(node instanceof Element)) return;
    if (node.matches("input[type=number]")) asDecimalField(node);
    for (const input of node.querySelectorAll("input[type=number]")) asDecimalField(input);
  };
  convert(root);
  const observer = new MutationObserver((records) => {
    for (const record of records) {
      if (record.type === "attributes") convert(record.target);
      for (const node of record.addedNodes) convert(node);
    }
  });
  observer.observe(root, { childList: true, subtree: true, attributes: true, attributeFilter: ["type"] });
  return observer;
}
