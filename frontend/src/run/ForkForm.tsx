import { useEffect, useState } from "react";
import { api, ApiError } from "../lib/api";
import { asText } from "./feed";
import { forkRequest, inputForEditing, parseForkInput } from "./timeTravel";
import type { RunSummary } from "./types";

interface Version {
  number: number;
  is_valid: boolean;
  message: string;
}

interface Props {
  run: RunSummary;
  /** Keep the run's events up to this one; 0 starts over with nothing recorded. */
  fromSeq: number;
  label: string;
  onClose: () => void;
}

/** What the API said was wrong, problems included, in its words. */
function forkError(err: unknown): string {
  if (err instanceof ApiError && err.body && typeof err.body === "object") {
    const body = err.body as { detail?: unknown; problems?: { message?: string }[] };
    const problems = (body.problems ?? []).map((p) => p.message).filter(Boolean);
    return [asText(body.detail), ...problems].filter(Boolean).join(" ");
  }
  return "The server could not be reached. Check your connection and try again.";
}

/** Fork a finished run from one of its events: edit the input, pick another version, run. */
export function ForkForm({ run, fromSeq, label, onClose }: Props) {
  const [text, setText] = useState(() => inputForEditing(run.input));
  const [versions, setVersions] = useState<Version[]>([]);
  const [version, setVersion] = useState<number | null>(run.team_version);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (run.team_id === null) return;
    api<Version[]>("GET", `/teams/${run.team_id}/versions`)
      .then(setVersions)
      .catch(() => setVersions([])); // the team's own version stays the choice
  }, [run.team_id]);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const parsed = parseForkInput(text, run.input);
    if (!parsed.ok) return setError(parsed.error);
    setBusy(true);
    setError(null);
    try {
      const body = forkRequest(fromSeq, parsed, run.input, version, run.team_version);
      const created = await api<RunSummary>("POST", `/runs/${run.id}/fork`, body);
      window.location.assign(`/runs/${created.id}/`);
    } catch (err) {
      setError(forkError(err));
      setBusy(false);
    }
  };

  return (
    <form className="fork-form" role="dialog" aria-label="Fork the run" onSubmit={submit}>
      <h3>{label}</h3>
      <p className="muted">
        {fromSeq > 0
          ? `The new run keeps what this run recorded up to event #${fromSeq} and goes on from there.`
          : "The new run starts over, calling the models and tools again."}
      </p>
      <label>
        Input
        <textarea value={text} onChange={(e) => setText(e.target.value)} rows={5} spellCheck={false} />
      </label>
      {versions.length > 0 && (
        <label>
          Team version
          <select value={version ?? ""} onChange={(e) => setVersion(Number(e.target.value))}>
            {versions.map((v) => (
              <option key={v.number} value={v.number} disabled={!v.is_valid}>
                v{v.number}
                {v.message ? ` · ${v.message}` : ""}
                {v.number === run.team_version ? " (this run's)" : ""}
                {v.is_valid ? "" : " (has problems)"}
              </option>
            ))}
          </select>
        </label>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? "Starting…" : "Run the fork"}
        </button>
        <button type="button" onClick={onClose}>
          Cancel
        </button>
      </div>
    </form>
  );
}
