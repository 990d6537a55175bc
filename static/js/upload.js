// "Upload CSV": a labelled file input (keyboard usable: it is a real, focusable input under its
// label-button) that posts the file to /api/datasets and reports the server's answer: the data
// set's summary on success, the server's line-numbered message on a 400. Four IDX files picked at
// once (MNIST's train and t10k images and labels) go to /api/mnist and become the task mnist.

import { api } from "./api.js";

const MAX_BYTES = 5 * 1024 * 1024;
const MAX_MNIST_BYTES = 64 * 1024 * 1024;
const IDX_NAME = /idx[13]|ubyte/i;

function megabytes(bytes) {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

/** The inputs of an upload's regression, as the note names them: a table's other columns (the
 * first few), else the x (and y) of an x,target file. */
function inputNames(summary) {
  if (!summary.columns) return summary.inputs === 2 ? "x, y" : "x";
  const names = summary.columns.map((column) => column.name).filter((name) => name !== summary.target_column);
  return names.length > 4 ? `${names.slice(0, 3).join(", ")} and ${names.length - 3} more` : names.join(", ");
}

export class UploadControl {
  /**
   * @param {HTMLInputElement} input the file input
   * @param {{onUploaded: Function}} handlers onUploaded(summary) with the 201 answer
   */
  constructor(input, handlers) {
    this.input = input;
    this.handlers = handlers;
    this.status = document.getElementById("upload-status");
    this.error = document.getElementById("error-file");
    input.addEventListener("change", () => {
      const files = Array.from(input.files || []);
      const idx = files.length > 1 || files.some((file) => IDX_NAME.test(file.name));
      const sent = idx ? this.uploadMnist(files) : (files[0] ? this.upload(files[0]) : null);
      // Cleared at once, so choosing the same (fixed) file again uploads it again.
      if (sent) sent.finally(() => { input.value = ""; });
    });
  }

  showError(message) {
    this.error.textContent = message;
    if (message) this.input.setAttribute("aria-invalid", "true");
    else this.input.removeAttribute("aria-invalid");
  }

  /** MNIST's four IDX files: the task mnist on a 201, the server's reason on a 400. */
  async uploadMnist(files) {
    this.showError("");
    const size = files.reduce((sum, file) => sum + file.size, 0);
    if (files.length !== 4 || size > MAX_MNIST_BYTES) {
      this.status.textContent = "";
      this.showError(files.length !== 4
        ? `Pick MNIST's four IDX files at once (train and t10k images and labels), not ${files.length}.`
        : `The files are too big (${megabytes(size)}; at most 64 MB in all).`);
      return;
    }
    this.status.textContent = `Uploading the four MNIST files (${megabytes(size)})…`;
    let response;
    try {
      response = await api.uploadMnist(files);
    } catch (error) {
      this.status.textContent = "";
      this.showError(`MNIST: could not reach the server (${error.message}).`);
      return;
    }
    if (response.status === 201 && response.data) {
      this.status.textContent = `MNIST: ${response.data.task.title}, ready to train.`;
      this.handlers.onUploaded(response.data);
    } else {
      this.status.textContent = "";
      const errors = response.data && response.data.errors;
      this.showError(`MNIST: ${errors ? Object.values(errors).join(" ") : `HTTP ${response.status}`}`);
    }
  }

  async upload(file) {
    this.showError("");
    if (file.size > MAX_BYTES) {
      this.status.textContent = "";
      this.showError(`${file.name}: the file is too big (${megabytes(file.size)}; at most 5 MB).`);
      return;
    }
    this.status.textContent = `Uploading ${file.name}…`;
    let response;
    try {
      response = await api.uploadDataset(file);
    } catch (error) {
      this.status.textContent = "";
      this.showError(`${file.name}: could not reach the server (${error.message}).`);
      return;
    }
    if (response.status === 201 && response.data) {
      const summary = response.data;
      const what = summary.kind === "classification"
        ? `${summary.classes.length} classes` : `${inputNames(summary)} → ${summary.target_column ?? "target"}`;
      const notes = (summary.notes ?? []).map((note) => ` ${note.charAt(0).toUpperCase()}${note.slice(1)}.`);
      this.status.textContent = `${file.name}: ${summary.n_rows.toLocaleString("en")} rows, ${what}.${notes.join("")}`;
      this.handlers.onUploaded(summary);
    } else {
      this.status.textContent = "";
      const errors = response.data && response.data.errors;
      // a 429 (this owner keeps as many uploads as one may) answers {error} naming theirs
      const message = errors ? Object.values(errors).join(" ") : response.data?.error || `HTTP ${response.status}`;
      this.showError(`${file.name}: ${message}`);
    }
  }
}
