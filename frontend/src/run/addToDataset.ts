// "Add to dataset" on a run page: which dataset the run goes into (one of the workspace's or a
// new one), checked before anything is sent, and the API's refusal in its own words.
import { ApiError } from "../lib/api";

export interface DatasetSummary {
  id: number;
  name: string;
  version: number;
  items: number;
}

/** The choice in the form: a dataset's id, or "new" with the name typed for it. */
export type Target = { kind: "existing"; id: number } | { kind: "new"; name: string };

export const NEW_DATASET = "new";

/** Whether the run page offers "Add to dataset": a succeeded run (it has an output to
 * expect), a role that may change datasets (``cannot`` empty), and a known workspace. */
export function canAddToDataset(status: string, cannot: string | undefined, workspace: string): boolean {
  return status === "succeeded" && !cannot && workspace !== "";
}

/** What the select starts on: the newest dataset when there is one, else a new one. */
export function initialChoice(datasets: DatasetSummary[]): string {
  return datasets.length > 0 ? String(datasets[0].id) : NEW_DATASET;
}

export function suggestedName(teamName: string): string {
  return `${teamName} cases`.slice(0, 200);
}

/** The target the form's fields say, or why they do not say one. */
export function parseTarget(
  choice: string,
  name: string,
  datasets: DatasetSummary[],
): { ok: true; target: Target } | { ok: false; error: string } {
  if (choice === NEW_DATASET) {
    const trimmed = name.trim();
    if (!trimmed) return { ok: false, error: "Give the new dataset a name." };
    if (trimmed.length > 200) return { ok: false, error: "A dataset's name has at most 200 characters." };
    return { ok: true, target: { kind: "new", name: trimmed } };
  }
  const id = Number(choice);
  if (!datasets.some((d) => d.id === id)) return { ok: false, error: "Choose a dataset." };
  return { ok: true, target: { kind: "existing", id } };
}

/** The API's reason (its detail and each problem's message), or a sentence about the network. */
export function datasetError(err: unknown): string {
  if (!(err instanceof ApiError)) return "The server could not be reached. Check your connection and try again.";
  const body = (err.body && typeof err.body === "object" ? err.body : {}) as {
    detail?: unknown;
    problems?: { message?: string }[];
  };
  const problems = (body.problems ?? []).map((p) => p.message).filter(Boolean);
  const detail = typeof body.detail === "string" ? body.detail : "";
  return [detail, ...problems].filter(Boolean).join(" ") || `The server refused (${err.status}).`;
}
