// Export the canvas as TeamSpec JSON (file or clipboard) and import one (file or paste).
import { type ChangeEvent, useState } from "react";
import { readSpec } from "./importSpec";
import type { TeamSpec } from "./spec";

interface Props {
  spec: TeamSpec;
  teamId: number;
  onImport: (spec: TeamSpec) => void;
}

export function ImportExport({ spec, teamId, onImport }: Props) {
  const [text, setText] = useState("");
  const [message, setMessage] = useState("");
  const json = JSON.stringify(spec, null, 2);
  const fileName = `${spec.name.replace(/[^A-Za-z0-9_-]+/g, "-").toLowerCase() || "team"}.json`;

  const download = () => {
    const url = URL.createObjectURL(new Blob([json], { type: "application/json" }));
    const link = Object.assign(document.createElement("a"), { href: url, download: fileName });
    link.click();
    URL.revokeObjectURL(url);
  };
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(json);
      setMessage("Copied the team's JSON to the clipboard.");
    } catch {
      setText(json);
      setMessage("The browser refused the clipboard: the JSON is in the box below, copy it from there.");
    }
  };
  const load = (source: string) => {
    try {
      onImport(readSpec(source));
    } catch (e) {
      setMessage((e as Error).message);
    }
  };
  const chooseFile = async (event: ChangeEvent<HTMLInputElement>) => {
    const file = event.target.files?.[0];
    if (file) load(await file.text());
  };

  return (
    <div className="import-export">
      <h3>Export</h3>
      <p className="button-row">
        <button type="button" onClick={download} data-testid="export-file">
          Download JSON
        </button>
        <button type="button" onClick={copy}>
          Copy JSON
        </button>
        <a href={`/api/teams/${teamId}/export`}>Saved version with nested teams inlined</a>
      </p>
      <h3>Import</h3>
      <p className="hint">Replaces the canvas (undo brings it back); save to keep it.</p>
      <label className="field">
        From a file <input type="file" accept="application/json,.json" onChange={chooseFile} data-testid="import-file" />
      </label>
      <div className="field">
        <label htmlFor="import-text">Or paste JSON</label>
        <textarea id="import-text" rows={8} value={text} onChange={(e) => setText(e.target.value)} spellCheck={false} />
      </div>
      <button type="button" onClick={() => load(text)} disabled={!text.trim()}>
        Import pasted JSON
      </button>
      {message && (
        <p className="field-error" role="status">
          {message}
        </p>
      )}
    </div>
  );
}
