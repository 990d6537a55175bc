// Confusion matrix of the test set (rows: true class, columns: predicted class) with each
// class's accuracy (its diagonal share of its row), live. An HTML table: readable by screen
// readers and tests; the cell shading (share of the row) is never the only cue, the counts are
// written in every cell.

const el = (tag, className, text) => {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
};

export class ConfusionView {
  constructor(container) {
    this.container = container;
    this.classes = [];
    this.matrix = null;
  }

  setClasses(classes) {
    this.classes = (classes || []).map(String);
    this.matrix = null;
    this.draw();
  }

  /** `matrix`: counts, rows = true class, columns = predicted class (null: none yet). */
  setMatrix(matrix) {
    this.matrix = matrix || null;
    this.draw();
  }

  draw() {
    const n = this.classes.length;
    const table = el("table", "confusion");
    table.id = "confusion-matrix";
    table.append(el("caption", "sr-only", "Confusion matrix of the test set: rows are the true class, columns the predicted class; the last column is each class's accuracy."));
    const head = el("tr");
    head.append(el("th", "corner", "true ↓ · predicted →"));
    for (const name of this.classes) head.append(Object.assign(el("th", "", name), { scope: "col" }));
    head.append(Object.assign(el("th", "", "accuracy"), { scope: "col" }));
    const thead = el("thead");
    thead.append(head);
    table.append(thead);
    const body = el("tbody");
    for (let i = 0; i < n; i += 1) {
      const row = el("tr");
      row.append(Object.assign(el("th", "", this.classes[i]), { scope: "row" }));
      const counts = this.matrix ? this.matrix[i] : null;
      const total = counts ? counts.reduce((a, b) => a + b, 0) : 0;
      for (let j = 0; j < n; j += 1) {
        const count = counts ? counts[j] : null;
        const cell = el("td", i === j ? "hit" : (count ? "miss" : ""), count === null ? "–" : String(count));
        if (total && count) cell.style.setProperty("--share", String(count / total));
        row.append(cell);
      }
      const accuracy = total ? `${((100 * counts[i]) / total).toFixed(0)} %` : "–";
      row.append(el("td", "class-accuracy", accuracy));
      body.append(row);
    }
    table.append(body);
    this.container.replaceChildren(table);
  }
}
