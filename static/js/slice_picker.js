// The slice view's two inputs (tasks of more than two inputs): two selects over the task's
// input names; the other inputs are held at their training median. onChange([i, j]).

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

  set(pair) {
    if (!pair) return;
    this.selects.forEach((select, k) => { select.value = String(pair[k]); });
  }

  value() {
    return this.selects.map((select) => Number(select.value));
  }
}
