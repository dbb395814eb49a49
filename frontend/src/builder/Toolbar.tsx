// The builder's commands. Every button is labelled for screen readers and most have a key.
import type { GalleryTemplate } from "./builderApi";
import type { Pattern } from "./spec";
import { PATTERNS } from "./spec";
import { TEMPLATES } from "./templates";

interface Props {
  /** Why the viewer may not save (their role in the team's workspace); empty when they may. */
  readOnly?: string;
  /** Why the viewer may not start runs (their role); empty when they may. */
  cannotRun?: string;
  name: string;
  pattern: Pattern;
  dirty: boolean;
  saving: boolean;
  status: string;
  canUndo: boolean;
  canRedo: boolean;
  onPattern: (pattern: Pattern) => void;
  gallery: GalleryTemplate[];
  /** A built-in starter ("starter:<index>") or a gallery template ("gallery:<slug>"). */
  onTemplate: (choice: string) => void;
  onUndo: () => void;
  onRedo: () => void;
  onLayout: () => void;
  onFit: () => void;
  onSave: () => void;
  onHistory: () => void;
  onImportExport: () => void;
  onRun: () => void;
}

export function Toolbar(props: Props) {
  return (
    <div className="toolbar" role="toolbar" aria-label="Builder">
      <h1 className="team-name">
        {props.name}
        {props.dirty && <span className="badge badge-warning" title="Unsaved changes">unsaved</span>}
      </h1>
      <label>
        Pattern{" "}
        <select
          value={props.pattern}
          onChange={(e) => props.onPattern(e.target.value as Pattern)}
          data-testid="pattern"
        >
          {PATTERNS.map((p) => (
            <option key={p} value={p}>
              {p.charAt(0).toUpperCase() + p.slice(1)}
            </option>
          ))}
        </select>
      </label>
      <label>
        Template{" "}
        <select
          value=""
          aria-label="Start from a template"
          onChange={(e) => e.target.value !== "" && props.onTemplate(e.target.value)}
        >
          <option value="">Start from…</option>
          <optgroup label="Starters">
            {TEMPLATES.map((t, i) => (
              <option key={t.label} value={`starter:${i}`}>
                {t.label}
              </option>
            ))}
          </optgroup>
          {props.gallery.length > 0 && (
            <optgroup label="Gallery">
              {props.gallery.map((t) => (
                <option key={t.slug} value={`gallery:${t.slug}`}>
                  {t.name}
                </option>
              ))}
            </optgroup>
          )}
        </select>
      </label>
      <button type="button" onClick={props.onUndo} disabled={!props.canUndo} aria-label="Undo (Ctrl+Z)" title="Undo (Ctrl+Z)">
        Undo
      </button>
      <button
        type="button"
        onClick={props.onRedo}
        disabled={!props.canRedo}
        aria-label="Redo (Ctrl+Shift+Z)"
        title="Redo (Ctrl+Shift+Z or Ctrl+Y)"
      >
        Redo
      </button>
      <button type="button" onClick={props.onLayout} aria-label="Auto-layout: arrange the nodes automatically">
        Auto-layout
      </button>
      <button type="button" onClick={props.onFit} aria-label="Fit the team in view">
        Fit
      </button>
      <button type="button" onClick={props.onImportExport} aria-label="Import/Export: import or export the team as JSON">
        Import/Export
      </button>
      <button type="button" onClick={props.onHistory} aria-label="History: show saved versions">
        History
      </button>
      <span className="status" role="status" data-testid="status" title={props.status}>
        {props.status}
      </span>
      {props.readOnly ? (
        <span className="read-only" data-testid="read-only" title={props.readOnly}>
          Read only: {props.readOnly}
          {props.cannotRun && (
            <span className="cannot-run" id="cannot-run" data-testid="cannot-run">
              {" "}No runs: {props.cannotRun}
            </span>
          )}
        </span>
      ) : (
        <button
          type="button"
          className="primary"
          onClick={props.onSave}
          disabled={props.saving}
          aria-label="Save a new version (Ctrl+S)"
          title="Save (Ctrl+S)"
        >
          {props.saving ? "Saving…" : "Save"}
        </button>
      )}
      {props.cannotRun && !props.readOnly && (
        <span className="read-only" id="cannot-run" data-testid="cannot-run">
          No runs: {props.cannotRun}
        </span>
      )}
      <button
        type="button"
        className="primary run"
        onClick={props.onRun}
        aria-label="Run the team"
        disabled={Boolean(props.cannotRun)}
        aria-describedby={props.cannotRun ? "cannot-run" : undefined}
        title={props.cannotRun || undefined}
      >
        Run
      </button>
    </div>
  );
}
