// The slice view's two inputs (tasks of more than two inputs): two selects over the task's
// input names; the other inputs are held at their training median. onChange([i, j]).

let plotted = null; // the pair the views' data is drawn over (`set`, `setTask`), not the pick

export class SlicePicker {
  constructor(container, { onChange }) {
    this.container = container;
    this.onChange = onChange;
    this.selects = [container.querySelector("#slice-x"), container.querySelector("#slice-y")];
    for (const select of this.selects) {
      select.addEventListener("change", () => {
        const pair = this.value();
        if (pair[0] === pair[1]) {
          this.note("Pick two different inputs.");
          return;
        }
        this.note("");
        this.onChange(pair);
      });
    }
  }

  note(text) {
    this.container.querySelector("#slice-note").textContent = text;
  }

  /** Shows the picker for `task` (hidden unless it has more than two inputs). */
  setTask(task, pair) {
    const names = task.input_names || [];
    this.container.hidden = !(task.inputs > 2 && names.length === task.inputs);
    if (this.container.hidden) return;
    for (const select of this.selects) {
      select.replaceChildren(...names.map((name, k) => new Option(name, String(k))));
    }
    this.set(pair || task.slice_features || [0, 1]);
  }

  /** Shows `pair`: the slice of the data the views draw (a preview's, a run's snapshot's). A
   * pick the user makes applies to the next run (or the live one, whose snapshot follows). */
  set(pair) {
    if (!pair) return;
    plotted = pair.slice();
    this.selects.forEach((select, k) => { select.value = String(pair[k]); });
  }

  value() {
    return this.selects.map((select) => Number(select.value));
  }
}

/**
 * The names of the two inputs a 2-D view plots (its axis titles): for a task of more than two
 * inputs, the slice its data is drawn over (the last `SlicePicker.set`: a run's or the preview's,
 * else the task's `slice_features`); for a task of two, its own names (an upload's columns, or
 * x and y). A fresh user's slice over height and width read "x" and "y".
 */
export function plottedNames(task) {
  const names = task?.input_names ?? [];
  if (names.length < 2) return ["x", "y"];
  if (names.length === 2) return names.slice();
  const pair = plotted ?? task.slice_features ?? [0, 1];
  return pair.map((k) => names[k] ?? "");
}
