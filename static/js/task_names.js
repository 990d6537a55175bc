// What the runs page calls a run's task: its id, except for uploaded data (`dataset:<id>`),
// which is listed by the uploaded file's name (GET /api/datasets/<id>, asked once per data set).

const DATASET_PREFIX = "dataset:";
const names = new Map(); // dataset task id -> file name (null: none known)

/** The label of task `taskId`: an upload's file name once known, else the id itself. */
export function taskLabel(taskId) {
  return names.get(taskId) || taskId;
}

/** Asks for the names of the uploads among `taskIds` not asked yet; true when one arrived. */
export async function loadTaskNames(taskIds) {
  const missing = [...new Set(taskIds)].filter((id) => id?.startsWith(DATASET_PREFIX) && !names.has(id));
  const found = await Promise.all(missing.map(async (id) => {
    names.set(id, null);
    try {
      const answer = await fetch(`/api/datasets/${encodeURIComponent(id.slice(DATASET_PREFIX.length))}`);
      const summary = answer.ok ? await answer.json() : null;
      names.set(id, summary?.name || null);
    } catch {
      return false;
    }
    return Boolean(names.get(id));
  }));
  return found.some(Boolean);
}
