// What the task picker offers besides the server's tasks, and the features of the inputs:
// "Your function" (task `custom`), uploads (tasks `dataset:<id>`), Playground's input features.

export const CUSTOM_ID = "custom";
export const DATASET_PREFIX = "dataset:";

/** True for the user's own tasks: a typed function or uploaded data. */
export function isOwnTask(task) {
  return task.id === CUSTOM_ID || task.id.startsWith(DATASET_PREFIX);
}

/** True when an expression uses the input y (then it is a surface z = f(x, y)). */
export function usesY(expression) {
  return (String(expression).match(/[A-Za-z_][A-Za-z_0-9]*/g) || []).includes("y");
}

export const KIND_GROUPS = [
  { label: "Curves · y = f(x)",
    match: (t) => !isOwnTask(t) && t.kind === "regression" && t.inputs === 1 },
  { label: "Surfaces · z = f(x, y)",
    match: (t) => !isOwnTask(t) && t.kind === "regression" && t.inputs === 2 },
  { label: "Classification", match: (t) => !isOwnTask(t) && t.kind === "classification" },
  { label: "Your own", match: isOwnTask },
];
// An upload's rows are the data: it takes no number of samples and no noise.
export const DATA_FIELDS = ["samples", "noise"];

// TensorFlow Playground's input features, as expressions of the app's evaluator.
export const PLAYGROUND_FEATURES = [
  { text: "x", label: "x" }, { text: "y", label: "y" },
  { text: "x**2", label: "x²" }, { text: "y**2", label: "y²" }, { text: "x*y", label: "xy" },
  { text: "sin(x)", label: "sin x" }, { text: "sin(y)", label: "sin y" },
];
export const RAW_INPUTS = { 1: ["x"], 2: ["x", "y"] };
