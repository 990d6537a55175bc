// Image tasks: a grid of test images with the predicted label (wrong ones marked ✗ and framed),
// and the first hidden layer's weights drawn as images (one per unit, blue positive, orange
// negative), both live. Small canvases, each with a text caption.

function drawGray(canvas, pixels, [rows, cols]) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(cols, rows);
  for (let k = 0; k < rows * cols; k += 1) {
    const v = 255 - Math.round(255 * Math.min(1, Math.max(0, pixels[k] ?? 0)));
    image.data.set([v, v, v, 255], 4 * k);
  }
  ctx.putImageData(image, 0, 0);
}

function drawWeights(canvas, weights, [rows, cols]) {
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(cols, rows);
  const scale = Math.max(1e-12, ...weights.map((w) => Math.abs(w ?? 0)));
  for (let k = 0; k < rows * cols; k += 1) {
    const t = (weights[k] ?? 0) / scale; // -1 .. 1
    // white at 0, blue (0, 114, 178) for positive, orange (230, 159, 0) for negative
    const [r, g, b] = t >= 0 ? [0, 114, 178] : [230, 159, 0];
    const a = Math.abs(t);
    image.data.set([255 + (r - 255) * a, 255 + (g - 255) * a, 255 + (b - 255) * a, 255], 4 * k);
  }
  ctx.putImageData(image, 0, 0);
}

function tile(shape, caption, className) {
  const figure = document.createElement("figure");
  figure.className = className;
  const canvas = document.createElement("canvas");
  [canvas.height, canvas.width] = shape;
  canvas.setAttribute("aria-hidden", "true");
  const text = document.createElement("figcaption");
  text.textContent = caption;
  figure.append(canvas, text);
  return figure;
}

export class ImageGrid {
  constructor(imagesEl, weightsEl) {
    this.imagesEl = imagesEl;
    this.weightsEl = weightsEl;
    this.images = null;
    this.classes = [];
  }

  /** `images`: {shape, pixels, labels} of a snapshot; `classes`: the class names. */
  setImages(images, classes) {
    this.images = images || null;
    this.classes = classes || [];
    this.imagesEl.replaceChildren();
    this.weightsEl.replaceChildren();
    if (!images) return;
    images.pixels.forEach((pixels, k) => {
      const figure = tile(images.shape, `true ${this.name(images.labels[k])}`, "digit");
      figure.dataset.index = String(k);
      drawGray(figure.querySelector("canvas"), pixels, images.shape);
      this.imagesEl.append(figure);
    });
  }

  name(label) {
    return this.classes[label] ?? String(label);
  }

  /** The predicted labels of the test points shown (the images are the first ones). */
  setPredicted(predicted) {
    if (!this.images || !predicted) return;
    for (const figure of this.imagesEl.children) {
      const k = Number(figure.dataset.index);
      const truth = this.images.labels[k];
      const guess = predicted[k];
      const wrong = guess !== truth;
      figure.classList.toggle("wrong", wrong);
      figure.querySelector("figcaption").textContent = wrong
        ? `✗ ${this.name(guess)} (is ${this.name(truth)})` : `✓ ${this.name(guess)}`;
    }
  }

  /** Each hidden unit's incoming weights (flat, one image each). */
  setFirstLayer(units) {
    if (!this.images || !units) return;
    const shape = this.images.shape;
    if (this.weightsEl.children.length !== units.length) {
      this.weightsEl.replaceChildren(...units.map((_, k) => tile(shape, `unit ${k + 1}`, "unit")));
    }
    units.forEach((weights, k) => drawWeights(this.weightsEl.children[k].querySelector("canvas"), weights, shape));
  }
}
