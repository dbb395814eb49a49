// The JSON fields of the inspector. The CodeMirror editor behind them is loaded on first use
// (a chunk of its own), so the builder's first script stays small; until it arrives the field
// shows its JSON read-only, labelled as it will be.
import { lazy, Suspense } from "react";
import type { JsonEditorProps } from "./CodeJsonEditor";

const CodeJsonEditor = lazy(() => import("./CodeJsonEditor"));

export function JsonEditor(props: JsonEditorProps) {
  return (
    <Suspense fallback={<Loading {...props} />}>
      <CodeJsonEditor {...props} />
    </Suspense>
  );
}

function Loading({ label, value }: JsonEditorProps) {
  return (
    <div className="field" aria-busy="true">
      <label>{label}</label>
      <pre className="json-editor code-editor is-loading">{value == null ? "" : JSON.stringify(value, null, 2)}</pre>
    </div>
  );
}
