// The views of tasks of many inputs and of images, in one card: the test images with their
// predicted labels and the first layer's weights (image tasks), the confusion matrix
// (classification), predicted vs actual (regression) and the test set projected on its two
// principal components, coloured by the prediction (more than two inputs). Which parts show
// depends on the task; all follow the run live (snapshot, then frames). For a task of more than
// two inputs the card comes first, above the fit's slice through two inputs (which shows little
// of such a task: the other inputs held at their median).

import { ConfusionView } from "./confusion_view.js";
import { ImageGrid } from "./image_grid.js";
import { ProjectionView } from "./projection_view.js";
import { ScatterView } from "./scatter_view.js";

const last = (values) => (values && values.length ? values[values.length - 1] : undefined);

export class Insight {
  constructor(card) {
    this.card = card;
    this.parts = {
      confusion: card.querySelector("#confusion-part"),
      scatter: card.querySelector("#scatter-part"),
      images: card.querySelector("#images-part"),
      projection: card.querySelector("#projection-part"),
    };
    this.projection = new ProjectionView(card.querySelector("#projection-view"),
      card.querySelector("#projection-caption"));
    this.confusion = new ConfusionView(card.querySelector("#confusion-view"));
    this.scatter = new ScatterView(card.querySelector("#scatter-view"));
    this.images = new ImageGrid(card.querySelector("#image-grid"), card.querySelector("#first-layer"));
    this.task = null;
  }

  /** Shows the parts that fit `task` (none: the card is hidden). */
  setTask(task) {
    this.task = task;
    const many = task.inputs > 2 || String(task.id).startsWith("dataset:");
    const classifies = task.kind === "classification";
    this.parts.confusion.hidden = !(classifies && many);
    this.parts.scatter.hidden = !(!classifies && many);
    this.parts.images.hidden = !task.image_shape;
    this.parts.projection.hidden = !(task.inputs > 2);
    // (a regression's points are coloured by the value predicted: projection_view.js)
    this.card.querySelector("#projection-colour").textContent = classifies ? "predicted class" : "predicted value";
    this.card.hidden = Object.values(this.parts).every((part) => part.hidden);
    const fit = document.querySelector(".fit-card");
    if (fit && task.inputs > 2) fit.before(this.card); // what teaches comes first
    else if (fit) fit.after(this.card);
    this.card.classList.toggle("leading", task.inputs > 2);
    this.clear();
  }

  clear() {
    if (!this.task) return;
    this.confusion.setClasses(this.task.classes || []);
    this.scatter.setActual([]);
    this.images.setImages(null);
    this.projection.setProjection(null, null, this.task.classes || []);
  }

  setSnapshot(snapshot) {
    if (this.card.hidden) return;
    const task = snapshot.task || this.task;
    if (!this.parts.confusion.hidden) {
      this.confusion.setClasses(task.classes || []);
      this.confusion.setMatrix(snapshot.confusion);
    }
    if (!this.parts.scatter.hidden) {
      const test = (snapshot.data && snapshot.data.test) || {};
      this.scatter.setActual(test.z || test.y || []);
      this.scatter.setPredicted(snapshot.test_predicted, last(snapshot.history && snapshot.history.test_r2));
    }
    if (!this.parts.projection.hidden) {
      const test = (snapshot.data && snapshot.data.test) || {};
      const truth = task.kind === "classification" ? test.label : (test.z || test.y);
      this.projection.setProjection(snapshot.data && snapshot.data.projection, truth,
        task.kind === "classification" ? task.classes || [] : []);
      this.projection.setPredicted(snapshot.test_predicted);
    }
    if (!this.parts.images.hidden) {
      this.images.setImages(snapshot.images, task.classes);
      this.images.setPredicted(snapshot.test_predicted);
      this.images.setFirstLayer(snapshot.first_layer);
    }
  }

  setFrame(frame) {
    if (this.card.hidden) return;
    if (!this.parts.confusion.hidden && frame.confusion) this.confusion.setMatrix(frame.confusion);
    if (!this.parts.scatter.hidden) {
      this.scatter.setPredicted(frame.test_predicted, last(frame.history && frame.history.test_r2));
    }
    if (!this.parts.projection.hidden) this.projection.setPredicted(frame.test_predicted);
    if (!this.parts.images.hidden) {
      this.images.setPredicted(frame.test_predicted);
      this.images.setFirstLayer(frame.first_layer);
    }
  }

  render() {
    const scatter = this.parts.scatter.hidden ? false : this.scatter.render();
    const projection = this.parts.projection.hidden ? false : this.projection.render();
    return scatter || projection;
  }

  retheme() {
    this.scatter.retheme();
    this.projection.dirty = true;
  }
}
