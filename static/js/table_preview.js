// An uploaded table before training: its first rows with each column's type, the target picker
// and the feature checkboxes. fields() gives the run config's target_column and feature_columns
// (null when they are the table's defaults); kind() the kind the chosen target trains as.

const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

export class TablePreview {
  constructor(container, { onChange }) {
    this.container = container;
    this.onChange = onChange;
    this.table = null;
    this.target = container.querySelector("#target_column");
    this.features = container.querySelector("#feature-columns");
    this.rows = container.querySelector("#table-rows");
    this.notes = container.querySelector("#table-notes");
    this.target.addEventListener("change", () => {
      this.drawFeatures();
      this.onChange();
    });
    this.features.addEventListener("change", () => this.onChange());
  }

  hide() {
    this.table = null;
    this.container.hidden = true;
  }

  /** `table`: {columns: [{name, type, distinct, missing, target_kind}], target_column, head,
   * notes}. */
  show(table, chosen = {}) {
    this.table = table;
    this.container.hidden = false;
    const usable = table.columns.filter((c) => c.target_kind);
    this.target.replaceChildren(...usable.map((c) => new Option(
      `${c.name} (${c.target_kind === "classification" ? `${c.distinct} classes` : "regression"})`, c.name)));
    this.target.value = chosen.target_column || table.target_column;
    this.drawFeatures(chosen.feature_columns);
    this.drawRows();
    // what reading the file changed (a pandas index dropped): said where the rows are shown
    const notes = table.notes ?? [];
    this.notes.textContent = notes.map((note) => note.charAt(0).toUpperCase() + note.slice(1) + ".").join(" ");
    this.notes.hidden = notes.length === 0;
  }

  drawFeatures(checked = null) {
    const target = this.target.value;
    const boxes = this.table.columns.filter((c) => c.name !== target).map((c) => {
      const label = el("label", "check");
      const box = el("input");
      box.type = "checkbox";
      box.value = c.name;
      box.checked = checked ? checked.includes(c.name) : true;
      label.append(box, ` ${c.name}`);
      return label;
    });
    this.features.replaceChildren(...boxes);
  }

  drawRows() {
    const table = el("table", "table-rows");
    table.append(el("caption", "sr-only", "The first rows of your table, each column with its type."));
    const head = el("tr");
    for (const c of this.table.columns) {
      const th = el("th");
      th.scope = "col";
      th.append(el("span", "column-name", c.name), el("span", `column-type ${c.type}`,
        `${c.type}${c.type === "category" ? ` · ${c.distinct}` : ""}${c.missing ? ` · ${c.missing} missing` : ""}`));
      head.append(th);
    }
    const thead = el("thead");
    thead.append(head);
    table.append(thead);
    const body = el("tbody");
    for (const cells of this.table.head) {
      const row = el("tr");
      for (const cell of cells) row.append(el("td", "", cell));
      body.append(row);
    }
    table.append(body);
    this.rows.replaceChildren(table);
  }

  /** The run config fields of the current choice (null: the table's default). */
  fields() {
    if (!this.table) return {};
    const target = this.target.value;
    const all = this.table.columns.filter((c) => c.name !== target).map((c) => c.name);
    const chosen = [...this.features.querySelectorAll("input:checked")].map((box) => box.value);
    return {
      target_column: target === this.table.target_column ? null : target,
      feature_columns: chosen.length === all.length ? null : chosen,
    };
  }

  /** The kind the chosen target trains as. */
  kind() {
    const column = this.table && this.table.columns.find((c) => c.name === this.target.value);
    return column ? column.target_kind : null;
  }
}
