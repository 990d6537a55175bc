// Previews of the task before training: POST /api/preview, debounced while the user types, and
// only the answer to the latest request counts (an older answer arriving late is dropped).

import { api } from "./api.js";

export class Previewer {
  /**
   * @param {{onResult: Function, onErrors: Function}} handlers
   *   onResult(answer, body) with the 200 answer; onErrors(errors, body) with a 400's errors.
   */
  constructor(handlers, delay = 250) {
    this.handlers = handlers;
    this.delay = delay;
    this.timer = null;
    this.sequence = 0;
    this.stats = { requests: 0, results: 0, errors: 0 };
  }

  /** Asks for a preview of `body` after the debounce delay (`now`: at once). */
  request(body, { now = false } = {}) {
    clearTimeout(this.timer);
    this.sequence += 1; // anything already on its way is now stale
    const sequence = this.sequence;
    this.timer = setTimeout(() => this.send(body, sequence), now ? 0 : this.delay);
  }

  /** Drops a pending request and any answer still on its way. */
  cancel() {
    clearTimeout(this.timer);
    this.sequence += 1;
  }

  async send(body, sequence) {
    this.stats.requests += 1;
    let response;
    try {
      response = await api.preview(body);
    } catch {
      return; // the server is unreachable: the connection banner says so
    }
    if (sequence !== this.sequence) return;
    if (response.ok && response.data) {
      this.stats.results += 1;
      this.handlers.onResult(response.data, body);
    } else if (response.data && response.data.errors) {
      this.stats.errors += 1;
      this.handlers.onErrors(response.data.errors, body);
    }
  }
}
