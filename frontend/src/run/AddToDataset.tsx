import { useEffect, useState } from "react";
import { api } from "../lib/api";
import {
  datasetError,
  type DatasetSummary,
  initialChoice,
  NEW_DATASET,
  parseTarget,
  suggestedName,
} from "./addToDataset";

interface Props {
  runId: string;
  teamName: string;
  /** The run's workspace: its datasets are the ones offered. */
  workspace: string;
  onClose: () => void;
}

/** Put a succeeded run into a dataset of its workspace (an existing one or a new one): its
 * input becomes the item's input and its output the expected one. */
export function AddToDataset({ runId, teamName, workspace, onClose }: Props) {
  const [datasets, setDatasets] = useState<DatasetSummary[] | null>(null);
  const [choice, setChoice] = useState(NEW_DATASET);
  const [name, setName] = useState(suggestedName(teamName));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [added, setAdded] = useState<{ id: number; name: string } | null>(null);

  useEffect(() => {
    api<DatasetSummary[]>("GET", `/datasets?workspace=${encodeURIComponent(workspace)}`)
      .then((found) => {
        setDatasets(found);
        setChoice(initialChoice(found));
      })
      .catch((err) => {
        setDatasets([]);
        setError(datasetError(err));
      });
  }, [workspace]);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const parsed = parseTarget(choice, name, datasets ?? []);
    if (!parsed.ok) return setError(parsed.error);
    setBusy(true);
    setError(null);
    try {
      const chosen = parsed.target;
      const target =
        chosen.kind === "new"
          ? await api<DatasetSummary>("POST", "/datasets", { name: chosen.name, workspace })
          : { id: chosen.id, name: (datasets ?? []).find((d) => d.id === chosen.id)?.name ?? "" };
      await api("POST", `/datasets/${target.id}/items/from-runs`, { run_ids: [runId] });
      setAdded({ id: target.id, name: target.name });
    } catch (err) {
      setError(datasetError(err));
    }
    setBusy(false);
  };

  if (added) {
    return (
      <div className="fork-form" role="status" data-testid="added-to-dataset">
        <p>
          Added to <a href={`/datasets/${added.id}/`}>{added.name}</a>: the run's input is the item's input, its output
          the expected one.
        </p>
        <div className="actions">
          <button type="button" onClick={onClose}>Close</button>
        </div>
      </div>
    );
  }
  return (
    <form className="fork-form" role="dialog" aria-label="Add the run to a dataset" onSubmit={submit}>
      <h3>Add to a dataset</h3>
      <p className="muted">The run's input becomes a test case, and its output the answer expected of the team.</p>
      <label>
        Dataset
        <select value={choice} onChange={(e) => setChoice(e.target.value)} disabled={datasets === null}>
          {(datasets ?? []).map((d) => (
            <option key={d.id} value={d.id}>
              {d.name} ({d.items} items)
            </option>
          ))}
          <option value={NEW_DATASET}>A new dataset…</option>
        </select>
      </label>
      {choice === NEW_DATASET && (
        <label>
          Name of the new dataset
          <input type="text" value={name} maxLength={200} onChange={(e) => setName(e.target.value)} />
        </label>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy || datasets === null}>
          {busy ? "Adding…" : "Add the run"}
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}
