// Start a run: a form made from the team's input schema (or one box), then the run page.
import { type FormEvent, useState } from "react";
import { buildInput, initialText, initialValues, inputFields } from "./runForm";
import type { JsonSchema } from "./spec";

interface Props {
  inputSchema: JsonSchema | null;
  onRun: (input: unknown) => Promise<void>;
}

export function RunDialog({ inputSchema, onRun }: Props) {
  const fields = inputFields(inputSchema);
  const [values, setValues] = useState(() => (fields ? initialValues(inputSchema, fields) : {}));
  const [text, setText] = useState(() => initialText(inputSchema));
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const set = (name: string, value: string | boolean) => setValues((v) => ({ ...v, [name]: value }));

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError("");
    let input: unknown;
    try {
      input = fields ? buildInput(fields, values) : inputSchema ? JSON.parse(text || "null") : text;
    } catch (e) {
      setError(e instanceof SyntaxError ? `The input must be JSON: ${e.message}` : (e as Error).message);
      return;
    }
    setBusy(true);
    try {
      await onRun(input);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="run-form" onSubmit={submit}>
      {fields ? (
        fields.map((field) => (
          <div className="field" key={field.name}>
            <label htmlFor={`run-${field.name}`}>
              {field.label}
              {field.required && " *"}
            </label>
            {field.type === "boolean" ? (
              <input
                id={`run-${field.name}`}
                type="checkbox"
                checked={values[field.name] === true}
                onChange={(e) => set(field.name, e.target.checked)}
              />
            ) : field.type === "select" ? (
              <select
                id={`run-${field.name}`}
                value={String(values[field.name] ?? "")}
                onChange={(e) => set(field.name, e.target.value)}
              >
                <option value="">—</option>
                {field.options.map((o) => (
                  <option key={o}>{o}</option>
                ))}
              </select>
            ) : field.type === "textarea" || field.type === "json" ? (
              <textarea
                id={`run-${field.name}`}
                rows={3}
                value={String(values[field.name] ?? "")}
                onChange={(e) => set(field.name, e.target.value)}
              />
            ) : (
              <input
                id={`run-${field.name}`}
                type={field.type === "text" ? "text" : "number"}
                value={String(values[field.name] ?? "")}
                onChange={(e) => set(field.name, e.target.value)}
              />
            )}
            {field.description && <p className="hint">{field.description}</p>}
          </div>
        ))
      ) : (
        <div className="field">
          <label htmlFor="run-input">{inputSchema ? "Input (JSON)" : "Input"}</label>
          <textarea id="run-input" rows={6} value={text} onChange={(e) => setText(e.target.value)} data-testid="run-input" />
        </div>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" className="primary" disabled={busy}>
        {busy ? "Starting…" : "Start run"}
      </button>
    </form>
  );
}
