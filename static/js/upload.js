// "Upload CSV": a labelled file input (keyboard usable: it is a real, focusable input under its
// label-button) that posts the file to /api/datasets and reports the server's answer: the data
// set's summary on success, the server's line-numbered message on a 400.

import { api } from "./api.js";

const MAX_BYTES = 5 * 1024 * 1024;

function megabytes(bytes) {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
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
      const file = input.files && input.files[0];
      // Cleared at once, so choosing the same (fixed) file again uploads it again.
      if (file) this.upload(file).finally(() => { input.value = ""; });
    });
  }

  showError(message) {
    this.error.textContent = message;
    if (message) this.input.setAttribute("aria-invalid", "true");
    else this.input.removeAttribute("aria-invalid");
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
        ? `${summary.classes.length} classes` : `${summary.inputs === 2 ? "x, y" : "x"} → target`;
      this.status.textContent = `${file.name}: ${summary.n_rows.toLocaleString("en")} rows, ${what}.`;
      this.handlers.onUploaded(summary);
    } else {
      this.status.textContent = "";
      const errors = response.data && response.data.errors;
      const message = errors ? Object.values(errors).join(" ") : `HTTP ${response.status}`;
      this.showError(`${file.name}: ${message}`);
    }
  }
}
