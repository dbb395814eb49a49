// Saved versions: compare two (changes highlighted on the canvas) and restore one.
import { useEffect, useState } from "react";
import { getVersion, listVersions, type VersionSummary } from "./builderApi";
import { diffSpecs, type SpecDiff } from "./diff";
import { DiffSummary } from "./DiffSummary";
import type { TeamSpec } from "./spec";

interface Props {
  teamId: number;
  refreshKey: number;
  onDiff: (diff: SpecDiff | null) => void;
  onRestore: (spec: TeamSpec, number: number) => void;
  onClose: () => void;
}

export function HistoryDrawer({ teamId, refreshKey, onDiff, onRestore, onClose }: Props) {
  const [versions, setVersions] = useState<VersionSummary[]>([]);
  const [from, setFrom] = useState<number | null>(null);
  const [to, setTo] = useState<number | null>(null);
  const [diff, setDiff] = useState<SpecDiff | null>(null);
  const [error, setError] = useState("");

  useEffect(() => {
    listVersions(teamId)
      .then((list) => {
        setVersions(list);
        setTo(list[0]?.number ?? null);
        setFrom(list[1]?.number ?? null);
      })
      .catch((e) => setError(`Could not load the versions: ${e.message}`));
  }, [teamId, refreshKey]);

  const compare = async () => {
    if (from == null || to == null) return;
    try {
      const [a, b] = await Promise.all([getVersion(teamId, from), getVersion(teamId, to)]);
      const result = diffSpecs(a.spec, b.spec);
      setDiff(result);
      onDiff(result);
    } catch (e) {
      setError(`Could not compare: ${(e as Error).message}`);
    }
  };
  const restore = async (number: number) => {
    try {
      onRestore((await getVersion(teamId, number)).spec, number);
    } catch (e) {
      setError(`Could not load version ${number}: ${(e as Error).message}`);
    }
  };
  const close = () => {
    onDiff(null);
    onClose();
  };
  const pick = (value: number | null, set: (n: number) => void, label: string) => (
    <select aria-label={label} value={value ?? ""} onChange={(e) => set(Number(e.target.value))}>
      {versions.map((v) => (
        <option key={v.number} value={v.number}>
          v{v.number}
        </option>
      ))}
    </select>
  );

  return (
    <aside className="drawer" aria-label="History" data-testid="history">
      <div className="inspector-head">
        <h2>History</h2>
        <button type="button" onClick={close} aria-label="Close history">
          ×
        </button>
      </div>
      {error && <p className="field-error">{error}</p>}
      <div className="button-row">
        Compare {pick(from, setFrom, "Older version")} with {pick(to, setTo, "Newer version")}
        <button type="button" onClick={compare} disabled={from == null || to == null}>
          Compare
        </button>
      </div>
      {diff && <DiffSummary diff={diff} />}
      <ol className="versions">
        {versions.map((v) => (
          <li key={v.number}>
            <strong>v{v.number}</strong> {v.is_valid ? "" : <span className="badge badge-warning">draft</span>}{" "}
            <time dateTime={v.created_at}>{new Date(v.created_at).toLocaleString()}</time>
            {v.message && <div className="hint">{v.message}</div>}
            <button type="button" onClick={() => restore(v.number)} aria-label={`Restore version ${v.number}`}>
              Restore
            </button>
          </li>
        ))}
      </ol>
    </aside>
  );
}
