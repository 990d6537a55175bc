// "Your name" on the runs page (issue 31): on a server with an access token every run, sweep and
// upload is shown by its owner's name; a browser is "browser 1a2b3c" until its student chooses a
// name here (PUT /api/me). The server checks the name (400 {errors: {name}}: too long, taken by
// another owner, the server's own words) and this form shows its message as is.

const $ = (id) => document.getElementById(id);

/** Fills the form from GET /api/me and saves a new name on submit; `changed` runs after a
 * save (the runs list then shows the name). Does nothing on a page without the form. */
export async function installMyName(changed) {
  const form = $("my-name-form");
  if (!form) return;
  const input = $("my-name"), note = $("my-name-note");
  const me = await fetch("/api/me").then((answer) => (answer.ok ? answer.json() : null));
  if (!me || !me.owners) return;
  input.value = me.name ?? "";
  input.placeholder = me.owner ?? "";
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const answer = await fetch("/api/me", {
      method: "PUT", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: input.value.trim() || null }),
    });
    const body = await answer.json().catch(() => ({}));
    const error = body.errors?.name ?? (answer.ok ? null : body.error ?? `HTTP ${answer.status}`);
    input.setAttribute("aria-invalid", error ? "true" : "false");
    note.classList.toggle("error", Boolean(error));
    if (error) {
      note.textContent = error;
      return;
    }
    input.value = body.name ?? "";
    input.placeholder = body.owner ?? "";
    note.textContent = body.name ? `Others see your work as “${body.name}”.`
      : `Others see your work as “${body.owner}”.`;
    changed();
  });
}
